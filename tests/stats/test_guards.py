"""Minimum-information guards: rules in words, warnings from the statistics, guarded correlation tables."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm


def _data(n: int, p: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    return pd.DataFrame(0.7 * f + 0.7 * rng.normal(size=(n, p)), columns=[f"i{j + 1}" for j in range(p)])


def test_rules_in_words():
    r = pm.guard("efa", 12, items=44, warn=False)
    assert not r.estimable and r.text() == ("not estimable (n = 12; needs ≥ 45 = items + 1 for a non-singular "
                                            "correlation matrix)")
    r = pm.guard("efa", 150, items=44, warn=False)
    assert r.estimable and not r.adequate and r.needs == 220 and "5 × 44 items" in r.reason
    assert pm.guard("efa", 300, items=44, warn=False).adequate
    assert not pm.guard("omega", 200, items=10, alpha_defined=False, warn=False).estimable
    assert not pm.guard("cor", 12, constant=True, warn=False).estimable
    assert not pm.guard("cor", 3, warn=False).estimable and pm.guard("cor", 4, warn=False).estimable
    assert not pm.guard("split_half", 100, items=3, warn=False).estimable
    inv = pm.guard("invariance", 3, items=3, params=9, warn=False)
    assert not inv.estimable and "per group" in inv.reason
    with pytest.raises(KeyError):
        pm.guard("anova", 10)


def test_fa_warns_below_the_rule_and_not_above():
    with pytest.warns(pm.InsufficientInformationWarning, match=r"efa: too little information \(n = 40; needs ≥ 100"):
        pm.fa(_data(40, 6), nfactors=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pm.InsufficientInformationWarning)
        pm.fa(_data(200, 6), nfactors=1)


def test_cfa_and_invariance_warn_per_group():
    d = _data(120, 3)
    with pytest.warns(pm.InsufficientInformationWarning, match="cfa"):
        pm.cfa("F =~ i1 + i2 + i3", d.iloc[:40])
    d["g"] = np.repeat(["a", "b", "c"], 40)
    with pytest.warns(pm.InsufficientInformationWarning, match=r"invariance: too little information \(n = 40"):
        pm.invariance("F =~ i1 + i2 + i3", d, group="g", levels=("configural",))


def test_omega_warns():
    with pytest.warns(pm.InsufficientInformationWarning, match="omega"):
        try:
            pm.omega(_data(30, 9), nfactors=2)
        except pm.DataError:
            pass


def test_holm_equals_r():
    # R: p.adjust(c(0.01, 0.04, NA, 0.03, 0.2, 0.005), "holm") -> 0.040 0.090 NA 0.090 0.200 0.025
    out = pm.holm([0.01, 0.04, np.nan, 0.03, 0.2, 0.005])
    assert np.allclose(out, [0.04, 0.09, np.nan, 0.09, 0.2, 0.025], equal_nan=True)


def test_cor_table_guards_constants_and_adds_holm_and_caveat():
    d = _data(40, 3)
    d["const"] = 3.0
    t = pm.cor_table(d, one_model=True)
    assert len(t) == 6
    const = t[(t.y == "const")]
    assert const.r.isna().all() and const.note.str.contains("not estimable").all()
    assert const.note.str.contains("constant").all()
    ok = t[t.y != "const"]
    ref = pm.cor_ci(d[["i1", "i2", "i3"]])
    assert np.allclose(ok.r.to_numpy(), ref.r.to_numpy())
    assert np.allclose(ok.p_holm.to_numpy(), pm.holm(ref.p.tolist()))
    assert "pseudo-replication" in t.attrs["caveat"] and ok.note.str.contains("pseudo-replication").all()
    small = pm.cor_table(d.iloc[:3, :3])
    assert small.r.isna().all() and small.note.str.contains(r"n = 3; needs ≥ 4").all()
