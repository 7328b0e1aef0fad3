"""``psychometrika run`` on malformed or hostile study files: one message naming file, line and field, exit
status 2, no traceback (unless ``--debug``), and nothing written to the output folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
GOOD = f"""\
id: hostile
instruments: [{DATA / 'mini.yaml'}]
models:
  - {{id: m1, backend: dummy}}
personas: {{include_none: true, items: [{{id: warm, text: "You are warm."}}]}}
mode: score
"""

CASES = [  # name, (old, new) or raw bytes, expected text in the message, line
    ("yaml syntax", ("mode: score", "mode: [score"), "hostile.yaml:", None),
    ("python tag", ("mode: score", "mode: !!python/object/apply:os.system [touch pwned]"), "YAML tags are not allowed", 6),
    ("path-like study id", ("id: hostile", "id: ../../escaped"), "id", 1),
    ("path-like model id", ("{id: m1,", "{id: ../m1,"), "models[0].id", 4),
    ("path-like persona id", ("{id: warm,", "{id: ../../warm,"), "personas.items[0].id", 5),
    ("wrong type", ("mode: score", "mode: [1, 2]"), "mode", 6),
    ("non-UTF-8", b"id: hostile\nmode: \xff\xfe score\n", "UTF-8", None),
    ("10 MB file", b"id: hostile\n# " + b"x" * (10 * 2**20) + b"\n", "the limit is 5 MB", None),
]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "psychometrika", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_study_file_exit_2_with_location_and_nothing_written(tmp_path, case):
    _, change, expect, line = case
    study = tmp_path / "hostile.yaml"
    if isinstance(change, bytes):
        study.write_bytes(change)
    else:
        assert change[0] in GOOD
        study.write_text(GOOD.replace(change[0], change[1], 1))
    res = _run("run", str(study), "--out", str(tmp_path / "run"), "--no-progress", cwd=tmp_path)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert str(study) in res.stderr and expect in res.stderr, res.stderr
    if line:
        assert f"{study}:{line}:" in res.stderr, res.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "pwned").exists()
    assert not list(tmp_path.parent.glob("escaped*")) and not list(tmp_path.glob("../escaped*"))


def test_debug_flag_shows_the_traceback(tmp_path):
    study = tmp_path / "hostile.yaml"
    study.write_text(GOOD.replace("mode: score", "mode: [score"))
    res = _run("--debug", "run", str(study), "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert res.returncode != 0 and "Traceback" in res.stderr
