"""Generalizability theory: textbook examples with published variance components and simulations
with planted components.

Brennan, R. L. (2001). Generalizability theory. Springer. Synthetic Data Set No. 1 (p x i, 10 persons
x 12 dichotomous items; Table 2.2: sigma2(p) = .0574, sigma2(i) = .0754, sigma2(pi) = .1269,
E rho2 = .844, Phi = .773) and Synthetic Data Set No. 3 (p x i x o, 10 persons x 4 items x 2 occasions;
Table 3.3: .5528, .4417, .0074, .5750, .1009, .1565, .9352; E rho2 = .64, Phi = .55 for n'i = 4,
n'o = 2). The data matrices are printed in the book (also used by the GeneralizIT tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
import psychometrika.stats as pms
from psychometrika.errors import DataError

BRENNAN1 = [[1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0],
            [1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0],
            [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0],
            [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]
# Synthetic Data Set No. 3: columns o1i1..o1i4, o2i1..o2i4
BRENNAN3 = {"o1": [[2, 6, 7, 5], [4, 5, 6, 7], [5, 5, 4, 6], [5, 9, 8, 6], [4, 3, 5, 6], [4, 4, 4, 7], [2, 6, 6, 5],
                   [3, 4, 4, 5], [0, 5, 4, 5], [6, 8, 7, 6]],
            "o2": [[2, 5, 5, 5], [6, 7, 5, 7], [5, 4, 5, 5], [5, 7, 7, 6], [4, 5, 6, 4], [6, 4, 7, 8], [2, 7, 7, 5],
                   [6, 6, 6, 4], [5, 5, 5, 3], [6, 8, 8, 6]]}


def test_brennan_p_x_i():
    long = pd.DataFrame([(p, i, BRENNAN1[p][i]) for p in range(10) for i in range(12)], columns=["p", "i", "x"])
    g = pms.g_study(long, value="x", facets=("i",), object="p")
    comp = g.components.set_index("effect")
    np.testing.assert_allclose(comp.loc[["p", "i", "p:i"], "variance"], [0.0574, 0.0754, 0.1269], atol=5e-5)
    np.testing.assert_allclose(comp.loc[["p", "i", "p:i"], "SS"], [7.3417, 9.6917, 12.5583], atol=5e-5)
    assert list(comp["df"]) == [9, 11, 99]
    assert g.g_coefficient == pytest.approx(0.844, abs=5e-4)
    assert g.phi == pytest.approx(0.773, abs=5e-4)
    # p x i G coefficient equals ICC(3,k) (= Cronbach's alpha) of the persons x items matrix
    icc = pms.icc(pd.DataFrame(BRENNAN1)).set_index("type")
    assert g.g_coefficient == pytest.approx(icc.loc["ICC3k", "ICC"], abs=1e-12)


def test_brennan_p_x_i_x_o_and_d_study():
    rows = [(p, i, o, BRENNAN3[o][p][i]) for p in range(10) for o in ("o1", "o2") for i in range(4)]
    long = pd.DataFrame(rows, columns=["person", "item", "occasion", "score"])
    g = pms.g_study(long, value="score", facets=("item", "occasion"), object="person")
    comp = g.components.set_index("effect")
    expected = {"person": 0.5528, "item": 0.4417, "occasion": 0.0074, "person:item": 0.5750,
                "person:occasion": 0.1009, "item:occasion": 0.1565, "person:item:occasion": 0.9352}
    for eff, v in expected.items():
        assert comp.loc[eff, "variance"] == pytest.approx(v, abs=5e-5), eff
    assert g.g_coefficient == pytest.approx(0.64, abs=5e-3)
    assert g.phi == pytest.approx(0.55, abs=5e-3)
    d = pms.d_study(g, {"item": [4, 8], "occasion": 2})
    assert list(d["item"]) == [4, 8]
    assert d["g_coefficient"].iloc[0] == pytest.approx(g.g_coefficient, abs=1e-12)
    assert d["g_coefficient"].iloc[1] > d["g_coefficient"].iloc[0]
    # hand formula for n'i = 8, n'o = 2
    rel = 0.5750 / 8 + 0.1009 / 2 + 0.9352 / 16
    assert d["g_coefficient"].iloc[1] == pytest.approx(0.5528 / (0.5528 + rel), abs=2e-4)
    assert "Phi" in str(g.summary())


def _simulate(rng, n=(20, 10, 4), comps=(1.0, 0.5, 0.2, 0.3, 0.1, 0.05, 0.4)):
    sp, si, sr, spi, spr, sir, se = comps
    P, I, R = n
    x = (rng.normal(0, np.sqrt(sp), (P, 1, 1)) + rng.normal(0, np.sqrt(si), (1, I, 1))
         + rng.normal(0, np.sqrt(sr), (1, 1, R)) + rng.normal(0, np.sqrt(spi), (P, I, 1))
         + rng.normal(0, np.sqrt(spr), (P, 1, R)) + rng.normal(0, np.sqrt(sir), (1, I, R))
         + rng.normal(0, np.sqrt(se), (P, I, R)))
    p, i, r = np.meshgrid(range(P), range(I), range(R), indexing="ij")
    return pd.DataFrame({"persona": p.ravel().astype(str), "item": i.ravel(), "instruction_id": r.ravel(),
                         "score": x.ravel()})


def test_planted_components_are_recovered_without_bias():
    rng = np.random.default_rng(7)
    truth = np.array([1.0, 0.5, 0.2, 0.3, 0.1, 0.05, 0.4])
    est = []
    for _ in range(40):
        g = pms.g_study(_simulate(rng), value="score", facets=("persona", "item", "instruction_id"))
        assert g.object == "persona"
        est.append(g.components.set_index("effect")["variance_raw"].to_numpy())
    est = np.array(est)
    names = list(g.components["effect"])
    assert names == ["persona", "item", "instruction_id", "persona:item", "persona:instruction_id",
                     "item:instruction_id", "persona:item:instruction_id"]
    se = est.std(axis=0, ddof=1) / np.sqrt(len(est))
    assert np.all(np.abs(est.mean(axis=0) - truth) < 4 * se + 1e-3), (est.mean(axis=0), truth)
    # the interaction with the most degrees of freedom is estimated precisely in every replication
    assert np.all(np.abs(est[:, 6] - 0.4) < 0.06)


def test_negative_components_are_truncated_with_a_note():
    rng = np.random.default_rng(3)
    df = _simulate(rng, n=(15, 6, 3), comps=(1.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.5))
    g = pms.g_study(df, value="score", facets=("item", "instruction_id"), object="persona")
    c = g.components
    assert (c["variance"] >= 0).all()
    neg = c[c["variance_raw"] < 0]
    assert len(neg) >= 1 and (neg["variance"] == 0).all()
    assert any("negative" in n for n in g.notes)


def test_g_study_errors():
    df = _simulate(np.random.default_rng(0), n=(5, 4, 2))
    with pytest.raises(DataError, match="not fully crossed"):
        pms.g_study(df.iloc[1:], value="score", facets=("item", "instruction_id"), object="persona")
    with pytest.raises(DataError, match="not in the data"):
        pms.g_study(df, value="nope", facets=("item",), object="persona")
    assert pm.g_study is pms.g_study and pm.d_study is pms.d_study


def test_d_study_plan_finds_the_cheapest_design_and_says_when_none_suffices():
    rows = [(p, i, o, BRENNAN3[o][p][i]) for p in range(10) for o in ("o1", "o2") for i in range(4)]
    g = pms.g_study(pd.DataFrame(rows, columns=["person", "item", "occasion", "score"]), value="score",
                    facets=("item", "occasion"), object="person")
    v = g.components.set_index("effect")["variance"]

    def g_coef(n_o: int) -> float:
        rel = v["person:item"] / 4 + v["person:occasion"] / n_o + v["person:item:occasion"] / (4 * n_o)
        return v["person"] / (v["person"] + rel)

    plan = pms.d_study_plan(g, target_g=0.70)
    assert list(plan["varied"]) == ["occasion"] and bool(plan["reached"].iloc[0])
    n = int(plan["occasion"].iloc[0])
    assert g_coef(n) >= 0.70 > g_coef(n - 1)           # the smallest number of occasions that reaches .70
    assert plan["g_coefficient"].iloc[0] == pytest.approx(g_coef(n), abs=1e-12)
    # person x item variance over 4 items caps G below .80: no number of occasions is enough
    capped = pms.d_study_plan(g, target_g=0.80, max_levels=200)
    assert not capped["reached"].iloc[0] and capped["occasion"].iloc[0] == 200
    se = pms.d_study_plan(g, target_g=None, target_se=0.5)
    assert bool(se["reached"].iloc[0]) and se["se"].iloc[0] <= 0.5
    two = pms.d_study_plan(g, target_g=0.75, facets=("item", "occasion"), max_levels=30)
    assert list(two["varied"]) == ["item", "occasion", "all"]
    best = two.set_index("varied").loc["all"]
    assert best["administrations"] <= two["administrations"].min() and best["g_coefficient"] >= 0.75
    with pytest.raises(DataError):
        pms.d_study_plan(g, target_g=None)
