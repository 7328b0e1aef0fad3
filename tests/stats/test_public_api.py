"""The top-level API: complete ``dir(pm)`` / ``__all__``, lazy imports, named missing dependencies (issue 21)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest

import psychometrika as pm
from psychometrika.errors import MissingDependencyError


@pytest.mark.parametrize("module", ["psychometrika.stats"] + [m for m in pm._LAZY_MODULES
                                                               if m != "psychometrika.instruments"])
def test_every_public_name_of_the_stage_modules_is_in_dir_and_all(module):
    exported = set(importlib.import_module(module).__all__)
    missing = sorted(exported - set(pm._lazy_names()))
    assert not missing, f"add {missing} to psychometrika._LAZY_MODULES[{module!r}]"
    assert exported <= set(dir(pm)) and exported <= set(pm.__all__)


def test_tab_completion_names_and_every_listed_name_resolves():
    for name in ("alpha", "cfa", "omega", "cohen_kappa", "mardia", "read_run", "load_run", "run_study",
                 "load_study", "scale_scores", "load_instrument"):
        assert name in dir(pm) and name in pm.__all__
    for name in pm.__all__:
        assert getattr(pm, name) is not None, name
    assert pm.alpha is importlib.import_module("psychometrika.stats").alpha
    with pytest.raises(AttributeError, match="no attribute 'not_a_function'"):
        pm.not_a_function  # noqa: B018


def test_dir_shows_public_names_not_implementation_details():
    d = dir(pm)
    assert "alpha" in d and "__version__" in d
    assert not {"ast", "functools", "importlib", "Any", "Path"} & set(d)


def test_import_stays_lazy():
    code = ("import sys, psychometrika as pm; dir(pm); "
            "print(any(m in sys.modules for m in ('scipy', 'torch', 'psychometrika.stats')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_optional_dependency_is_named_with_the_pip_command(tmp_path, monkeypatch):
    (tmp_path / "pm_fake_backend.py").write_text(textwrap.dedent("""
        import torch_is_not_installed_here  # noqa: F401
        def fake_model():
            return 1
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(pm._LAZY_MODULES, "pm_fake_backend", ("fake_model",))
    monkeypatch.setitem(pm._OPTIONAL_DEPENDENCIES, "torch_is_not_installed_here",
                        ("local model inference", "pip install 'psychometrika[llm]'"))
    with pytest.raises(MissingDependencyError) as info:
        pm.fake_model  # noqa: B018
    msg = str(info.value)
    assert "torch_is_not_installed_here" in msg and "pip install 'psychometrika[llm]'" in msg
    assert "pm.fake_model" in msg and not isinstance(info.value, AttributeError)
