"""psychometrika.stats.irt (2PL, Rasch, graded response model) against R and by simulation recovery.

R references (tests/r/make_reference_irt.R): an independent R implementation maximising the same
marginal likelihood directly (BFGS + Newton, statmod Gauss-Hermite nodes, optimHess SEs),
lme4::glmer (Rasch, adaptive quadrature), eRm::RM (Rasch, conditional ML) and psych::irt.fa.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "irt_mml.json").read_text())
PAR, SE = 1e-4, 1e-3          # parameters (same quadrature, both converged); SEs (finite-difference Hessians)


def _split(par, n_cat):
    out, pos = [], 0
    for k in n_cat:
        out.append((par[pos], np.array(par[pos + 1:pos + k])))
        pos += k
    return out


@pytest.fixture(scope="module")
def ability():
    return pd.read_csv(FIX / "ability.csv")


@pytest.fixture(scope="module")
def fit2pl(ability):
    return pms.twopl(ability)


@pytest.fixture(scope="module")
def fitgrm():
    bfi = pd.read_csv(FIX / "bfi.csv")
    return pms.grm(bfi[REF["grm"]["items"]])


@pytest.mark.parametrize("case", ["twopl", "grm"])
def test_parameters_match_r(case, fit2pl, fitgrm):
    fit, ref = {"twopl": fit2pl, "grm": fitgrm}[case], REF[case]
    assert fit.converged and ref["convergence"] == 0
    n_cat = [len(c) for c in fit.categories.values()]
    est = _split(ref["par"], n_cat)
    ses = _split(ref["se"], n_cat)
    kmax = max(n_cat) - 1
    for j, item in enumerate(fit.items):
        a, d = est[j]
        np.testing.assert_allclose(fit.coef.loc[item, "a"], a, atol=PAR)
        np.testing.assert_allclose(fit.coef.loc[item].iloc[1:1 + d.size], d, atol=PAR)
        np.testing.assert_allclose(fit.coef.loc[item].iloc[1 + kmax:1 + kmax + d.size], -d / a, atol=PAR)
        np.testing.assert_allclose(fit.se.loc[item, "a"], ses[j][0], rtol=SE)
        np.testing.assert_allclose(fit.se.loc[item].iloc[1:1 + d.size], ses[j][1], rtol=SE)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    assert fit.n_par == len(ref["par"])


@pytest.mark.parametrize("case", ["twopl", "grm"])
def test_information_and_eap_match_r(case, fit2pl, fitgrm):
    fit, ref = {"twopl": fit2pl, "grm": fitgrm}[case], REF[case]
    info = fit.test_information(ref["theta"])
    np.testing.assert_allclose(info.to_numpy(), ref["information"], rtol=1e-4)
    np.testing.assert_allclose(info.to_numpy(), fit.item_information(ref["theta"]).sum(axis=1).to_numpy())
    sc = fit.scores()
    rows = np.array(ref["eap_rows"]) - 1
    np.testing.assert_allclose(sc["theta"].to_numpy()[rows], ref["eap"]["theta"], atol=1e-4)
    np.testing.assert_allclose(sc["se"].to_numpy()[rows], ref["eap"]["se"], atol=1e-4)


def test_2pl_information_closed_form(fit2pl):
    """2PL item information is a^2 P (1 - P)."""
    th = np.array([-1.0, 0.3, 2.0])
    a, d = fit2pl.coef.loc["reason.4", ["a", "d"]]
    p = 1 / (1 + np.exp(-(a * th + d)))
    np.testing.assert_allclose(fit2pl.item_information(th)["reason.4"].to_numpy(), a * a * p * (1 - p), rtol=1e-10)
    probs = fit2pl.probabilities(th)["reason.4"]
    np.testing.assert_allclose(probs.iloc[:, 1].to_numpy(), p, rtol=1e-12)


def test_rasch_matches_direct_mml_glmer_and_erm(ability):
    fit = pms.twopl(ability, equal_slopes=True)
    ref = REF["rasch_mml"]
    assert fit.coef["a"].nunique() == 1
    np.testing.assert_allclose(np.r_[fit.coef["a"].iloc[0], fit.coef["d"]], ref["par"], atol=PAR)
    np.testing.assert_allclose(np.r_[fit.se["a"].iloc[0], fit.se["d"]], ref["se"], rtol=SE)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    # lme4::glmer(y ~ 0 + item + (1 | id), nAGQ = 25): intercepts = d, person SD = common slope
    gl = REF["rasch_glmer"]
    np.testing.assert_allclose(fit.coef["d"].to_numpy(), gl["intercepts"]["values"], atol=1e-4)
    assert fit.coef["a"].iloc[0] == pytest.approx(gl["sd"], abs=1e-4)
    assert fit.loglik == pytest.approx(gl["loglik"], abs=1e-4)
    # eRm::RM (conditional ML, easiness = d up to a constant): centred values within .03
    beta = np.array(REF["rasch_erm"]["beta"]["values"])
    d = fit.coef["d"].to_numpy()
    np.testing.assert_allclose(d - d.mean(), beta - beta.mean(), atol=0.03)


def test_2pl_agrees_with_psych_irt_fa(fit2pl):
    """psych::irt.fa (tetrachoric factor analysis, normal-ogive metric) is a rough cross-check."""
    ref = REF["irt_fa"]
    assert np.corrcoef(fit2pl.coef["a"], ref["discrimination"]["values"])[0, 1] > 0.95
    assert np.corrcoef(fit2pl.coef["b"], ref["difficulty"]["values"])[0, 1] > 0.95


def _sim_grm(a, d, theta, rng):
    z = a[None, :, None] * theta[:, None, None] + d[None, :, :]
    return (rng.random((theta.size, a.size, 1)) < 1 / (1 + np.exp(-z))).sum(axis=2).astype(float)


def test_2pl_simulation_recovery():
    rng = np.random.default_rng(2024)
    a = np.array([0.8, 1.0, 1.2, 1.5, 2.0, 0.9, 1.3, 1.7, 1.1, 2.2])
    b = np.array([-1.5, -1, -0.5, 0, 0.3, 0.6, 1, 1.4, -0.2, 0.8])
    theta = rng.standard_normal(2000)
    x = pd.DataFrame(_sim_grm(a, (-a * b)[:, None], theta, rng), columns=[f"i{j}" for j in range(10)])
    fit = pm.twopl(x)
    assert np.max(np.abs(fit.coef["a"] - a)) < 0.3
    assert np.max(np.abs(fit.coef["b"] - b)) < 0.2
    # the SEs are honest: every estimate within 3.5 SE of the truth
    assert np.max(np.abs((fit.coef["a"] - a) / fit.se["a"])) < 3.5
    assert np.max(np.abs((fit.coef["b"] - b) / fit.se["b"])) < 3.5


def test_grm_simulation_recovery_and_scores():
    rng = np.random.default_rng(7)
    a = np.array([1.0, 1.5, 2.0, 0.8, 1.2, 1.8])
    b = np.sort(rng.normal(0, 1, (6, 3)), axis=1)
    theta = rng.standard_normal(2000)
    x = pd.DataFrame(_sim_grm(a, -a[:, None] * b, theta, rng) + 1, columns=[f"g{j}" for j in range(6)])
    fit = pm.grm(x, se=False)
    assert fit.se is None
    assert np.max(np.abs(fit.coef["a"] - a)) < 0.25
    assert np.max(np.abs(fit.coef[["b1", "b2", "b3"]].to_numpy() - b)) < 0.25
    assert fit.categories["g0"] == [1.0, 2.0, 3.0, 4.0]
    eap = fit.scores()
    assert np.corrcoef(eap["theta"], theta)[0, 1] > 0.8
    # posterior SDs describe the actual error: RMSE within 10 % of the mean SE
    rmse = float(np.sqrt(np.mean((eap["theta"] - theta) ** 2)))
    assert abs(rmse - eap["se"].mean()) / eap["se"].mean() < 0.1
    mp = fit.scores(method="MAP")
    assert np.corrcoef(mp["theta"], eap["theta"])[0, 1] > 0.99
    assert np.all(np.abs(mp["theta"]) <= np.abs(eap["theta"]) + 0.5)
    # scoring new data with the fitted parameters reproduces the fitted-data scores
    again = fit.scores(x.iloc[:5])
    np.testing.assert_allclose(again.to_numpy(), eap.iloc[:5].to_numpy(), atol=1e-12)


def test_summary_and_errors(fit2pl):
    text = fit2pl.summary()
    assert "Two-parameter logistic" in text and "reason.4" in text and "Test information" in text
    with pytest.raises(DataError, match="dichotomous"):
        pms.twopl(pd.DataFrame({"x": [0, 1, 2, 1], "y": [0, 1, 1, 0]}))
    with pytest.raises(DataError, match="fewer than 2"):
        pms.grm(pd.DataFrame({"x": [1, 1, 1, 1], "y": [0, 1, 1, 0]}))
    with pytest.raises(DataError, match="MAP"):
        fit2pl.scores(method="ML")
