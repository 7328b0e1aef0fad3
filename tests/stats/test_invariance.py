"""Measurement invariance against R's lavaan (fixtures from tests/r/make_reference_invariance.R) and on
simulated groups with a known non-invariant item."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import DataError

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "lavaan_invariance.json").read_text())
DATA = pd.read_csv(FIX / REF["data"])
FM = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic"]


@pytest.fixture(scope="module")
def mi():
    return pm.invariance(REF["model"], DATA, "school")


@pytest.mark.parametrize("case", list(REF["fits"]))
def test_group_equal_fits_equal_lavaan(case, mi):
    ref = REF["fits"][case]
    eq = [x for x in ref["group_equal"] if x != "none"]
    fit = mi.fits.get(case) or pm.cfa(REF["model"], DATA, group="school", group_equal=eq,
                                      group_partial=ref["group_partial"])
    assert fit.converged
    fm = fit.fit_measures()
    for k in FM:
        assert fm[k] == pytest.approx(ref["fit_measures"][k], abs=1e-4 * max(1.0, abs(ref["fit_measures"][k]))), k
    pe = fit.parameter_estimates()
    got = pd.DataFrame(ref["parameters"]).merge(pe, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(got) == len(pe) == len(ref["parameters"]["lhs"])  # same parameter table, row for row
    assert np.allclose(got["est"], got["est_r"], atol=1e-4)
    assert np.allclose(got["se"], got["se_r"], atol=1e-4)


def test_sequence_table_equals_lavTestLRT_and_flags_scalar(mi):
    t = mi.table.set_index("level")
    lrt = REF["lrt"]
    assert list(t.index) == ["configural", "metric", "scalar", "strict"]
    assert np.allclose(t["chisq_diff"].iloc[1:], lrt["chisq_diff"][1:], atol=1e-4)
    assert list(t["df_diff"].iloc[1:]) == lrt["df_diff"][1:]
    assert np.allclose(t["p_diff"].iloc[1:], lrt["p"][1:], rtol=1e-3, atol=1e-9)
    assert t.loc["metric", "holds"] and not t.loc["scalar", "holds"]
    assert t.loc["scalar", "delta_cfi"] == pytest.approx(0.8825 - 0.9209, abs=1e-3)
    assert mi.highest == "metric"
    # the textbook partial-invariance result for these data: intercepts of x3 and x7 differ between schools
    assert list(mi.partial["parameter"].iloc[:2]) == ["x3~1", "x7~1"]
    text = mi.summary()
    assert "Highest level that holds: metric" in text and "x3~1" in text


def _simulate(shift: float, n: int = 300, seed: int = 5) -> pd.DataFrame:
    """Two 'models' answering 6 items of one trait; in the second, item y4's intercept is shifted."""
    rng = np.random.default_rng(seed)
    lam = np.array([0.8, 0.7, 0.75, 0.6, 0.7, 0.65])
    frames = []
    for g, mean in (("model-a", 0.0), ("model-b", 0.4)):
        f = rng.normal(mean, 1.0, n)
        x = 3 + f[:, None] * lam + rng.normal(0, 0.6, (n, 6))
        if g == "model-b":
            x[:, 3] += shift
        frames.append(pd.DataFrame(x, columns=[f"y{j + 1}" for j in range(6)]).assign(model=g))
    return pd.concat(frames, ignore_index=True)


MODEL = "T =~ y1 + y2 + y3 + y4 + y5 + y6"


def test_invariant_groups_pass_every_level_and_latent_mean_difference_is_recovered():
    mi = pm.invariance(MODEL, _simulate(0.0), "model")
    assert mi.highest == "strict" and mi.partial.empty
    pe = mi.fits["scalar"].parameter_estimates()
    alpha = pe[(pe["op"] == "~1") & (pe["lhs"] == "T") & (pe["group"] == 2)]["est"].iloc[0]
    assert alpha == pytest.approx(0.4 * 0.8, abs=0.12)  # latent mean in marker (y1) units


def test_a_shifted_item_breaks_scalar_invariance_and_is_named():
    mi = pm.invariance(MODEL, _simulate(0.8), "model")
    assert mi.highest == "metric"
    assert mi.partial["parameter"].iloc[0] == "y4~1"


def test_bad_arguments():
    d = _simulate(0.0)
    with pytest.raises(DataError, match="at least 2 groups"):
        pm.invariance(MODEL, d.assign(model="x"), "model")
    with pytest.raises(DataError, match="prefix"):
        pm.invariance(MODEL, d, "model", levels=["metric"])
    with pytest.raises(DataError, match="not supported"):
        pm.cfa(MODEL, d, group="model", group_equal=["slopes"])
    with pytest.raises(DataError, match="not in the model"):
        pm.cfa(MODEL, d, group="model", group_equal=["intercepts"], group_partial=["y9~1"])
    with pytest.raises(DataError, match="multi-group"):
        pm.cfa(MODEL, d, group_equal=["loadings"])


def test_capped_partial_search_ranks_the_misfitting_intercepts_first(mi):
    capped = pm.invariance(REF["model"], DATA, "school", partial=2)
    assert list(capped.partial["parameter"]) == list(mi.partial["parameter"].iloc[:2])
    assert np.allclose(capped.partial["chisq"], mi.partial["chisq"].iloc[:2])


def test_a_configural_model_that_misfits_holds_no_level():
    # two uncorrelated factors fitted as one: converges, but CFI is far below .90 in both groups
    rng = np.random.default_rng(11)
    n = 400
    f1, f2 = rng.normal(size=(2, n))
    cols = {f"y{i}": (f1 if i < 3 else f2) * 0.8 + rng.normal(scale=0.6, size=n) for i in range(6)}
    data = pd.DataFrame(cols).assign(g=np.repeat(["a", "b"], n // 2))
    mi = pm.invariance("F =~ y0 + y1 + y2 + y3 + y4 + y5", data, group="g", partial=False)
    t = mi.table.set_index("level")
    assert mi.fits["configural"].converged and t.loc["configural", "cfi"] < 0.9
    assert not t["holds"].any() and mi.highest is None
    assert "the configural model fits poorly: CFI 0." in mi.summary()
