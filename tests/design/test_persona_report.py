"""The report's "Personas and shaping" section on a planted shaped run and on a run without attributes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from psychometrika.report.statistics import compute_statistics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_shaping import planted_run  # noqa: E402,F401 - the planted run fixture


@pytest.fixture(scope="module")
def planted_dir(planted_run, tmp_path_factory):  # noqa: F811
    return planted_run.attrs["run_dir"]


def test_section_tables_on_a_planted_shaped_run(planted_dir):
    # the planted answers of the middle levels are one option throughout, which screening rightly calls
    # one-option responding: keep them, since this test checks the shaping arithmetic on known answers
    st = compute_statistics(planted_dir, sections=["study", "personas"], keep_invalid=True)
    pop = st.tables["persona_population"].set_index(["attribute", "value"])
    assert pop.loc[("shaping_design", "concurrent"), "n_personas"] == 27
    assert pop.loc[("shaping_design", "single"), "n_personas"] == 9
    val = st.tables["shaping_validity"].set_index(["design", "trait"])
    assert val.loc[("single", "extraversion"), "rho"] == pytest.approx(1.0)
    assert val.loc[("concurrent", "extraversion"), "accuracy"] == 1.0
    assert len(st.tables["shaping_matrix"]) == 1 * 5 + 3 * 5  # single: E row; concurrent: E, A, C rows; 5 scales
    assert set(st.tables["shaping_levels"]["level"]) == set(range(1, 10))


def test_section_notes_without_attributes(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
    from fakes import FakeBackend

    from psychometrika.design.study import Study
    from psychometrika.engine import run_study

    study = Study.model_validate({"id": "plain", "instruments": [{"id": "bfi-44", "scales": ["E"]}],
                                  "models": [{"id": "m", "backend": "dummy"}],
                                  "personas": {"items": [{"id": "warm", "text": "You are warm."}]}})
    run_study(study, tmp_path / "run", backend_factory=lambda spec: FakeBackend(), progress=False)
    st = compute_statistics(tmp_path / "run", sections=["personas"])
    assert "persona_population" not in st.tables
    assert any("carry no attributes" in n for n in st.notes["personas"])


def test_chapter_cells_execute_on_the_planted_run(planted_dir, tmp_path, monkeypatch, capsys):
    """The chapter's code cells run on the section's tables: tables shown, figures drawn (no figure error)."""
    import re

    from psychometrika.report import tables as rt
    from psychometrika.report.results import write_statistics

    st = compute_statistics(planted_dir, sections=["study", "personas"])
    write_statistics(st, tmp_path / "data")
    monkeypatch.setenv("PSYCHOMETRIKA_REPORT_DATA", str(tmp_path / "data"))
    rt._meta.cache_clear()
    text = (Path(__file__).resolve().parents[2] / "reports" / "08_personas.md").read_text(encoding="utf-8")
    cells = re.findall(r"```\{code-cell\} ipython3\n:tags: \[remove-input\]\n(.*?)```", text, flags=re.S)
    assert len(cells) == 3
    shown: list[str] = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: shown.append(getattr(obj, "data", str(obj))))
    env: dict = {}
    for cell in cells:
        exec(compile(cell, "08_personas.md", "exec"), env)  # noqa: S102 - the repository's own chapter
    out = "\n".join(shown)
    rt._meta.cache_clear()
    assert "pm-figure-error" not in out
    assert out.count("<figure") >= 3 and "shaping_validity" in out  # level curves + 2 heatmaps; the tables


def test_attribute_effects_from_a_bank_run(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
    from fakes import FakeBackend

    import psychometrika as pm
    from psychometrika.design.study import Study
    from psychometrika.engine import run_study

    study = Study.model_validate({"id": "bank", "instruments": [{"id": "bfi-44", "scales": ["E"]}],
                                  "models": [{"id": "m", "backend": "dummy"}],
                                  "personas": {"include_none": True, "bank": "core", "sample": 40, "seed": 3}})
    run_study(study, tmp_path / "run", backend_factory=lambda spec: FakeBackend(), progress=False)
    st = compute_statistics(tmp_path / "run", sections=["personas"])
    eff = st.tables["persona_attribute_effects"]
    assert set(eff["attribute"]) <= {"gender", "region", "education"} and "gender" in set(eff["attribute"])
    # the same numbers by hand: persona means of the E score, compared by gender
    df = pm.read_run(tmp_path / "run")
    sc = pm.scale_scores(df, pm.load_instrument("bfi-44"))
    per = sc[sc.persona != "none"].groupby("persona")["score"].mean().rename("score").reset_index()
    per["value"] = per["persona"].map(df.drop_duplicates("persona").set_index("persona")["persona_gender"])
    want = pm.compare_groups(per, dv="score", group="value")
    got = eff[eff.attribute == "gender"].reset_index(drop=True)
    assert got[["group1", "group2"]].values.tolist() == want[["group1", "group2"]].values.tolist()
    assert got["d"].to_numpy() == pytest.approx(want["d"].to_numpy(), abs=1e-12)
