"""The real embedded SmolLM2-135M-Instruct under trait-shaped personas (analyses/shaping.yaml): its shaping rho
is measured and reported, whatever it is (no threshold on a 135M model).

Measured 2026-12-02 on 2 CPU cores (374 prompts, 2 min): extraversion rho = -0.33 [-0.82, 0.44], agreeableness
rho = -0.18 [-0.76, 0.55] (n = 9 levels each); mean scale scores stay within 2.83-3.02 across all levels, i.e.
the 135M model is not shaped by the adjective-marker personas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import psychometrika as pm
from psychometrika.engine import run_study

pytestmark = pytest.mark.slow
pytest.importorskip("torch")

STUDY = Path(__file__).resolve().parents[2] / "analyses" / "shaping.yaml"


def test_embedded_model_shaping_rho_is_measured(tmp_path):
    run_study(STUDY, tmp_path / "run", progress=False)
    df = pm.read_run(tmp_path / "run")
    assert df["persona"].nunique() == 22 and df["persona_given_name"].notna().sum() == 4 * 17
    res = pm.shaping_validity(df, ["bfi-44"])
    print(res.summary(digits=3))
    rho = res.rho.set_index("trait")
    assert list(rho.index) == ["extraversion", "agreeableness"] and (rho["n"] == 9).all()
    assert np.isfinite(rho["rho"]).all() and (rho["rho"].abs() <= 1).all()
    assert (rho["CI_low"] <= rho["rho"]).all() and (rho["rho"] <= rho["CI_high"]).all()
    # the report section tables come from the same run
    # screened (the default): SmolLM2's bfi-44 answers are position-driven, so the report withholds the shaping
    # tables; the population table describes every persona all the same
    st = pm.compute_statistics(tmp_path / "run", sections=["personas"])
    screened_out = set(pm.screen(df).query("status == 'invalid'")["instrument"])
    if "bfi-44" in screened_out:
        assert "persona_population" in st.tables and "shaping_validity" not in st.tables
    # kept on request: the report's tables are the statistics computed above
    st = pm.compute_statistics(tmp_path / "run", sections=["personas"], keep_invalid=True)
    assert {"persona_population", "shaping_validity", "shaping_matrix", "shaping_levels"} <= set(st.tables)
