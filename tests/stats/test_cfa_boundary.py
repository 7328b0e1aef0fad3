"""Multi-group CFA near a boundary (issue 22.1) and the just-identified AGFI (issue 22.2).

Reference values: ``tests/r/make_reference_agreement_mgcfa.R`` (lavaan 0.6, fixture
``issue22_reference.json``) on simulated 3-group data whose group ``a`` has a marker with a near-zero
loading (the optimum has a tiny factor variance and loadings ~20 times the marker's) and whose group
``c`` has a near-zero marker on the second factor; psych::sat.act for the df = 0 model. The stress battery
fits random multi-group models with near-boundary groups and checks that each group's solution is found:
the multi-group χ² equals the sum of the groups fitted alone, and the marker parameterisation gives the
same χ² as ``std_lv`` (a different, well-conditioned parameterisation of the same model).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm

FIX = Path(__file__).resolve().parents[1] / "r" / "fixtures"
REF = json.loads((FIX / "issue22_reference.json").read_text())
MG = REF["multigroup"]
FM = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic", "gfi", "agfi"]


def _close(ours: float, theirs: float, tol: float = 1e-4, rel: bool = False) -> None:
    scale = max(1.0, abs(theirs)) if rel else 1.0
    assert abs(ours - theirs) <= tol * scale, (ours, theirs)


@pytest.fixture(scope="module")
def mg_data() -> pd.DataFrame:
    return pd.read_csv(FIX / MG["data"])


def test_configural_near_boundary_matches_lavaan(mg_data):
    fit = pm.cfa(MG["model"], mg_data, group=MG["group"])
    assert fit.converged
    fm = fit.fit_measures()
    for k in FM:
        _close(fm[k], MG["configural"]["fit_measures"][k], rel=k in ("chisq", "logl", "aic", "bic"))
    ours = fit.parameter_estimates()
    ref = pd.DataFrame(MG["configural"]["parameters"])
    assert len(ours) == len(ref)
    np.testing.assert_allclose(ours["est"].to_numpy(), ref["est"].to_numpy(), atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(ours["se"].to_numpy(), ref["se"].to_numpy(), atol=1e-4, rtol=1e-3)
    # group a's factor 1: marker loading ~0.03, so the variance is tiny and the other loadings large
    a = ours[(ours["group"] == 1)]
    assert a.query("lhs == 'F1' and op == '~~' and rhs == 'F1'")["est"].iloc[0] < 0.01
    assert abs(a.query("lhs == 'F1' and op == '=~' and rhs == 'y2'")["est"].iloc[0]) > 5


def test_configural_chisq_is_the_sum_of_the_groups(mg_data):
    total = pm.cfa(MG["model"], mg_data, group=MG["group"]).fit_measures()["chisq"]
    parts = []
    for g, ref in MG["per_group"].items():
        one = pm.cfa(MG["model"], mg_data[mg_data[MG["group"]] == g].drop(columns=MG["group"]))
        assert one.converged
        _close(one.fit_measures()["chisq"], ref["chisq"], rel=True)
        parts.append(one.fit_measures()["chisq"])
    _close(total, sum(parts), tol=1e-8, rel=True)


@pytest.fixture(scope="module")
def mg_invariance(mg_data):
    return pm.invariance(MG["model"], mg_data, MG["group"])


def test_invariance_near_boundary_matches_lavaan(mg_invariance):
    inv = mg_invariance
    ref = MG["invariance"]
    for level, fm in ref["fits"].items():
        fit = inv.fits[level]
        assert fit.converged, level
        ours = fit.fit_measures()
        for k in ("npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl"):
            _close(ours[k], fm[k], rel=k in ("chisq", "logl"))
    table = inv.table
    np.testing.assert_allclose(table["chisq_diff"].to_numpy(dtype=float)[1:], ref["chisq_diff"][1:], rtol=1e-5)
    np.testing.assert_allclose(table["df_diff"].to_numpy(dtype=float)[1:], ref["df_diff"][1:])
    np.testing.assert_allclose(table["p_diff"].to_numpy(dtype=float)[1:], ref["p"][1:], atol=1e-5)
    assert inv.highest == "configural"


def test_partial_releases_never_raise_chisq(mg_invariance):
    inv = mg_invariance
    assert inv.partial is not None and len(inv.partial)
    assert (inv.partial["chisq_drop"] > -1e-6).all()


def test_agfi_is_one_for_a_just_identified_model():
    ref = REF["just_identified"]
    sa = pd.read_csv(FIX / ref["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # listwise deletion warning
        fm = pm.cfa(ref["model"], sa).fit_measures()
    assert fm["df"] == 0
    for k in ("npar", "chisq", "df", "cfi", "tli", "rmsea", "gfi", "agfi", "logl"):
        _close(fm[k], ref["fit_measures"][k], rel=k == "logl")
    assert fm["agfi"] == 1.0


# ------------------------------------------------------------------ stress battery
def _simulate(rng: np.random.Generator, n_factors: int, k: int, n: int, boundary: str | None) -> pd.DataFrame:
    p = n_factors * k
    L = np.zeros((p, n_factors))
    for f in range(n_factors):
        L[f * k:(f + 1) * k, f] = rng.uniform(0.45, 0.8, k)
    if boundary == "marker":            # marker loading near 0: tiny factor variance at the optimum
        f = int(rng.integers(n_factors))
        L[f * k, f] = rng.uniform(-0.08, 0.08)
    elif boundary == "heywood":         # one item almost without residual variance
        L[int(rng.integers(p)), :] = 0
        i = int(rng.integers(p))
        L[i] = 0
        L[i, i // k] = 0.97
    phi = np.full((n_factors, n_factors), rng.uniform(0.1, 0.5))
    np.fill_diagonal(phi, 1.0)
    S = L @ phi @ L.T
    np.fill_diagonal(S, 1.0)
    x = rng.multivariate_normal(rng.normal(0, 0.3, p), S, size=n)
    return pd.DataFrame(x, columns=[f"v{i + 1}" for i in range(p)])


def _model(n_factors: int, k: int) -> str:
    return "\n".join(f"F{f + 1} =~ " + " + ".join(f"v{f * k + j + 1}" for j in range(k)) for f in range(n_factors))


@pytest.mark.parametrize("seed", range(16))
def test_stress_multigroup_equals_sum_of_groups(seed):
    rng = np.random.default_rng(22_000 + seed)
    n_groups = int(rng.integers(2, 4))
    n_factors = int(rng.integers(1, 3))
    k = int(rng.integers(3, 6)) if n_factors > 1 else int(rng.integers(4, 7))
    kinds = [None] * n_groups
    kinds[int(rng.integers(n_groups))] = "marker" if seed % 4 else "heywood"
    parts = [_simulate(rng, n_factors, k, int(rng.integers(150, 400)), b).assign(g=f"g{i}")
             for i, b in enumerate(kinds)]
    data = pd.concat(parts, ignore_index=True)
    model = _model(n_factors, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # Heywood cases are legitimate here
        multi = pm.cfa(model, data, group="g")
        singles = [pm.cfa(model, part.drop(columns="g")) for part in parts]
        std = [pm.cfa(model, part.drop(columns="g"), std_lv=True) for part in parts]
        metric = pm.cfa(model, data, group="g", group_equal=["loadings"])
    assert multi.converged and all(s.converged for s in singles) and metric.converged
    chi = [s.fit_measures()["chisq"] for s in singles]
    _close(multi.fit_measures()["chisq"], sum(chi), tol=1e-7, rel=True)
    for a, b in zip(chi, (s.fit_measures()["chisq"] for s in std)):
        _close(a, b, tol=1e-6, rel=True)   # same model, other parameterisation: same optimum
    assert metric.fit_measures()["chisq"] >= multi.fit_measures()["chisq"] - 1e-6
