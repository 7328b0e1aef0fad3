"""psychometrika.stats.dif: logistic-regression DIF against MASS::polr / glm and by simulation.

R reference (tests/r/make_reference_irt.R): bfi N1-N5 by gender, rest-score matching, complete cases;
ordinal items with MASS::polr, items dichotomised at >= 4 with glm(binomial).
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
from psychometrika.stats.common import PsychometrikaWarning

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "irt_dif.json").read_text())


@pytest.fixture(scope="module")
def bfi():
    return pd.read_csv(FIX / "bfi.csv")


@pytest.mark.parametrize("case,tol", [("ordinal", 1e-4), ("binary", 1e-6)])
def test_dif_matches_r(bfi, case, tol):
    c = REF[case]
    x = bfi[c["items"]]
    if case == "binary":
        x = (x >= c["dichotomise_at"]).astype(float).where(x.notna())
    with pytest.warns(PsychometrikaWarning, match="complete cases"):
        out = pms.dif(x, bfi[c["group"]])
    ref = pd.DataFrame(c["table"]["values"], index=c["table"]["rows"], columns=c["table"]["cols"])
    pairs = {"chi2_uniform": "chi_uniform", "chi2_nonuniform": "chi_nonuniform", "chi2_total": "chi_total",
             "r2_1": "r2_1", "r2_2": "r2_2", "r2_3": "r2_3", "loglik_0": "ll0"}
    for py, r in pairs.items():
        np.testing.assert_allclose(out[py].to_numpy(), ref[r].to_numpy(), atol=tol, err_msg=py)
    # our optimum is at least as good as R's (polr stops at reltol 1e-8)
    for k in (1, 2, 3):
        assert np.all(out[f"loglik_{k}"].to_numpy() >= ref[f"ll{k}"].to_numpy() - 1e-8)
    np.testing.assert_allclose(out["delta_r2_total"], ref["r2_3"] - ref["r2_1"], atol=tol)
    assert list(out["df_total"]) == [2] * 5
    assert set(out["class"]) <= {"A", "B", "C"}


def test_ordinal_logit_binary_equals_closed_form():
    """Logistic regression on one binary predictor: the MLE reproduces the 2x2 table's log odds."""
    y = np.array([0] * 30 + [1] * 10 + [0] * 15 + [1] * 25, dtype=float)
    x = np.array([0] * 40 + [1] * 40, dtype=float)
    fit = pms.ordinal_logit(y, x[:, None])
    assert fit["beta"][0] == pytest.approx(np.log((25 / 15) / (10 / 30)), abs=1e-7)
    assert fit["zeta"][0] == pytest.approx(-np.log(10 / 30), abs=1e-7)   # polr: logit P(Y<=0) = zeta


def _sim_grm(a, d, theta, rng):
    z = a[None, :, None] * theta[:, None, None] + d[None, :, :]
    return (rng.random((theta.size, a.size, 1)) < 1 / (1 + np.exp(-z))).sum(axis=2).astype(float)


def _order_study(rng, n=400, n_items=8, shift=0.0, dif_item=3):
    """Two option orders; under 'reversed' item `dif_item` is answered `shift` theta-units higher."""
    a = rng.uniform(0.8, 2.0, n_items)
    b = np.sort(rng.normal(0, 1, (n_items, 4)), axis=1)
    d = -a[:, None] * b
    theta = rng.standard_normal(2 * n)
    x = np.empty((2 * n, n_items))
    x[:n] = _sim_grm(a, d, theta[:n], rng)
    d2 = d.copy()
    d2[dif_item] += shift * a[dif_item]
    x[n:] = _sim_grm(a, d2, theta[n:], rng)
    df = pd.DataFrame(x + 1, columns=[f"i{j}" for j in range(n_items)])
    df["order_id"] = np.repeat(["original", "reversed"], n)
    return df


def test_order_dif_item_is_flagged():
    df = _order_study(np.random.default_rng(5), shift=0.8)
    out = pm.dif(df, group="order_id", purify=True)
    assert out.loc["i3", "flag"]
    assert out.loc["i3", "p_uniform"] < 1e-4
    assert out.loc["i3", "beta_group"] > 0.3             # higher responses under the reversed order
    assert out.attrs["reference"] == "original"
    # theta matching (GRM EAP) finds it too
    out_t = pm.dif(df, group="order_id", match="theta")
    assert out_t.loc["i3", "flag"]


def test_false_positive_rate_on_clean_items():
    """Null simulation (no DIF): the share of flagged clean items stays near alpha = .01."""
    rng = np.random.default_rng(99)
    flags = []
    for _ in range(3):
        flags += list(pm.dif(_order_study(rng, n=300), group="order_id")["flag"])
    assert np.mean(flags) <= 0.05                          # 24 clean items; expected 0.24 false flags


def test_three_groups_and_errors():
    rng = np.random.default_rng(3)
    df = _order_study(rng, n=150, n_items=5)
    df["order_id"] = np.resize(["original", "reversed", "shift1"], len(df))
    out = pm.dif(df, "order_id", p_adjust="holm")
    assert list(out["df_total"]) == [4] * 5
    # a supplied matching score equal to the total score gives the match="total" result
    items = [f"i{j}" for j in range(5)]
    np.testing.assert_allclose(pm.dif(df, "order_id", match=df[items].sum(axis=1).to_numpy())["chi2_total"],
                               pm.dif(df, "order_id", match="total")["chi2_total"], atol=1e-8)
    assert out["p_total"].between(0, 1).all()
    with pytest.raises(DataError, match="two groups"):
        pm.dif(df.assign(order_id="original"), "order_id")
    with pytest.raises(DataError, match="not found"):
        pm.dif(df, "nope")
    with pytest.raises(DataError, match="respondents"):
        pm.dif(df.drop(columns="order_id"), ["a", "b"])


def test_position_responder_separation_is_flagged_and_warned():
    """A model that always picks the first displayed option: under the reversed order its raw answer flips,
    so the group separates that item's responses completely; the flag stands, the coefficient is not finite."""
    rng = np.random.default_rng(2)
    n = 30
    df = pd.DataFrame(rng.integers(1, 6, size=(2 * n, 4)), columns=["i1", "i2", "i3", "i4"])
    df["order_id"] = ["original"] * n + ["reversed"] * n
    df.loc[:n - 1, "i1"] = 1 + rng.integers(0, 2, n)            # 1-2 under the original order
    df.loc[n:, "i1"] = 4 + rng.integers(0, 2, n)                # 4-5 under the reversed one
    with pytest.warns(PsychometrikaWarning, match=r"\['i1'\].*separates"):
        out = pm.dif(df, group="order_id")
    assert out.loc["i1", "flag"] and abs(out.loc["i1", "beta_group"]) > 15
    assert not out.loc[["i2", "i3", "i4"], "flag"].any()
