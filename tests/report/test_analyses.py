"""The R-like scripts in analyses/ run on a run folder and print the same numbers as the report."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _reportlib import SCRIPTS, alpha_from_summary, block, run_script  # noqa: E402


@pytest.fixture(scope="module")
def outputs(sim_run) -> dict[str, str]:
    # --keep-invalid: the report does not screen yet, so its numbers are compared with unscreened scripts;
    # the scripts' default (screened-out cells excluded) is tested in tests/test_analyses_scripts.py
    return {s: run_script(s, sim_run, "--keep-invalid") for s in SCRIPTS}


def test_reliability_script_prints_psych_alpha(outputs, sim_stats):
    rel = sim_stats["reliability"].set_index(["instrument", "scale", "model"])
    checked = 0
    for scale, k in (("E", 4), ("A", 4)):
        b = block(outputs["01_reliability.py"], f"=== report-mini {scale} (sim): 30 administrations x {k} items ===")
        alpha = rel.loc[("report-mini", scale, "sim"), "alpha"]
        if np.isnan(alpha):               # pm.alpha failed on these data: the script says so, as the report does
            assert "not computed" in b
            continue
        assert "Reliability analysis" in b and "Split half reliabilities" in b
        assert alpha_from_summary(b) == pytest.approx(round(alpha, 2), abs=0.0051)
        checked += 1
    assert checked >= 1


def test_factor_script_prints_parallel_analysis_and_congruence(outputs, sim_stats):
    b = block(outputs["02_factor_structure.py"], "=== report-mini (sim): 30 administrations x 8 items, 2 intended")
    ps = sim_stats["parallel_summary"].set_index(["instrument", "model"]).loc[("report-mini", "sim")]
    assert f"number of factors =  {ps['suggested_factors']}  and the number of components =  " \
           f"{ps['suggested_components']}" in b
    assert "Factor Analysis using method = minres" in b or "Factor Analysis using method =  minres" in b
    assert "Tucker congruence with the human loadings:" in b


def test_self_report_script_prints_the_mtmm_convergent_validities(outputs, sim_stats):
    out = outputs["03_self_report_vs_behaviour.py"]
    assert "=== MTMM (sim): 3 subjects ===" in out  # subject = model x persona x seed x repetition
    assert "Campbell-Fiske criteria:" in out
    # the convergent validity for extraversion, recomputed from the report's own scale scores: paraphrases and
    # option orders averaged within a subject, then Pearson r between the questionnaire and the SJT
    sc = sim_stats["scale_scores"]
    sc = sc[sc["scale"] == "E"]
    subj = ["model", "persona", "seed", "repetition"]
    w = sc.groupby(subj + ["instrument"])["score"].mean().unstack("instrument")
    r = w["report-mini"].corr(w["report-sjt"])
    row = re.search(r"^\d+\s+extraversion\s+report-mini\s+report-sjt\s+(-?\d+\.\d+)\s+3$", out, re.M)
    assert row, out
    assert float(row.group(1)) == pytest.approx(round(r, 2), abs=0.0051)


def test_effect_size_script_prints_group_descriptives(outputs, sim_stats):
    out = outputs["04_effect_sizes.py"]
    b = out[out.index("--- report-mini E ---"):]
    b = b[b.index("persona = warm"):]
    mean = float(re.search(r"^score\s+\S+\s+(\d+)\s+(-?\d+\.\d+)", b, re.M).group(2))
    m = sim_stats["scale_means"].set_index(["instrument", "scale", "model", "persona"])
    assert mean == pytest.approx(round(m.loc[("report-mini", "E", "sim", "warm"), "mean"], 2), abs=0.0051)
    import psychometrika as pm

    if hasattr(pm, "compare_groups"):
        assert "=== differences between levels of persona ===" in out
    else:
        assert "pm.compare_groups is not available" in out
