"""Degenerate inputs end in a ``DataError`` that says why (issue 22.6), never a foreign exception.

Also the opt-in, seedable bootstrap of ``alpha`` (issue 22.4).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import DataError


def _items(seed: int = 5, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.integers(1, 6, n).astype(float) for c in "abcdef"})


def test_omega_on_identical_items_names_them():
    x = _items()
    same = pd.DataFrame({c: x["a"] for c in "abcd"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match=r"'a' and 'b'.*perfectly correlated"):
            pm.omega(same, nfactors=3)


def test_omega_and_fa_on_uncorrelated_items():
    eye = pd.DataFrame(np.eye(6), index=list("abcdef"), columns=list("abcdef"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="uncorrelated"):
            pm.omega(eye, nfactors=3, n_obs=100)
        with pytest.raises(DataError, match="uncorrelated"):
            pm.fa(eye, 2, n_obs=100)


def test_omega_on_constant_items():
    x = _items()
    x[["b", "c"]] = 3.0
    with pytest.raises(DataError, match="no variance"):
        pm.omega(x, nfactors=2)


def test_omega_still_computes_with_one_duplicated_item():
    """Only failing computations become errors: a duplicated item in an otherwise sound scale still works."""
    rng = np.random.default_rng(2)
    f = rng.normal(size=(300, 1))
    x = pd.DataFrame(f @ np.full((1, 6), 0.7) + rng.normal(scale=0.7, size=(300, 6)), columns=list("abcdef"))
    x["f"] = x["a"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        om = pm.omega(x, nfactors=1)
    assert 0.5 < om.omega_tot <= 1


@pytest.mark.parametrize("fn", [pm.cohen_d, pm.hedges_g, pm.glass_delta])
@pytest.mark.parametrize("x,y", [
    (np.full(12, 3.0), np.full(12, 4.0)),                              # two constant groups
    (np.r_[np.full(11, 1.0), 1 + 1e-10], np.full(12, 2.0)),           # variance at rounding level
    (np.r_[np.full(99, 5.0), 5.0001], np.r_[np.full(99, 1.0), 1.0001]),  # t ~ 1e6: no finite CI
])
def test_effect_size_of_near_constant_groups_is_a_data_error(fn, x, y):
    with pytest.raises(DataError, match="no variance|too large|standard deviation is 0"):
        fn(x, y)


def test_one_sample_effect_of_near_constant_data_is_a_data_error():
    with pytest.raises(DataError, match="too large|no variance"):
        pm.cohen_d(np.r_[np.full(30, 4.0), 4.0000001])


def test_large_but_finite_t_still_gets_a_ci():
    x = np.r_[np.full(20, 5.0), 5.5]
    y = np.r_[np.full(20, 1.0), 1.5]
    out = pm.cohen_d(x, y)                       # t ~ 160: scipy's noncentral t is fine there
    assert out["CI_low"].iloc[0] < out["Cohens_d"].iloc[0] < out["CI_high"].iloc[0]


def test_eta_squared_of_a_perfect_fit_is_a_data_error():
    smf = pytest.importorskip("statsmodels.formula.api")
    d = pd.DataFrame({"g": list("aabbcc") * 5, "y": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0] * 5})
    d["y"] = d["y"] + np.tile([0, 1e-9], 15)
    ols = smf.ols("y ~ C(g)", data=d).fit()
    with pytest.raises(DataError, match="too large|explains all the variance"):
        pm.eta_squared(ols)
    d["y"] = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0] * 5                  # exact fit: F is infinite
    with pytest.raises(DataError, match="explains all the variance"):
        pm.omega_squared(smf.ols("y ~ C(g)", data=d).fit())
    assert pm.eta_squared(smf.ols("y ~ C(g)", data=d).fit(), ci=None)["Eta2"].iloc[0] == 1.0


# ------------------------------------------------------------------ alpha bootstrap (issue 22.4)
def test_alpha_bootstraps_only_when_asked():
    x = _items()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = pm.alpha(x)
        boot = pm.alpha(x, n_iter=200, seed=7)
        again = pm.alpha(x, n_iter=200, seed=7)
        other = pm.alpha(x, n_iter=200, seed=8)
    assert list(plain.ci.index) == ["Feldt"] and plain.boot is None
    assert "no bootstrap CI" in plain.summary()
    assert "Bootstrap" in boot.ci.index and boot.n_iter == 200 and boot.seed == 7
    pd.testing.assert_frame_equal(boot.ci, again.ci)
    assert boot.ci.loc["Bootstrap", "CI_low"] != other.ci.loc["Bootstrap", "CI_low"]
    assert "200 resamples, seed = 7" in boot.summary()
    assert plain.total["raw_alpha"] == boot.total["raw_alpha"]


def test_alpha_on_perfectly_correlated_items_is_one_with_infinite_signal_to_noise():
    # psych::alpha on three identical items: raw_alpha 1, S/N Inf (R divides by zero), no foreign exception
    x = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [1, 2, 3, 4, 5], "c": [1, 2, 3, 4, 5]}, dtype=float)
    res = pm.alpha(x)
    assert res.total["raw_alpha"] == pytest.approx(1.0)
    assert math.isinf(res.total["S_N"])


def test_alpha_with_a_constant_total_score_is_a_data_error():
    x = pd.DataFrame({"a": [1, 5, 1, 5, 3], "b": [5, 1, 5, 1, 3], "c": [2, 2, 2, 2, 2]}, dtype=float)
    with pytest.raises(DataError, match="total score has no variance"):
        pm.alpha(x, check_keys=False)
