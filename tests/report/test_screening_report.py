"""The report screens the answers before any trait statistic: invalid cells are left out and bannered."""

from __future__ import annotations

from pathlib import Path

import pytest

from psychometrika.engine import run_study
from psychometrika.report.statistics import compute_statistics
from psychometrika.tools.simulate import write_population_study


@pytest.fixture(scope="module")
def artefact_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("artefact")
    study = write_population_study(folder, planted={"first": {"position_bias": 40.0}}, study_id="report-artefact")
    run_study(study, folder / "run", progress=False)
    return folder / "run"


def test_invalid_cells_are_left_out_of_trait_statistics_and_bannered(artefact_run):
    st = compute_statistics(artefact_run, sections=("study", "quality", "reliability", "effects"))
    sc = st["screening"].set_index("persona")
    assert sc.loc["first", "status"] == "invalid" and "position-driven" in sc.loc["first", "flags"]
    assert st.notes["study"][0].startswith("Screening: bfi-25 (population): 1 of 11 persona cells invalid (first:")
    # trait statistics: the planted position-only responder is not in the scores
    assert "first" not in set(st["scale_scores"]["persona"]) and "p0" in set(st["scale_scores"]["persona"])
    # response quality still describes every answer, the screened-out ones included
    assert "first" in set(st["positional_bias"]["persona"]) if "persona" in st["positional_bias"] else True
    kept = compute_statistics(artefact_run, sections=("study",), keep_invalid=True)
    assert "first" in set(kept["scale_scores"]["persona"]) and "kept on request" in kept.notes["study"][0]


def test_figures_show_every_position_distinct_facets_and_spell_cohens_d():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from psychometrika.report import figures as rf

    pc = pd.DataFrame({"instrument": "x", "n_options": 5, "model": "m", "position": [1, 3], "share": [0.9, 0.1]})
    fig = rf.position_bars(pc)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2", "3", "4", "5"]
    comp = pd.DataFrame({"instrument": "x", "scale": "E", "model": "m", "component": [f"c{i}" for i in range(12)],
                         "share": 1.0})
    fig = rf.variance_bars(comp, "share", "component")
    bars = {}
    for patch in fig.axes[0].patches:
        bars.setdefault((tuple(round(c, 3) for c in patch.get_facecolor()), patch.get_hatch() or ""), 0)
    assert len(bars) == 12  # every facet has its own colour-and-hatch
    assert rf.EFFECT_LABELS == {"d": "Cohen's d", "g": "Hedges' g"}


def test_a_factor_solution_below_its_information_rule_is_withheld_in_words(artefact_run):
    # 10 valid personas x 2 option orders = 20 respondents for bfi-25's 25 items: the correlation matrix is
    # singular, so no EFA, parallel analysis or CFA is printed, and the note says why in words
    st = compute_statistics(artefact_run, sections=("study", "factor"))
    assert st.notes["factor"] == ["bfi-25 (population): parallel analysis, EFA and CFA not estimable (n = 20; "
                                  "needs ≥ 26 = items + 1 for a non-singular correlation matrix); no factor "
                                  "solution is shown."]
    assert st["efa_fit"].empty and st["parallel_summary"].empty and "cfa_fit" not in st.tables


def test_persona_means_put_each_instrument_on_its_own_axis():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from psychometrika.report import figures as rf

    means = pd.DataFrame({"instrument": ["bfi-44"] * 4 + ["econ-games"] * 2, "scale": ["E", "A", "E", "A", "trust",
                          "fairness"], "model": "m", "persona": ["warm", "warm", "cold", "cold", "warm", "cold"],
                          "mean": [3.5, 4.0, 2.0, 2.5, 7.0, 3.0], "sd": 0.1, "n": 4})
    axes = rf.means_plot(means).axes
    assert len(axes) == 2
    likert, games = axes
    assert [t.get_text() for t in likert.get_yticklabels()] == ["E", "A"]
    assert [t.get_text() for t in games.get_yticklabels()] == ["trust", "fairness"]
    assert likert.get_xlim()[1] < 5 and games.get_xlim()[1] > 6.5  # own ranges, not one shared axis
