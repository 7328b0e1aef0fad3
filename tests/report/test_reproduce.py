"""``psychometrika reproduce``: re-run a study from its manifest and diff every reported statistic."""

from __future__ import annotations

import re

import pytest


def test_reproduce_cli_of_a_deterministic_run_is_identical(sim_run, tmp_path, capsys):
    from psychometrika.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["reproduce", str(sim_run / "manifest.json"), "--out", str(tmp_path / "again"), "--no-progress",
              "--diff-csv", str(tmp_path / "diff.csv")])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "study hash: identical" in out and "data hash: identical" in out
    m = re.search(r"(\d+) reported statistics compared: (\d+) identical, 0 different", out)
    assert m and m.group(1) == m.group(2) and int(m.group(1)) > 500
    assert (tmp_path / "diff.csv").read_text().count("\n") == int(m.group(1)) + 1


def test_a_different_model_shows_up_in_the_diff(sim_run, tmp_path):
    from psychometrika.backends.dummy import DummyBackend
    from psychometrika.report.reproduce import reproduce

    res = reproduce(sim_run, tmp_path / "other", progress=False,
                    backend_factory=lambda spec: DummyBackend(spec.model, seed=99, position_bias=1.5))
    assert not res.identical and res.original_data_hash != res.reproduced_data_hash
    assert any("weights differ" in c for c in res.checks)
    diff = res.diff.set_index(["table", "column"])
    # counts are design facts and stay the same; the answers and every statistic on them change
    assert (diff.loc[("cell_counts", "responses"), "status"] == "same").all()
    assert (diff.loc[("reliability", "alpha"), "status"] == "different").any()
    assert "DIFFERENT" in res.summary() and res.max_abs_diff > 0


def test_reproduce_refuses_the_original_folder_and_non_runs(sim_run, tmp_path):
    from psychometrika.report.errors import ReportError
    from psychometrika.report.reproduce import reproduce

    with pytest.raises(ReportError, match="new folder"):
        reproduce(sim_run, sim_run, progress=False)
    with pytest.raises(ReportError, match="no manifest.json"):
        reproduce(tmp_path, tmp_path / "x", progress=False)
