"""LLM-specific consistency metrics on synthetic response tables with planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError

K = 5
VALUES = np.arange(1, K + 1, dtype=float)


def _row(model, persona, item, instr, order, seed, perm, probs, status="ok"):
    probs = np.asarray(probs, dtype=float)
    pos = int(np.argmax([probs[o] for o in perm])) if status == "ok" else -1
    opt = int(perm[pos]) if pos >= 0 else -1
    return {"model": model, "persona": persona, "instrument": "bfi", "item": item, "scale": "E",
            "instruction_id": instr, "stem_id": "original", "order_id": order, "label_scheme": "numeric",
            "seed": seed, "repetition": 0, "permutation": list(perm), "n_options": K, "probs": list(probs),
            "chosen_position": pos, "chosen_option": opt,
            "chosen_value": VALUES[opt] if opt >= 0 else np.nan,
            "expected_value": float(probs @ VALUES), "status": status}


def _cyclic(shift: int) -> list[int]:
    return [(j + shift) % K for j in range(K)]


def _position_table(n_units: int = 1200, bias: float = 0.2, seed: int = 5) -> pd.DataFrame:
    """Two models answer under the 5 cyclic option orders (counterbalanced). 'biased' picks display
    position 1 with probability 1/5 + .2 regardless of content; 'fair' picks by content only."""
    rng = np.random.default_rng(seed)
    q = np.r_[1 / K + bias, np.full(K - 1, (1 - 1 / K - bias) / (K - 1))]
    rows = []
    for u in range(n_units):
        for s in range(K):
            perm = _cyclic(s)
            # biased: probability mass q over DISPLAY positions -> original order; sample the choice
            probs_b = np.empty(K)
            probs_b[perm] = q
            pos = rng.choice(K, p=q)
            r = _row("biased", "none", f"i{u}", "i1", f"shift{s}", 0, perm, probs_b)
            r.update(chosen_position=pos, chosen_option=perm[pos])
            rows.append(r)
            content = rng.dirichlet(np.ones(K))
            opt = rng.choice(K, p=content)
            r = _row("fair", "none", f"i{u}", "i1", f"shift{s}", 0, perm, content)
            r.update(chosen_position=perm.index(opt), chosen_option=opt)
            rows.append(r)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def pos_table():
    return _position_table()


def test_planted_position_bias_is_recovered(pos_table):
    res = pms.positional_bias(pos_table)
    b = res[(res.model == "biased") & (res.position == 1)].iloc[0]
    assert b["bias"] == pytest.approx(0.20, abs=0.02)
    assert b["CI_low"] < 0.2 < b["CI_high"]
    assert b["p"] < 1e-50
    assert b["n"] == 6000 and b["df"] == K - 1
    assert b["mean_prob"] == pytest.approx(0.4, abs=1e-12)      # the planted probability mass
    others = res[(res.model == "biased") & (res.position > 1)]
    np.testing.assert_allclose(others["bias"], -0.05, atol=0.02)
    f = res[res.model == "fair"]
    assert f["p"].iloc[0] > 0.01
    assert f["max_abs_bias"].iloc[0] < 0.02
    np.testing.assert_allclose(f["mean_prob"], 0.2, atol=0.01)
    np.testing.assert_allclose(res.groupby("model")["share"].sum(), 1.0)


def test_order_sensitivity_planted():
    rng = np.random.default_rng(9)
    rows = []
    for p in range(4):
        for it in range(60):
            content = rng.dirichlet(np.ones(K) * 2)
            for order, perm in (("original", list(range(K))), ("reversed", list(range(K))[::-1])):
                # 'stable' answers by content: the same option whatever the order
                rows.append(_row("stable", f"p{p}", f"i{it}", "i1", order, 0, perm, content))
                # 'first' always puts all mass on the first DISPLAYED option
                pb = np.zeros(K)
                pb[perm[0]] = 1
                rows.append(_row("first", f"p{p}", f"i{it}", "i1", order, 0, perm, pb))
                # 'noisy': expected value = content + independent N(0, .5^2) noise per order
                r = _row("noisy", f"p{p}", f"i{it}", "i1", order, 0, perm, content)
                r["expected_value"] = float(content @ VALUES) + rng.normal(0, 0.5)
                rows.append(r)
    df = pd.DataFrame(rows)
    res = pms.order_sensitivity(df).set_index("model")
    assert res.loc["stable", "mean_abs_shift"] == pytest.approx(0, abs=1e-12)
    assert res.loc["stable", "agreement"] == 1.0 and res.loc["stable", "trait_consistency"] == 1.0
    assert res.loc["stable", "r_orders"] == pytest.approx(1.0)
    assert res.loc["first", "mean_abs_shift"] == pytest.approx(4.0)          # option 1 versus option 5
    assert res.loc["first", "agreement"] == 0.0 and res.loc["first", "trait_consistency"] == 0.0
    assert res.loc["noisy", "mean_abs_shift"] == pytest.approx(np.sqrt(0.5) * np.sqrt(2 / np.pi), abs=0.06)
    assert res.loc["noisy", "n_units"] == 240 and res.loc["noisy", "n_pairs"] == 240
    by_persona = pms.order_sensitivity(df[df.model == "stable"], by=("model", "persona"))
    assert len(by_persona) == 4 and (by_persona["n_units"] == 60).all()


def test_paraphrase_sensitivity_planted():
    rng = np.random.default_rng(4)
    rows = []
    item_eff = rng.normal(0, 1, 200)
    for it in range(200):
        for instr in range(4):
            for model, sd in (("robust", 0.0), ("fragile", 0.5)):
                r = _row(model, "none", f"i{it}", f"ins{instr}", "original", 0, list(range(K)), np.ones(K) / K)
                r["expected_value"] = 3 + item_eff[it] + rng.normal(0, sd) if sd else 3 + item_eff[it]
                rows.append(r)
    res = pms.paraphrase_sensitivity(pd.DataFrame(rows)).set_index("model")
    assert res.loc["robust", "icc2"] == pytest.approx(1.0)
    assert res.loc["robust", "mean_var"] == pytest.approx(0.0, abs=1e-12)
    assert res.loc["fragile", "icc2"] == pytest.approx(1 / 1.25, abs=0.05)    # var(item) / (var + .25)
    assert res.loc["fragile", "mean_var"] == pytest.approx(0.25, abs=0.03)
    assert res.loc["fragile", "icc2_CI_low"] < res.loc["fragile", "icc2"] < res.loc["fragile", "icc2_CI_high"]
    assert res.loc["fragile", "n_targets"] == 200 and res.loc["fragile", "n_paraphrases"] == 4


def test_response_quality_counts():
    st = ["ok"] * 6 + ["refused"] * 2 + ["unparseable", "error"]
    df = pd.DataFrame({"model": "m", "persona": ["a"] * 5 + ["b"] * 5, "instrument": "bfi", "status": st})
    res = pms.response_quality(df).set_index("persona")
    assert res.loc["a", "n"] == 5 and res.loc["a", "ok_rate"] == 1.0
    assert res.loc["b", "refusal_rate"] == pytest.approx(0.4)
    assert res.loc["b", "unparseable_rate"] == pytest.approx(0.2)
    assert res.loc["b", "error_rate"] == pytest.approx(0.2)
    assert res.loc["b", "n_ok"] == 1


def test_refusals_are_excluded_from_position_counts(pos_table):
    df = pos_table[pos_table.model == "fair"].copy()
    df.loc[df.index[:100], "status"] = "refused"
    res = pms.positional_bias(df)
    assert res["n"].iloc[0] == len(df) - 100


def test_missing_columns_raise():
    with pytest.raises(DataError, match="not in the response table"):
        pms.positional_bias(pd.DataFrame({"model": ["m"]}))
    assert pm.positional_bias is pms.positional_bias and pm.order_sensitivity is pms.order_sensitivity
