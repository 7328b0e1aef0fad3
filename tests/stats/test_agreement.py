"""``cohen_kappa`` (psych::cohen.kappa) and ``mardia`` (psych::mardia) against R (issue 22.3).

Fixture: ``tests/r/make_reference_agreement_mgcfa.R`` -> ``issue22_reference.json`` (simulated ratings of 150
objects by three raters with missing ratings, Fleiss, Cohen & Everitt's 1969 proportion table with and
without disagreement weights; psych::sat.act and HolzingerSwineford1939 x1-x9 for Mardia's tests).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import DataError

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "issue22_reference.json").read_text())
KAPPA = REF["cohen_kappa"]
MARDIA = REF["mardia"]


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    return pd.read_csv(FIX / KAPPA["data"])


def _check(res, ref) -> None:
    for ours, theirs in [(res.kappa, ref["kappa"]), (res.weighted_kappa, ref["weighted_kappa"]),
                         (res.var_kappa, ref["var_kappa"]), (res.var_weighted, ref["var_weighted"]),
                         (res.n_obs, ref["n_obs"])]:
        assert ours == pytest.approx(theirs, abs=1e-12)
    conf = pd.DataFrame(ref["confid"])
    np.testing.assert_allclose(res.confid[["CI_low", "estimate", "CI_high"]].to_numpy(),
                               conf[["lower", "estimate", "upper"]].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(res.agree.to_numpy(), np.array(ref["agree"]), atol=1e-15)
    np.testing.assert_allclose(res.weight.to_numpy(), np.array(ref["weight"]), atol=1e-15)


def test_two_raters_with_missing_ratings(ratings):
    _check(pm.cohen_kappa(ratings[["r1", "r2"]]), KAPPA["two_raters"])
    _check(pm.cohen_kappa(ratings["r1"], ratings["r2"]), KAPPA["two_raters"])   # x and y form


def test_ninety_percent_interval(ratings):
    res = pm.cohen_kappa(ratings[["r1", "r2"]], ci=0.90)
    _check(res, KAPPA["two_raters_90"])
    assert "90% confidence boundaries" in res.summary()


def test_linear_weights(ratings):
    w = 1 - np.abs(np.subtract.outer(np.arange(4), np.arange(4))) / 3
    _check(pm.cohen_kappa(ratings[["r1", "r3"]], w=w), KAPPA["linear_weights"])


def test_proportion_table_and_disagreement_weights():
    ref = KAPPA["fleiss_table"]
    _check(pm.cohen_kappa(np.array(ref["table"]), n_obs=ref["n_obs_given"]), ref)
    ref = KAPPA["fleiss_disagreement"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = pm.cohen_kappa(np.array(ref["table"]), w=np.array(ref["w"]), n_obs=200)
    _check(res, ref)
    assert any("set to +/-1" in str(w.message) for w in caught)   # psych clips the CI too


def test_three_raters_pairwise(ratings):
    res = pm.cohen_kappa(ratings)
    ref = KAPPA["three_raters"]
    np.testing.assert_allclose(res.pairwise.to_numpy(), np.array(ref["matrix"]), atol=1e-12)
    assert res.av_kappa == pytest.approx(ref["av_kappa"], abs=1e-12)
    assert res.av_weighted == pytest.approx(ref["av_wt"], abs=1e-12)
    frame = res.to_frame()
    assert len(frame) == 3 and {"kappa_CI_low", "weighted_CI_high"} <= set(frame.columns)


def test_kappa_bad_input(ratings):
    with pytest.raises(DataError, match="two raters"):
        pm.cohen_kappa(ratings["r1"])
    with pytest.raises(DataError, match="ci must be"):
        pm.cohen_kappa(ratings[["r1", "r2"]], ci=95)
    with pytest.raises(DataError, match="weight matrix"):
        pm.cohen_kappa(ratings[["r1", "r2"]], w=np.eye(3))
    with pytest.raises(DataError, match="different numbers"):
        pm.cohen_kappa([1, 2, 3], [1, 2])


@pytest.mark.parametrize("case", sorted(MARDIA))
def test_mardia_matches_psych(case):
    ref = MARDIA[case]
    data = pd.read_csv(FIX / ref["data"])
    if "vars" in ref:
        data = data[ref["vars"]]
    res = pm.mardia(data)
    assert (res.n_obs, res.n_var) == (ref["n_obs"], ref["n_var"])
    for k in ("b1p", "b2p", "skew", "small_skew", "kurtosis"):
        assert getattr(res, k) == pytest.approx(ref[k], rel=1e-10), k
    for k in ("p_skew", "p_small", "p_kurt"):
        # psych's 2 * (1 - pnorm(z)) rounds to 0 below ~1e-16; ours is the exact tail
        assert getattr(res, k) == pytest.approx(ref[k], rel=1e-8, abs=1e-15), k
    np.testing.assert_allclose(res.d.to_numpy(), ref["d"], atol=1e-10)
    assert res.to_frame().loc[0, "b1p"] == res.b1p


def test_mardia_bad_input():
    with pytest.raises(DataError, match="complete rows"):
        pm.mardia(pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0], "c": [1.0, np.nan]}))
    x = pd.DataFrame(np.random.default_rng(1).normal(size=(30, 3)), columns=list("abc"))
    x["d"] = x["a"] + x["b"]
    with pytest.raises(DataError, match="singular"):
        pm.mardia(x)
