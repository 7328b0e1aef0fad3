"""Effect sizes, correlations and norm comparisons against R's effectsize 0.8.3 and psych 2.2.9
(fixtures from tests/r/make_reference_lavaan_effects.R).

effectsize finds noncentrality parameters with optim (Nelder-Mead, abstol 1e-9); psychometrika solves
the same equations with a root finder, so CIs agree to ~1e-6. R's pt() with a noncentrality above 37.62
is inaccurate (documented in ?pt); that one case (bfi one-sample, t = 50) is checked against R's CI at
1e-3 and for exactness with scipy's noncentral t.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "effects_reference.json").read_text())
CLOSED = 1e-6

TWO = [("cohen_d", pms.cohen_d, {}), ("cohen_d_welch", pms.cohen_d, {"pooled_sd": False}),
       ("cohen_d_90", pms.cohen_d, {"ci": 0.90}), ("cohen_d_mu", pms.cohen_d, {"mu": 1}),
       ("hedges_g", pms.hedges_g, {}), ("hedges_g_welch", pms.hedges_g, {"pooled_sd": False}),
       ("glass_delta", pms.glass_delta, {})]


def _check(res: pd.DataFrame, ref: dict, tol: float = CLOSED) -> None:
    row = res.iloc[0]
    for k, v in ref.items():
        assert row[k] == pytest.approx(v, abs=tol), k


@pytest.mark.parametrize("sample", list(REF["two_sample"]))
@pytest.mark.parametrize("key, fn, kw", TWO, ids=[t[0] for t in TWO])
def test_two_sample_effect_sizes_match_effectsize(sample, key, fn, kw):
    s = REF["two_sample"][sample]
    _check(fn(s["x"], s["y"], **kw), s[key])


@pytest.mark.parametrize("sample", list(REF["two_sample"]))
def test_one_sample_effect_sizes(sample):
    s = REF["two_sample"][sample]
    d, g = pms.cohen_d(s["x"], mu=0.5), pms.hedges_g(s["x"], mu=0.5)
    x = np.array(s["x"])
    t = (x.mean() - 0.5) / (x.std(ddof=1) / math.sqrt(len(x)))
    tol = CLOSED if abs(t) < 37 else 1e-3      # R's pt() is inexact for ncp > 37.62
    _check(d, s["one_sample"], tol)
    _check(g, s["one_sample_g"], tol)
    # exactness of our bounds: the noncentral t puts 2.5 % on each side
    lo = d["CI_low"].iloc[0] * math.sqrt(len(x))
    assert stats.nct.cdf(t, len(x) - 1, lo) == pytest.approx(0.975, abs=1e-9)


def test_paired_effect_sizes():
    p = REF["paired"]
    _check(pms.cohen_d(p["x"], p["y"], paired=True), p["cohen_d"])
    _check(pms.hedges_g(p["x"], p["y"], paired=True), p["hedges_g"])
    # paired = one-sample d of the differences
    diff = np.array(p["x"]) - np.array(p["y"])
    assert pms.cohen_d(diff)["Cohens_d"].iloc[0] == pytest.approx(p["cohen_d"]["Cohens_d"], abs=1e-12)


@pytest.fixture(scope="module")
def mtcars():
    return pd.read_csv(FIX / "effects_mtcars.csv")


@pytest.mark.parametrize("key, fn, kw", [
    ("eta2_partial", pms.eta_squared, {}), ("eta2", pms.eta_squared, {"partial": False}),
    ("omega2_partial", pms.omega_squared, {}), ("omega2", pms.omega_squared, {"partial": False}),
    ("eta2_partial_two_sided", pms.eta_squared, {"alternative": "two.sided"})])
def test_anova_effect_sizes_match_effectsize(mtcars, key, fn, kw):
    fit = smf.ols("mpg ~ C(cyl) * C(am)", mtcars).fit()
    ref = pd.DataFrame(REF["anova"]["two_way"][key])
    for model in (fit, anova_lm(fit)):          # fitted OLS or its type-I ANOVA table
        res = fn(model, **kw)
        assert list(res.columns) == list(ref.columns)
        assert list(res["Parameter"]) == ["C(cyl)", "C(am)", "C(cyl):C(am)"]
        np.testing.assert_allclose(res.iloc[:, 1:].to_numpy(float), ref.iloc[:, 1:].to_numpy(float), atol=CLOSED)


def test_one_way_anova_switches_to_non_partial(mtcars):
    fit = smf.ols("mpg ~ C(cyl)", mtcars).fit()
    for fn, key, col in ((pms.eta_squared, "eta2", "Eta2"), (pms.omega_squared, "omega2", "Omega2")):
        res = fn(fit)
        ref = REF["anova"]["one_way"][key]
        assert col in res.columns
        for k in (col, "CI_low", "CI_high"):
            assert res[k].iloc[0] == pytest.approx(ref[k], abs=CLOSED)


def test_cohen_h_matches_effectsize():
    h = REF["cohen_h"]
    _check(pms.cohen_h(h["p1"], h["p2"], n1=h["n1"], n2=h["n2"]), h["cohen_h"])
    _check(pms.cohen_h(h["p1"], h["p2"], n1=h["n1"], n2=h["n2"], ci=0.9), h["cohen_h_90"])
    tab = np.array(h["table"])      # rows: outcome, columns: groups
    x = np.r_[np.ones(tab[0, 0]), np.zeros(tab[1, 0])]
    y = np.r_[np.ones(tab[0, 1]), np.zeros(tab[1, 1])]
    _check(pms.cohen_h(x, y), h["cohen_h"])
    with pytest.raises(DataError, match="sample sizes"):
        pms.cohen_h(0.5, 0.4)


def test_cor_ci_matches_corr_test():
    c = REF["cor"]
    sa = pd.read_csv(FIX / c["data"])[c["vars"]]
    for method in ("pearson", "spearman"):
        res = pms.cor_ci(sa, method=method)
        ref = pd.DataFrame(c[method]["ci"])
        np.testing.assert_allclose(res[["CI_low", "r", "CI_high", "p"]].to_numpy(), ref.to_numpy(), atol=CLOSED)
    res = pms.cor_ci(sa)
    n = np.array(c["pearson"]["n"])
    assert list(res["n"]) == [n[i, j] for i in range(5) for j in range(i + 1, 5)]
    one = pms.cor_ci(sa["SATV"], sa["SATQ"]).iloc[0]
    assert one["r"] == pytest.approx(c["cor_test"]["r"], abs=CLOSED)
    assert one["p"] == pytest.approx(c["cor_test"]["p"], rel=1e-6)
    assert [one["CI_low"], one["CI_high"]] == pytest.approx(c["cor_test"]["ci"], abs=CLOSED)
    assert one["n"] == c["cor_test"]["n"]
    r90 = pms.cor_ci(sa["SATV"].to_numpy(), sa["ACT"].to_numpy(), ci=0.90).iloc[0]
    assert [r90["CI_low"], r90["CI_high"]] == pytest.approx(c["cor_test_90"]["ci"], abs=CLOSED)
    cross = pms.cor_ci(sa[["ACT"]], sa[["SATV", "SATQ"]])
    assert list(cross["y"]) == ["SATV", "SATQ"] and len(cross) == 2


def test_compare_groups_equals_cohen_d_and_hedges_g():
    s = REF["two_sample"]["sleep"]
    df = pd.DataFrame({"score": s["x"] + s["y"], "grp": ["a"] * len(s["x"]) + ["b"] * len(s["y"])})
    res = pms.compare_groups(df, "score", "grp", ref="b")
    row = res.iloc[0]
    assert (row["group1"], row["group2"], row["n1"], row["n2"]) == ("a", "b", 10, 10)
    assert row["d"] == pytest.approx(s["cohen_d"]["Cohens_d"], abs=1e-12)
    assert row["d_CI_low"] == pytest.approx(s["cohen_d"]["CI_low"], abs=CLOSED)
    assert row["g_CI_high"] == pytest.approx(s["hedges_g"]["CI_high"], abs=CLOSED)
    assert row["p"] == pytest.approx(stats.ttest_ind(s["x"], s["y"]).pvalue, rel=1e-12)
    # sleep is really paired (same 10 patients): paired_by gives d_z
    df["id"] = list(range(10)) * 2
    pr = pms.compare_groups(df, "score", "grp", ref="b", paired_by="id").iloc[0]
    assert pr["d"] == pytest.approx(REF["paired"]["cohen_d"]["Cohens_d"], abs=1e-12)
    assert pr["d_CI_low"] == pytest.approx(REF["paired"]["cohen_d"]["CI_low"], abs=CLOSED)


def test_compare_groups_all_pairs_and_planted_effect():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"g": np.repeat(["x", "y", "z"], 4000),
                       "v": np.r_[rng.normal(0, 1, 4000), rng.normal(0.5, 1, 4000), rng.normal(1.0, 1, 4000)]})
    res = pms.compare_groups(df, "v", "g")
    assert [(a, b) for a, b in zip(res.group1, res.group2)] == [("x", "y"), ("x", "z"), ("y", "z")]
    np.testing.assert_allclose(res["d"], [-0.5, -1.0, -0.5], atol=0.06)
    assert (res["d_CI_low"] < res["d"]).all() and (res["d"] < res["d_CI_high"]).all()
    assert (res["g"].abs() < res["d"].abs()).all()


def test_effect_size_input_errors():
    with pytest.raises(DataError, match="two samples"):
        pms.glass_delta([1, 2, 3], None)
    with pytest.raises(DataError, match="equal length"):
        pms.cohen_d([1, 2, 3], [1, 2], paired=True)
    with pytest.raises(DataError, match="ci"):
        pms.cohen_d([1, 2, 3], [2, 3, 4], ci=95)
    with pytest.raises(DataError, match="ANOVA"):
        pms.eta_squared([1, 2, 3])
    with pytest.raises(DataError, match="at least 2 groups"):
        pms.compare_groups(pd.DataFrame({"g": ["a", "a"], "v": [1, 2]}), "v", "g")


# ------------------------------------------------------------------------------ human norms
def test_compare_norms_hand_computed():
    scores = pd.DataFrame({"scale": ["E"] * 4 + ["A"] * 3, "score": [3.0, 3.5, 4.0, 4.5, 2.0, 2.0, 2.6]})
    norms = pd.DataFrame({"scale": ["E", "A", "N"], "mean": [3.25, 3.64, 3.0], "sd": [0.9, 0.72, 0.8],
                          "n": [1000, 1000, 1000]})
    res = pms.compare_norms(scores, norms).set_index("scale")
    assert list(res.index) == ["E", "A"]                     # N has no model scores
    m, s = 3.75, np.std([3.0, 3.5, 4.0, 4.5], ddof=1)
    d = (m - 3.25) / 0.9
    assert res.loc["E", "d"] == pytest.approx(d, abs=1e-12)
    se = math.sqrt(s ** 2 / (4 * 0.81) + d ** 2 / 2000)
    assert res.loc["E", "d_CI_low"] == pytest.approx(d - 1.959963984540054 * se, abs=1e-12)
    assert res.loc["E", "percentile"] == pytest.approx(100 * stats.norm.cdf(d), abs=1e-10)
    welch = stats.ttest_ind_from_stats(m, s, 4, 3.25, 0.9, 1000, equal_var=False)
    assert res.loc["E", "p"] == pytest.approx(welch.pvalue, rel=1e-9)
    # the instrument-norms object (duck-typed .scales) and dict inputs give the same numbers
    class _S:
        def __init__(self, **kw):
            self.__dict__.update(kw)
    obj = _S(scales=[_S(scale="E", mean=3.25, sd=0.9, n=1000, source="x"), _S(scale="A", mean=3.64, sd=0.72,
                                                                            n=1000, source="x")])
    res2 = pms.compare_norms(scores, obj).set_index("scale")
    assert res2.loc["E", "d"] == res.loc["E", "d"]
    res3 = pms.compare_norms(scores, {"E": {"mean": 3.25, "sd": 0.9, "n": 1000}}).set_index("scale")
    assert res3.loc["E", "d_CI_high"] == pytest.approx(res.loc["E", "d_CI_high"], abs=1e-12)


def test_loading_congruence_wraps_congruence():
    L = pd.DataFrame({"F1": [0.7, 0.6, 0.1, 0.0], "F2": [0.1, 0.0, 0.8, 0.5]}, index=["a", "b", "c", "d"])
    human = {"b": {"E": 0.5}, "a": {"E": 0.8}, "c": {"N": 0.7}, "d": {"N": 0.6}, "zz": {"E": 0.4}}
    res = pms.loading_congruence(L, human)
    x, y = L["F1"].to_numpy(), np.array([0.8, 0.5, 0.0, 0.0])
    assert res.loc["F1", "E"] == pytest.approx(x @ y / math.sqrt((x @ x) * (y @ y)), abs=1e-12)
    assert res.loc["F2", "N"] > 0.95


def test_top_level_names():
    for name in ("cohen_d", "hedges_g", "glass_delta", "eta_squared", "omega_squared", "cohen_h",
                 "compare_groups", "cor_ci", "compare_norms", "loading_congruence"):
        assert getattr(pm, name) is getattr(pms, name)
