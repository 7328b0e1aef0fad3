"""Response styles, polychoric correlations (vs psych::polychoric), ordinal alpha/omega and
expected-vs-argmax reliability.

R reference: tests/r/make_reference_irt.R (psych::polychoric; psych::alpha / omega of its rho).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError
from psychometrika.stats.common import PsychometrikaWarning

rs_mod = importlib.import_module("psychometrika.stats.ordinal")
FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "irt_polychoric.json").read_text())
RHO = 1e-4       # psych's optimize() stops at tol = eps^0.25; our optimum has the higher likelihood


def _mat(x):
    v = np.array([[np.inf if e is None else e for e in row] for row in x["values"]], dtype=float)
    return pd.DataFrame(v, index=x["rows"], columns=x["cols"])


def _data(case):
    d = pd.read_csv(FIX / case["data"])
    return d[case["items"]]


# ------------------------------------------------------------------------------------ polychoric
@pytest.mark.parametrize("case", ["N", "A", "mixed", "ability"])
def test_polychoric_matches_psych(case):
    c = REF[case]
    if case == "mixed":
        with pytest.warns(PsychometrikaWarning, match="equal number of response alternatives"):
            pc = pms.polychoric(_data(c))
        assert not pc.global_thresholds
    else:
        pc = pms.polychoric(_data(c))
    rho = _mat(c["rho"])
    np.testing.assert_allclose(pc.rho.to_numpy(), rho.to_numpy(), atol=RHO)
    assert list(pc.rho.columns) == c["items"]
    tau = _mat(c["tau"])
    # psych reports NA for a category an item never uses; we report +inf
    np.testing.assert_allclose(pc.tau.to_numpy(), tau.to_numpy(), atol=1e-10)
    assert pc.n_obs == len(_data(c))


def test_polychoric_optimum_not_worse_than_psych():
    c = REF["N"]
    x = _data(c).to_numpy()
    pc = pms.polychoric(_data(c))
    tau = pc.tau.to_numpy()
    a, b = x[:, 1], x[:, 0]
    ok = ~np.isnan(a) & ~np.isnan(b)
    tab = np.zeros((6, 6))
    np.add.at(tab, (a[ok].astype(int) - 1, b[ok].astype(int) - 1), 1)
    tab /= tab.sum()

    def nll(r):
        return -np.sum(tab * np.log(rs_mod._cell_probs(r, tau[1], tau[0])))
    assert nll(pc.rho.iloc[1, 0]) <= nll(_mat(c["rho"]).iloc[1, 0]) + 1e-12


def test_bivariate_normal_cdf():
    h = np.array([0.3, -1.2, 0.5, 2.5, -0.4])
    k = np.array([0.5, 0.8, 0.5, -2.0, -0.1])
    for r in (-0.95, -0.3, 0.0, 0.6, 0.99):
        ref = [multivariate_normal([0, 0], [[1, r], [r, 1]]).cdf([hh, kk]) for hh, kk in zip(h, k)]
        np.testing.assert_allclose(rs_mod._bvn_cdf(h, k, r), ref, atol=1e-6)
    # closed forms: Phi2(0, 0; rho) = 1/4 + asin(rho) / (2 pi); infinite limits
    for r in (-0.8, 0.2, 0.9):
        assert rs_mod._bvn_cdf(np.array([0.0]), np.array([0.0]), r)[0] == pytest.approx(
            0.25 + np.arcsin(r) / (2 * np.pi), abs=1e-13)
    assert rs_mod._bvn_cdf(np.array([np.inf]), np.array([0.3]), 0.5)[0] == pytest.approx(0.6179114222, abs=1e-9)
    assert rs_mod._bvn_cdf(np.array([-np.inf]), np.array([0.3]), 0.5)[0] == 0.0


@pytest.mark.parametrize("case", ["N", "A", "mixed"])
def test_ordinal_alpha_matches_psych(case):
    c = REF[case]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        res = pm.ordinal_alpha(_data(c), keys=c.get("keys"))
    ref = dict(zip(c["ordinal_alpha"]["names"], c["ordinal_alpha"]["values"]))
    for py, r in [("raw_alpha", "raw_alpha"), ("std_alpha", "std.alpha"), ("G6", "G6(smc)"),
                  ("average_r", "average_r"), ("S_N", "S/N"), ("median_r", "median_r")]:
        # S/N = k r / (1 - r) magnifies the 1e-5 differences in rho: compared relatively
        assert res.total[py] == pytest.approx(ref[r], abs=RHO, rel=1e-4 if py == "S_N" else 0), py
    assert "Feldt" in res.ci.index


def test_ordinal_omega_matches_psych():
    c = REF["ordinal_omega"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        om = pm.ordinal_omega(_data(c), nfactors=c["nfactors"])
    assert om.omega_h == pytest.approx(c["omega_h"], abs=RHO)
    assert om.omega_tot == pytest.approx(c["omega_tot"], abs=RHO)
    assert om.alpha == pytest.approx(c["alpha"], abs=RHO)


def test_polychoric_errors():
    with pytest.raises(DataError, match="integer"):
        pms.polychoric(pd.DataFrame({"a": [1.5, 2, 3], "b": [1, 2, 3]}))
    with pytest.warns(PsychometrikaWarning, match="no variance"), pytest.raises(DataError, match="at least 2"):
        pms.polychoric(pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 3]}))


# ------------------------------------------------------------------------------------ response styles
def test_response_styles_hand_computed():
    # 1..5 scale, midpoint 3; items p1, p2 positively keyed, n1 reversed; scale E
    x = pd.DataFrame({"p1": [5, 3, 4], "p2": [4, 3, 5], "n1": [2, 3, 5]}, index=["r1", "r2", "r3"])
    out = pms.response_styles(x, keys={"E": ["p1", "p2", "-n1"]}, low=1, high=5)
    # r1: deviations +2, +1 (positive mean 1.5), -1 (negative mean -1) -> ARS = 0.25
    assert out.loc["r1", "acquiescence"] == pytest.approx(0.25)
    assert out.loc["r1", "acquiescence_all"] == pytest.approx(2 / 3)
    assert out.loc["r1", "ers"] == pytest.approx(1 / 3)
    assert out.loc["r2", "mrs"] == pytest.approx(1.0) and out.loc["r2", "acquiescence"] == 0
    # r3 agrees with everything: ARS = ((1 + 2)/2 + 2) / 2 = 1.75
    assert out.loc["r3", "acquiescence"] == pytest.approx(1.75)
    assert out.loc["r3", "ers"] == pytest.approx(2 / 3)
    # keyed mean (5 + 4 + (6 - 2)) / 3 and the corrected one using x - ARS
    assert out.loc["r1", "trait_E"] == pytest.approx(13 / 3)
    assert out.loc["r1", "corrected_E"] == pytest.approx(((5 - .25) + (4 - .25) + (6 - (2 - .25))) / 3)
    assert list(out["n_items"]) == [3, 3, 3]


def test_simulated_acquiescent_model_is_detected():
    """An acquiescent 'model' adds +1 to every raw response regardless of keying."""
    rng = np.random.default_rng(1)
    n, pos, neg = 400, 6, 2                       # unbalanced scale: 6 positive, 2 reversed items
    trait = rng.normal(0, 0.7, 2 * n)
    acq_true = np.r_[np.zeros(n), np.ones(n)]
    sign = np.r_[np.ones(pos), -np.ones(neg)]
    raw = 4 + trait[:, None] * sign[None, :] + rng.normal(0, 0.5, (2 * n, pos + neg)) + acq_true[:, None]
    raw = np.clip(raw, 1, 7)                      # 7-point scale, expected values (continuous)
    items = [f"p{j}" for j in range(pos)] + [f"n{j}" for j in range(neg)]
    x = pd.DataFrame(raw, columns=items)
    keys = {"T": [f"p{j}" for j in range(pos)] + [f"-n{j}" for j in range(neg)]}
    out = pm.response_styles(x, keys=keys, low=1, high=7)
    planted = out["acquiescence"][n:].mean() - out["acquiescence"][:n].mean()
    assert planted == pytest.approx(1.0, abs=0.05)
    assert abs(out["acquiescence"][:n].mean()) < 0.05
    # the unbalanced keyed score is biased by +0.5 (= (6 - 2)/8); the corrected score is not
    bias_raw = out["trait_T"][n:].mean() - out["trait_T"][:n].mean()
    bias_cor = out["corrected_T"][n:].mean() - out["corrected_T"][:n].mean()
    assert bias_raw == pytest.approx(0.5, abs=0.06)
    assert abs(bias_cor) < 0.06
    assert np.corrcoef(out["corrected_T"], trait)[0, 1] > np.corrcoef(out["trait_T"], trait)[0, 1]


def _tidy(rng, n_resp=40, scale_items=(("E", ["e1", "e2", "e3", "e4"], [1, -1, 1, -1]),), sharp=1.5):
    rows = []
    vals = [1.0, 2.0, 3.0, 4.0, 5.0]
    for r in range(n_resp):
        t = rng.normal()
        for scale, items, keyed in scale_items:
            for it, k in zip(items, keyed):
                mu = 3 + k * t + rng.normal(0, 0.7)
                logits = -sharp * (np.array(vals) - mu) ** 2
                p = np.exp(logits - logits.max())
                p /= p.sum()
                c = int(np.argmax(p))
                rows.append({"model": "m", "persona": "none", "instruction_id": "i0", "order_id": f"o{r}",
                             "seed": 0, "item": it, "scale": scale, "keyed": k, "option_values": vals,
                             "probs": p.tolist(), "chosen_value": vals[c], "expected_value": float(p @ vals),
                             "status": "ok"})
    return pd.DataFrame(rows)


def test_response_styles_on_tidy_table():
    df = _tidy(np.random.default_rng(3), n_resp=5)
    out = pm.response_styles(df)
    assert len(out) == 5 and {"ers_prob", "mrs_prob", "trait_E", "corrected_E"} <= set(out.columns)
    one = df[df["order_id"] == "o0"]
    probs = np.array(one["probs"].tolist())
    row = out.xs("o0", level="order_id").iloc[0]
    assert row["ers_prob"] == pytest.approx(np.mean(probs[:, 0] + probs[:, 4]))
    assert row["mrs_prob"] == pytest.approx(np.mean(probs[:, 2]))
    ch = one["chosen_value"].to_numpy()
    k = one["keyed"].to_numpy()
    dev = ch - 3
    assert row["acquiescence"] == pytest.approx((dev[k > 0].mean() + dev[k < 0].mean()) / 2)
    assert row["ers"] == pytest.approx(np.mean((ch == 1) | (ch == 5)))
    # refusals are excluded
    df.loc[0, "status"] = "refused"
    assert pm.response_styles(df).xs("o0", level="order_id")["n_items"].iloc[0] == 3


def test_response_styles_needs_keys_and_warns_without_reversed_items():
    x = pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 4]})
    with pytest.raises(DataError, match="keys"):
        pm.response_styles(x)
    with pytest.warns(PsychometrikaWarning, match="balanced"):
        out = pm.response_styles(x, keys={"a": 1, "b": 1})
    assert out["acquiescence"].isna().all()
    with pytest.raises(DataError, match="not in the data"):
        pm.response_styles(x, keys={"S": ["a", "-zz"]})


# ------------------------------------------------------------------------------------ expected vs argmax
def test_expected_vs_argmax_reliability():
    df = _tidy(np.random.default_rng(11), n_resp=60)
    out = pm.expected_vs_argmax_reliability(df)
    assert list(out.index) == ["E"]
    row = out.loc["E"]
    assert row["n_respondents"] == 60 and row["n_items"] == 4
    # the same alphas from psych-equivalent pm.alpha on keyed wide tables
    keyed = df.assign(e=np.where(df.keyed < 0, 6 - df.expected_value, df.expected_value),
                      m=np.where(df.keyed < 0, 6 - df.chosen_value, df.chosen_value))
    we = keyed.pivot(index="order_id", columns="item", values="e")
    wm = keyed.pivot(index="order_id", columns="item", values="m")
    a_e = pm.alpha(we, n_iter=1).total["raw_alpha"]
    a_m = pm.alpha(wm, n_iter=1).total["raw_alpha"]
    assert row["alpha_expected"] == pytest.approx(a_e, abs=1e-12)
    assert row["alpha_argmax"] == pytest.approx(a_m, abs=1e-12)
    assert row["difference"] == pytest.approx(a_e - a_m, abs=1e-12)
    assert row["alpha_expected_CI_low"] < a_e < row["alpha_expected_CI_high"]
    assert row["r_scores"] == pytest.approx(np.corrcoef(we.mean(axis=1), wm.mean(axis=1))[0, 1])
    # without chosen/expected columns both are recomputed from probs
    again = pm.expected_vs_argmax_reliability(df.drop(columns=["chosen_value", "expected_value"]))
    np.testing.assert_allclose(again.to_numpy(dtype=float), out.to_numpy(dtype=float), atol=1e-12)
    # explicit psych-style keys give the same answer
    keys = {"E": ["e1", "-e2", "e3", "-e4"]}
    np.testing.assert_allclose(pm.expected_vs_argmax_reliability(df.drop(columns=["keyed"]), keys=keys)
                               .to_numpy(dtype=float), out.to_numpy(dtype=float), atol=1e-12)
