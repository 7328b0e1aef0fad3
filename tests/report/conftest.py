"""Fixtures of the report tests: a small simulated run (backend ``dummy``) and its built book, made once."""

from __future__ import annotations

from pathlib import Path

import pytest
from _reportlib import HTML_ITEM_TEXT, study_text  # noqa: E402

SIM_STUDY = study_text("{id: sim, backend: dummy, model: sim, settings: {position_bias: 1.5}}",
                       '{include_none: true, items: [{id: warm, text: "You are warm & <kind>."}, '
                       '{id: cold, text: "You are cold."}]}')


@pytest.fixture(scope="session")
def html_item_text() -> str:
    return HTML_ITEM_TEXT


@pytest.fixture(scope="session")
def sim_study(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("sim") / "study.yaml"
    p.write_text(SIM_STUDY)
    return p


@pytest.fixture(scope="session")
def sim_run(sim_study) -> Path:
    from psychometrika.engine.run import run_study

    out = sim_study.parent / "run"
    run_study(sim_study, out, progress=False)
    return out


@pytest.fixture(scope="session")
def sim_stats(sim_run):
    from psychometrika.report.statistics import compute_statistics

    # keep_invalid: these tests check the statistics themselves on a planted-bias dummy run whose SJT cells the
    # response-validity screening classifies invalid (position-driven); screening itself is tested in
    # tests/report/test_screening_report.py, tests/stats/test_screening.py and tests/test_analyses_scripts.py
    return compute_statistics(sim_run, keep_invalid=True)


@pytest.fixture(scope="session")
def sim_book(sim_run) -> Path:
    """index.html of the simulated run's book (built once; the browser test checks it)."""
    from psychometrika.report.build import build_report

    return build_report(sim_run, sim_run.parent / "book", progress=False, check=False)
