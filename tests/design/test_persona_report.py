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
    st = compute_statistics(planted_dir, sections=["study", "personas"])
    pop = st.tables["persona_population"].set_index(["attribute", "value"])
    assert pop.loc[("shaping_design", "concurrent"), "n_personas"] == 27
    assert pop.loc[("shaping_design", "single"), "n_personas"] == 9
    val = st.tables["shaping_validity"].set_index(["design", "trait"])
    assert val.loc[("single", "extraversion"), "rho"] == pytest.approx(1.0)
    assert val.loc[("concurrent", "extraversion"), "accuracy"] == 1.0
    assert len(st.tables["shaping_matrix"]) == 1 * 3 + 3 * 3  # single: E row; concurrent: 3 x 3
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
