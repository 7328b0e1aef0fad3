"""psychometrika.stats.reliability against R's psych (fixtures from tests/r/make_reference_psych.R).

Closed-form statistics are compared at 1e-6, iterative ones (omega, glb) at 1e-4; bootstrap
intervals are checked for plausibility against R's.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika.stats as pms
from psychometrika.errors import DataError
from psychometrika.stats.common import PsychometrikaWarning

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
CLOSED, ITER = 1e-6, 1e-4


def _ref(name: str) -> dict:
    return json.loads((FIX / f"psych_{name}.json").read_text())


def _data(case: dict) -> pd.DataFrame:
    if case["data"].startswith("harman"):
        return pd.read_csv(FIX / case["data"], index_col=0)
    d = pd.read_csv(FIX / case["data"])
    return d[case["items"]] if case.get("items") else d


def _mat(x: dict) -> pd.DataFrame:
    return pd.DataFrame(np.array(x["values"], dtype=float), index=x["rows"], columns=x["cols"])


def _vec(x: dict) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in x["values"]], dtype=float)


def _opt(v):
    return None if v in (None, {}, []) else v


ALPHA = _ref("alpha")
ALPHA_RAW = [k for k in ALPHA if k not in ("versions", "harman74")]


# ------------------------------------------------------------------------------------ alpha
@pytest.mark.parametrize("case", ALPHA_RAW)
def test_alpha_matches_psych(case):
    c = ALPHA[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        res = pms.alpha(_data(c), keys=_opt(c.get("keys")), check_keys=c["check_keys"], n_iter=1)
    np.testing.assert_allclose(res.total.to_numpy(), _vec(c["total"]), atol=CLOSED, rtol=CLOSED)
    assert list(res.total.index) == ["raw_alpha", "std_alpha", "G6", "average_r", "S_N", "ase", "mean", "sd",
                                     "median_r"]
    ref_drop = _mat(c["alpha_drop"])
    assert list(res.alpha_drop.index) == list(ref_drop.index)  # reversed items carry a trailing "-"
    np.testing.assert_allclose(res.alpha_drop.to_numpy(), ref_drop.to_numpy(), atol=CLOSED)
    ref_items = _mat(c["item_stats"])
    np.testing.assert_allclose(res.item_stats.to_numpy(), ref_items.to_numpy(), atol=CLOSED)
    assert list(res.item_stats.columns) == ["n", "raw_r", "std_r", "r_cor", "r_drop", "mean", "sd"]
    feldt = res.ci.loc["Feldt"]
    assert feldt["CI_low"] == pytest.approx(c["feldt"]["lower"], abs=CLOSED)
    assert feldt["CI_high"] == pytest.approx(c["feldt"]["upper"], abs=CLOSED)
    if "response_freq" in c:
        rf = _mat(c["response_freq"])
        assert list(res.response_freq.columns) == list(rf.columns)
        np.testing.assert_allclose(res.response_freq.to_numpy(), rf.to_numpy(), atol=CLOSED)


def test_alpha_orientation_values_from_brief():
    bfi = pd.read_csv(FIX / "bfi.csv")
    res = pms.alpha(bfi[["A1", "A2", "A3", "A4", "A5"]], keys=["A1"], n_iter=1)
    assert res.total["raw_alpha"] == pytest.approx(0.7030184, abs=1e-7)
    assert res.total["std_alpha"] == pytest.approx(0.71303, abs=1e-5)
    np.testing.assert_allclose(res.alpha_drop["raw_alpha"], [0.7185, 0.6172, 0.6003, 0.6858, 0.6430], atol=6e-5)


def test_alpha_bootstrap_ci_is_plausible():
    c = ALPHA["bfi_A"]
    res = pms.alpha(_data(c), keys=["A1"], n_iter=500, seed=11)
    lo, mid, hi = res.ci.loc["Bootstrap", ["CI_low", "alpha", "CI_high"]]
    r_lo, r_mid, r_hi = _vec(c["boot_ci"])
    point = res.total["raw_alpha"]
    assert lo < point < hi
    assert abs(mid - r_mid) < 0.005
    assert abs((hi - lo) - (r_hi - r_lo)) < 0.35 * (r_hi - r_lo)
    assert abs(lo - r_lo) < 0.01 and abs(hi - r_hi) < 0.01
    again = pms.alpha(_data(c), keys=["A1"], n_iter=500, seed=11)
    assert again.ci.loc["Bootstrap", "CI_low"] == lo  # seeded => reproducible


def test_alpha_correlation_matrix_input():
    c = ALPHA["harman74"]
    res = pms.alpha(_data(c))
    np.testing.assert_allclose(res.total.to_numpy(), _vec(c["total"]), atol=CLOSED)
    assert list(res.total.index) == ["raw_alpha", "std_alpha", "G6", "average_r", "S_N", "median_r"]
    np.testing.assert_allclose(res.alpha_drop.to_numpy(), _mat(c["alpha_drop"]).to_numpy(), atol=CLOSED)
    np.testing.assert_allclose(res.item_stats.to_numpy(), _mat(c["item_stats"]).to_numpy(), atol=CLOSED)
    assert res.scores is None


def test_alpha_keys_equal_manual_reversal_and_check_keys_warns():
    bfi = pd.read_csv(FIX / "bfi.csv")[["A1", "A2", "A3", "A4", "A5"]]
    keyed = pms.alpha(bfi, keys=["A1"], n_iter=1)
    manual = pms.alpha(pms.reverse_items(bfi, ["A1"]), n_iter=1)
    np.testing.assert_allclose(keyed.total.to_numpy(), manual.total.to_numpy(), atol=1e-12)
    with pytest.warns(PsychometrikaWarning, match="reversed"):
        checked = pms.alpha(bfi, check_keys=True, n_iter=1)
    assert checked.reversed == ["A1"]
    with pytest.warns(PsychometrikaWarning, match="probably should be reversed"):
        pms.alpha(bfi, n_iter=1)


def test_alpha_ci_feldt_function():
    lo, hi = pms.alpha_ci(0.7030184460573041, 2800, 5)
    assert lo == pytest.approx(ALPHA["bfi_A"]["feldt"]["lower"], abs=1e-12)
    assert hi == pytest.approx(ALPHA["bfi_A"]["feldt"]["upper"], abs=1e-12)


def test_alpha_robustness():
    bfi = pd.read_csv(FIX / "bfi.csv")[["A2", "A3", "A4", "A5"]]
    with pytest.warns(PsychometrikaWarning, match="'K' had no variance"):
        res = pms.alpha(bfi.assign(K=4.0), n_iter=1)
    assert "K" not in res.item_stats.index
    with pytest.raises(DataError, match="'K'.*no responses"):
        pms.alpha(bfi.assign(K=np.nan))
    with pytest.raises(DataError, match="1 respondent"):
        pms.alpha(bfi.iloc[:1])
    bad = bfi.astype(object)
    bad.iloc[3, 1] = "x"
    with pytest.raises(DataError, match="'A3'.*non-numeric"):
        pms.alpha(bad)
    with pytest.raises(DataError, match="not in the data"):
        pms.alpha(bfi, keys=["Z9"])


def test_alpha_summary_reads_like_psych():
    res = pms.alpha(pd.read_csv(FIX / "bfi.csv")[["A1", "A2", "A3", "A4", "A5"]], keys=["A1"], n_iter=1)
    text = res.summary()
    assert "raw_alpha" in text and "Reliability if an item is dropped" in text and "Feldt" in text
    assert "A1-" in text and "0.7" in text
    assert str(res) == text


# ------------------------------------------------------------------------------------ split half
SPLIT = _ref("splithalf")


@pytest.mark.parametrize("case", ["bfi_A", "bfi_AC", "holzinger", "ability"])
def test_split_half_exhaustive_matches_psych(case):
    c = SPLIT[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        s = pms.split_half(_data(c), check_keys=c["check_keys"])
    assert s.exhaustive
    for k in ["maxrb", "minrb", "meanr", "av_r", "med_r", "alpha", "lambda2", "lambda6"]:
        assert getattr(s, k) == pytest.approx(c[k], abs=CLOSED), k


def test_split_half_sampled_is_plausible():
    c = SPLIT["bfi_25_sampled"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        s = pms.split_half(_data(c), check_keys=True, n_sample=3000, seed=3)
    assert not s.exhaustive and s.n_splits == 3000
    for k in ["av_r", "med_r", "alpha", "lambda2", "lambda6"]:
        assert getattr(s, k) == pytest.approx(c[k], abs=CLOSED), k
    assert s.meanr == pytest.approx(c["meanr"], abs=0.005)
    assert s.maxrb == pytest.approx(c["maxrb"], abs=0.02)
    assert s.minrb < s.meanr < s.maxrb


# ------------------------------------------------------------------------------------ guttman
GUTT = _ref("guttman")


@pytest.mark.parametrize("case", [k for k in GUTT if k != "versions"])
def test_guttman_matches_psych(case):
    c = GUTT[case]
    g = pms.guttman(_data(c), keys=_opt(c.get("keys")))
    for k in ["lambda_1", "lambda_2", "lambda_3", "lambda_4", "lambda_5", "lambda_5p", "lambda_6", "alpha_pc",
              "r_pc", "beta_pc", "beta"]:
        assert getattr(g, k) == pytest.approx(c[k], abs=CLOSED), k
    assert g.glb == pytest.approx(c["glb"], abs=ITER)
    np.testing.assert_allclose(list(g.tenberge.values()), _vec(c["tenberge"]), atol=CLOSED)
    assert "L6 (smc)" in g.summary()


# ------------------------------------------------------------------------------------ omega
OMEGA = _ref("omega")


@pytest.mark.parametrize("case", [k for k in OMEGA if k != "versions"])
def test_omega_matches_psych(case):
    c = OMEGA[case]
    om = pms.omega(_data(c), nfactors=c["nfactors"], n_obs=_opt(c.get("n_obs")))
    for k in ["omega_h", "omega_lim", "omega_tot", "ECV"]:
        assert getattr(om, k) == pytest.approx(c[k], abs=ITER), k
    assert om.alpha == pytest.approx(c["alpha"], abs=CLOSED)
    assert om.G6 == pytest.approx(c["G6"], abs=CLOSED)
    sl = _mat(c["sl"])
    assert list(om.schmid.index) == list(sl.index)
    assert list(om.schmid.columns) == ["g", *[f"F{i + 1}*" for i in range(c["nfactors"])], "h2", "u2", "p2"]
    np.testing.assert_allclose(om.schmid.to_numpy(), sl.to_numpy(), atol=ITER)
    np.testing.assert_allclose(om.omega_group.to_numpy(), _mat(c["omega_group"]).to_numpy(), atol=ITER)
    np.testing.assert_allclose(om.phi.to_numpy(), _mat(c["phi"]).to_numpy(), atol=ITER)
    assert om.omega_t == om.omega_tot


def test_omega_summary_and_errors():
    hs = pd.read_csv(FIX / "holzinger.csv")
    text = pms.omega(hs).summary()
    assert "Omega Hierarchical" in text and "Omega Total" in text and "Schmid Leiman" in text
    with pytest.raises(DataError, match="factors requested"):
        pms.omega(hs.iloc[:, :3], nfactors=3)
    with pytest.raises(DataError, match="oblimin"):
        pms.omega(hs, rotate="varimax")


# ------------------------------------------------------------------------------------ scoreItems
SCORE = _ref("scoreitems")


@pytest.mark.parametrize("case,impute", [("bfi_median", "median"), ("bfi_none", "none"), ("harman", "median")])
def test_score_items_matches_psych(case, impute):
    c = SCORE[case]
    keys = c.get("keys2", SCORE["keys"])
    res = pms.score_items(_data(c), keys, impute=impute)
    for attr, key in [("alpha", "alpha"), ("av_r", "av_r"), ("G6", "G6")]:
        np.testing.assert_allclose(getattr(res, attr).to_numpy(), _mat(c[key]).to_numpy().ravel(), atol=CLOSED)
    np.testing.assert_allclose(res.med_r.to_numpy(), _vec(c["med_r"]), atol=CLOSED)
    np.testing.assert_allclose(res.n_items.to_numpy(), _vec(c["n_items"]))
    for attr in ["cor", "corrected", "item_cor", "item_corrected"]:
        ref = _mat(c[attr])
        np.testing.assert_allclose(getattr(res, attr).to_numpy(), ref.to_numpy(), atol=CLOSED, err_msg=attr)
    if "scores" in c:
        ref = _mat(c["scores"]).to_numpy()
        np.testing.assert_array_equal(np.isnan(res.scores.to_numpy()), np.isnan(ref))
        np.testing.assert_allclose(res.scores.to_numpy(), ref, atol=CLOSED)
        np.testing.assert_allclose(res.ase.to_numpy(), _mat(c["ase"]).to_numpy().ravel(), atol=CLOSED)
    else:
        assert res.scores is None


def test_score_items_errors_and_summary():
    bfi = pd.read_csv(FIX / "bfi.csv")
    with pytest.raises(DataError, match="'Z1'"):
        pms.score_items(bfi, {"x": ["A1", "-Z1"]})
    with pytest.raises(DataError, match="impute"):
        pms.score_items(bfi, {"x": ["A1", "A2"]}, impute="knn")
    keys = {"agree": ["-A1", "A2", "A3", "A4", "A5"], "consc": ["C1", "C2", "C3", "-C4", "-C5"]}
    res = pms.score_items(bfi, keys)
    with pytest.warns(DeprecationWarning, match=r"score_items\(data, keys\)"):
        old = pms.score_items(keys, bfi)                          # psych's (keys, data) order still works
    pd.testing.assert_series_equal(old.alpha, res.alpha)
    assert "corrected correlations above the diagonal" in res.summary()
    # alpha of a scale from score_items with no missing-data imputation effects equals alpha()
    hs = pd.read_csv(FIX / "holzinger.csv")
    s = pms.score_items(hs, keys={"all": list(hs.columns)})
    assert s.alpha["all"] == pytest.approx(pms.alpha(hs, n_iter=1).total["raw_alpha"], abs=1e-12)
