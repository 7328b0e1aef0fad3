"""``psychometrika reproduce``: re-run a study from its manifest and diff every reported statistic."""

from __future__ import annotations

import re
from pathlib import Path

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


# --------------------------------------------------------------------- relative persona and instrument files
_PEOPLE = "id,text,age,country\np1,You are a nurse.,30,Chile\np2,You are a farmer.,50,Ghana\np3,You are a cook.,40,Chile\n"


def _relative_study(tmp_path):
    """A study in tmp/sub/ naming its persona CSV and a copy of the mini instrument by relative paths, run from
    tmp/ (so the run folder's study.yaml copy cannot resolve them against its own folder)."""
    from _reportlib import DATA

    from psychometrika.engine.run import run_study

    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "people.csv").write_text(_PEOPLE)
    (sub / "mini.yaml").write_text((DATA / "report-mini.yaml").read_text())
    (sub / "study.yaml").write_text(
        "id: rel\nseed: 5\ninstruments: [mini.yaml]\nmodels: [{id: sim, backend: dummy, model: sim}]\n"
        "personas: {include_none: false, file: people.csv}\nparaphrases: {instructions: 1}\n")
    run_study(Path("sub/study.yaml"), Path("run"), progress=False)
    return sub


def test_reproduce_resolves_relative_persona_files_against_the_original_study_folder(tmp_path, monkeypatch):
    import json

    from psychometrika.report.reproduce import reproduce
    from psychometrika.store.store import read_run

    monkeypatch.chdir(tmp_path)
    sub = _relative_study(tmp_path)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["study_dir"] == str(sub)
    assert manifest["inputs"][str(sub / "people.csv")]  # absolute: valid from any folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = reproduce(tmp_path / "run", tmp_path / "again", progress=False)
    assert res.identical and res.original_data_hash == res.reproduced_data_hash, res.summary()
    assert f"relative paths resolved against the original study folder {sub}" in res.checks
    assert f"persona file {sub / 'people.csv'}: same sha256 as in the manifest" in res.checks
    assert any(c.startswith("study hash: identical") for c in res.checks)
    again = read_run(tmp_path / "again")
    assert sorted(again["persona"].unique()) == ["p1", "p2", "p3"]
    assert dict(zip(again["persona"], again["persona_country"])) == {"p1": "Chile", "p2": "Ghana", "p3": "Chile"}


def test_reproduce_names_an_edited_persona_file_and_falls_back_when_it_is_gone(tmp_path, monkeypatch):
    from psychometrika.engine.reproduce import rerun
    from psychometrika.store.store import read_run

    monkeypatch.chdir(tmp_path)
    sub = _relative_study(tmp_path)
    (sub / "people.csv").write_text(_PEOPLE.replace("Ghana", "Kenya"))
    done = rerun(tmp_path / "run", tmp_path / "edited", progress=False)
    assert any(c.startswith(f"persona file {sub / 'people.csv'}: changed since the run") for c in done.checks)
    assert any(c.startswith("study hash differs") for c in done.checks)
    assert set(read_run(tmp_path / "edited")["persona_country"]) == {"Chile", "Kenya"}
    # the file deleted: the manifest's copy of the study, whose personas are the population as run
    (sub / "people.csv").unlink()
    done = rerun(tmp_path / "run", tmp_path / "gone", progress=False)
    assert any("study.yaml could not be loaded" in c and "people.csv" in c for c in done.checks), done.checks
    assert any(c.startswith("study hash: identical") for c in done.checks)
    assert set(read_run(tmp_path / "gone")["persona_country"]) == {"Chile", "Ghana"}
