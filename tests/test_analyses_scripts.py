"""The four analyses/ scripts run to the end, screen the answers first and show (summarised) warnings: on a
dummy run and on a simulated run with planted artefacts (a position-only and an acquiescent responder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from psychometrika.engine import run_study
from psychometrika.tools.simulate import write_population_study

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p.name for p in (REPO / "analyses").glob("[0-9]*.py"))
DUMMY = f"""id: scripts-dummy
seed: 3
instruments: [{REPO / 'tests/data/mini.yaml'}, {REPO / 'tests/data/mini-sjt.yaml'}]
models: [{{id: dum, backend: dummy, settings: {{position_bias: 1.0}}}}]
personas: {{include_none: true, items: [{{id: warm, text: "You are warm."}}]}}
paraphrases: {{instructions: all}}
option_orders: [original, reversed]
"""


def _run(script: str, run_dir: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, str(REPO / "analyses" / script), str(run_dir), *args],
                         capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    return res.stdout


@pytest.fixture(scope="module")
def dummy_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dummy")
    (folder / "study.yaml").write_text(DUMMY)
    run_study(folder / "study.yaml", folder / "run", progress=False)
    return folder / "run"


@pytest.fixture(scope="module")
def artefact_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("artefact")
    study = write_population_study(folder, planted={"first": {"position_bias": 40.0}, "yea": {"acquiescence": 1.2}})
    run_study(study, folder / "run", progress=False)
    return folder / "run"


def test_no_script_hides_warnings():
    for s in SCRIPTS:
        text = (REPO / "analyses" / s).read_text()
        assert "simplefilter" not in text and "pm.WarningSummary()" in text, s
        assert "pm.screen_and_exclude(" in text, s


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_run_on_a_dummy_run(script, dummy_run):
    out = _run(script, dummy_run)
    assert out.startswith("Screening: ")
    assert "\nwarnings" in out  # the summary line: "warnings: none" or "warnings (n):"


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_screen_out_the_planted_position_only_responder(script, artefact_run):
    out = _run(script, artefact_run)
    first = out.splitlines()[0]
    assert first.startswith("Screening: bfi-25 (population): 1 of 12 persona cells invalid (first: position-driven")
    assert "1 of 12 persona cells suspect (yea: acquiescence" in first
    assert "invalid answers left out of trait statistics" in first
    assert "\nwarnings" in out
    if script == "04_effect_sizes.py":
        assert "persona = first" not in out and "persona = yea" in out
        assert "pseudo-replication" in out
    if script == "01_reliability.py":
        # 11 respondents x 2 orders remain: alpha is computed, but the guard says it is not enough
        assert "=== bfi-25 A (population): 22 administrations x 5 items ===" in out
        assert "caution: too little information for a stable alpha (n = 22; needs ≥ 30 respondents)" in out
        assert "InsufficientInformationWarning: alpha" in out


def test_keep_invalid_keeps_them(artefact_run):
    out = _run("04_effect_sizes.py", artefact_run, "--keep-invalid")
    assert "kept on request" in out.splitlines()[0] and "persona = first" in out


def test_scripts_on_a_run_whose_every_answer_is_screened_out(tmp_path):
    # only a position-only responder: screening leaves nothing, and each script says so instead of failing
    study = write_population_study(tmp_path, n_people=0, planted={"first": {"position_bias": 40.0}})
    run_study(study, tmp_path / "run", progress=False)
    for script in SCRIPTS:
        out = _run(script, tmp_path / "run")
        assert "Every answer was screened out: nothing is left to analyse" in out, script
