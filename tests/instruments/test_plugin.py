"""A plugin package installed with pip is discovered through the entry-point group."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "plugin-template"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("plugin-src") / "plugin"
    shutil.copytree(TEMPLATE, src)
    target = tmp_path_factory.mktemp("plugin-site")
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(target), str(src)], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    return target


def _run(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=120)


def test_installed_plugin_is_listed_and_loadable(plugin_site):
    res = _run(plugin_site, "-m", "psychometrika", "instruments", "list")
    assert res.returncode == 0, res.stderr
    assert "example-grit" in res.stdout and "plugin:example" in res.stdout
    res = _run(plugin_site, "-c", "import psychometrika as pm; i = pm.load_instrument('example-grit'); "
                                  "print(i.id, len(i.items), i.item_keys()['g2'])")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["example-grit", "3", "-1"]


def test_without_the_plugin_it_is_unknown():
    res = subprocess.run([sys.executable, "-m", "psychometrika", "instruments", "show", "example-grit"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "no instrument with id 'example-grit'" in res.stderr


def test_template_files_validate():
    files = sorted((TEMPLATE / "src" / "psychometrika_example_plugin").glob("*.yaml"))
    res = subprocess.run([sys.executable, "-m", "psychometrika", "instruments", "validate", *map(str, files)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
