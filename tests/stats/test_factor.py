"""psychometrika.stats.factor against R's psych/GPArotation (fixtures from tests/r/make_reference_psych.R).

Loadings and other iterative results are compared at 1e-4 (after aligning column order and
sign), closed-form statistics (KMO, Bartlett, congruence, eigenvalues of R) at 1e-6.
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


def _align(mine: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Reorder/flip columns of ``mine`` to best match ``ref`` (by absolute congruence)."""
    k = ref.shape[1]
    cong = (mine.T @ ref) / np.outer(np.linalg.norm(mine, axis=0), np.linalg.norm(ref, axis=0))
    order, signs = [], []
    for j in range(k):
        i = int(np.argmax(np.abs(cong[:, j])))
        order.append(i)
        signs.append(np.sign(cong[i, j]))
    assert sorted(order) == list(range(k)), "factors could not be matched one-to-one"
    return mine[:, order] * np.array(signs), order, np.array(signs)


FA = _ref("fa")
FA_CASES = [k for k in FA if k != "versions"]


@pytest.fixture(scope="module")
def fa_results():
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        for k in FA_CASES:
            c = FA[k]
            out[k] = pms.fa(_data(c), c["nfactors"], n_obs=_opt(c.get("n_obs")), fm=c["fm"], rotate=c["rotate"])
    return out


@pytest.mark.parametrize("case", FA_CASES)
def test_fa_loadings_and_communalities(case, fa_results):
    c, res = FA[case], fa_results[case]
    ref = _mat(c["loadings"])
    aligned, order, signs = _align(res.loadings.to_numpy(), ref.to_numpy())
    np.testing.assert_allclose(aligned, ref.to_numpy(), atol=ITER)
    # psych's own column order and names are reproduced as well
    assert list(res.loadings.columns) == list(ref.columns)
    assert list(res.loadings.index) == list(ref.index)
    np.testing.assert_allclose(res.communality.to_numpy(), _vec(c["communality"]), atol=ITER)
    np.testing.assert_allclose(res.uniquenesses.to_numpy(), _vec(c["uniquenesses"]), atol=ITER)
    if c["fm"] != "pa":  # psych stores only the sum for pa
        np.testing.assert_allclose(res.communalities.to_numpy(), _vec(c["communalities"]), atol=ITER)
    np.testing.assert_allclose(res.complexity.to_numpy(), _vec(c["complexity"]), atol=10 * ITER)
    np.testing.assert_allclose(res.values, np.array(c["values"], dtype=float), atol=ITER)
    np.testing.assert_allclose(res.e_values, np.array(c["e_values"], dtype=float), atol=CLOSED)
    np.testing.assert_allclose(res.Vaccounted.to_numpy(), _mat(c["Vaccounted"]).to_numpy(), atol=ITER)
    np.testing.assert_allclose(res.R2.to_numpy(), np.array(c["R2"], dtype=float), atol=ITER)
    if "Phi" in c:
        phi = _mat(c["Phi"]).to_numpy()
        mine = res.phi.to_numpy()[np.ix_(order, order)] * np.outer(signs, signs)
        np.testing.assert_allclose(mine, phi, atol=ITER)
    else:
        assert res.phi is None


@pytest.mark.parametrize("case", FA_CASES)
def test_fa_fit_statistics(case, fa_results):
    c, res = FA[case], fa_results[case]
    fit = c["fit"]
    assert res.fit["dof"] == fit["dof"]
    scale_chi = max(1.0, abs(fit["chi"] or 0))
    for key in ["chi", "EBIC", "ESABIC"]:
        if fit.get(key) is not None:
            assert res.fit[key] == pytest.approx(fit[key], abs=ITER * scale_chi), key
    for key in ["rms", "crms", "fit", "fit_off", "objective", "null_model", "TLI"]:
        if fit.get(key) is not None:
            assert res.fit[key] == pytest.approx(fit[key], abs=ITER, rel=ITER), key
    if _opt(c.get("n_obs")) is not None or not c["data"].startswith("harman"):
        scale = max(1.0, fit["STATISTIC"])
        for key in ["STATISTIC", "BIC", "SABIC", "null_chisq"]:
            assert res.fit[key] == pytest.approx(fit[key], abs=ITER * scale), key
        rmsea = _vec(fit["RMSEA"])
        np.testing.assert_allclose(res.fit[["RMSEA", "RMSEA_lower", "RMSEA_upper"]].to_numpy(dtype=float),
                                   rmsea[:3], atol=ITER)
        assert res.fit["n_obs"] == fit["n_obs"]


def test_fa_orientation_values_from_brief(fa_results):
    res = fa_results["bfi_5_minres_oblimin"]
    assert res.fit["TLI"] == pytest.approx(0.8673, abs=5e-5)
    assert res.fit["RMSEA"] == pytest.approx(0.0560, abs=5e-5)
    assert res.fit["STATISTIC"] == pytest.approx(1808.9, abs=0.05)
    assert res.fit["dof"] == 185


def test_fa_rotation_preserves_the_common_part(fa_results):
    # an oblique rotation changes loadings but not the reproduced correlations L Phi L'
    res = fa_results["hs_3_ml_oblimin"]
    L, phi = res.loadings.to_numpy(), res.phi.to_numpy()
    hs = pd.read_csv(FIX / "holzinger.csv")
    unrot = pms.fa(hs, 3, fm="ml", rotate="none").loadings.to_numpy()
    np.testing.assert_allclose(L @ phi @ L.T, unrot @ unrot.T, atol=1e-8)
    np.testing.assert_allclose(np.diag(phi), 1, atol=1e-12)


def test_fa_summary(fa_results):
    text = fa_results["bfi_5_minres_oblimin"].summary()
    for s in ["Standardized loadings", "SS loadings", "With factor correlations", "Tucker Lewis Index",
              "RMSEA index", "RMSR"]:
        assert s in text


def test_fa_input_errors_and_warnings():
    hs = pd.read_csv(FIX / "holzinger.csv")
    with pytest.raises(DataError, match="factors requested"):
        pms.fa(hs.iloc[:, :3], 3)
    with pytest.raises(DataError, match="fm must be"):
        pms.fa(hs, 2, fm="wls")
    with pytest.raises(DataError, match="rotate must be"):
        pms.fa(hs, 2, rotate="geominQ")
    with pytest.raises(DataError, match="no variance"):
        pms.fa(hs.assign(k=1.0), 2)
    with pytest.raises(DataError, match="NaN"):
        r = hs.corr()
        r.iloc[0, 1] = r.iloc[1, 0] = np.nan
        pms.fa(r, 1, n_obs=301)
    # Heywood case: r12 = r13 = .9, r23 = .5 needs a communality of 1.62 for item 1
    r = pd.DataFrame([[1, .9, .9], [.9, 1, .5], [.9, .5, 1]], index=list("abc"), columns=list("abc"))
    with pytest.warns(PsychometrikaWarning) as rec:
        pms.fa(r, 1, n_obs=200)
    messages = [str(w.message) for w in rec]
    assert any("Heywood" in m for m in messages) and any("smoothed" in m for m in messages)  # not PD either
    # a singular correlation matrix (duplicated item) is smoothed with a warning
    with pytest.warns(PsychometrikaWarning, match="smoothed"):
        pms.fa(hs.assign(x1_copy=hs["x1"]), 3)


def test_fa_correlation_matrix_without_n_obs_has_no_chi_square():
    harman = pd.read_csv(FIX / "harman74_cor.csv", index_col=0)
    res = pms.fa(harman, 4)
    assert np.isnan(res.fit["STATISTIC"]) and np.isnan(res.fit["TLI"])
    assert res.fit["rms"] > 0


# ------------------------------------------------------------------------------------ KMO / Bartlett
KB = _ref("kmo_bartlett")


@pytest.mark.parametrize("case", ["bfi", "hs", "harman"])
def test_kmo_matches_psych(case):
    c = KB["kmo"][case]
    res = pms.kmo(_data(c))
    assert res.MSA == pytest.approx(c["MSA"], abs=CLOSED)
    np.testing.assert_allclose(res.MSAi.to_numpy(), _vec(c["MSAi"]), atol=CLOSED)
    assert "Overall MSA" in res.summary()


@pytest.mark.parametrize("case", ["bfi", "hs", "harman"])
def test_bartlett_matches_psych(case):
    c = KB["bartlett"][case]
    res = pms.bartlett(_data(c), n_obs=_opt(c.get("n_obs")))
    assert res.chisq == pytest.approx(c["chisq"], rel=CLOSED)
    assert res.df == c["df"]
    assert res.p_value == pytest.approx(c["p_value"], abs=CLOSED)


def test_kmo_bartlett_orientation_and_errors():
    # the orientation values of the brief are psych's for the complete cases of bfi[1:25]
    bfi = pd.read_csv(FIX / "bfi.csv").iloc[:, :25].dropna()
    assert len(bfi) == 2436
    assert pms.kmo(bfi).MSA == pytest.approx(0.84865, abs=5e-6)
    assert pms.bartlett(bfi).chisq == pytest.approx(18146.07, abs=0.005)
    with pytest.raises(DataError, match="n_obs"):
        pms.bartlett(pd.read_csv(FIX / "harman74_cor.csv", index_col=0))
    hs = pd.read_csv(FIX / "holzinger.csv")
    with pytest.raises(DataError, match="singular"):
        pms.kmo(hs.assign(x10=hs["x1"] + hs["x2"]))


# ------------------------------------------------------------------------------------ congruence
def test_congruence_matches_psych_and_procrustes():
    c = _ref("congruence")
    L1, L2 = _mat(c["L1"]), _mat(c["L2"])
    phi = pms.congruence(L1, L2)
    np.testing.assert_allclose(phi.to_numpy(), _mat(c["congruence"]).to_numpy(), atol=CLOSED)
    assert list(phi.index) == list(L1.columns) and list(phi.columns) == list(L2.columns)
    # an orthogonally rotated copy is recovered exactly by Procrustes
    theta = 0.7
    T = np.eye(5)
    T[:2, :2] = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    rotated = L2.to_numpy() @ T
    plain = pms.congruence(rotated, L2)
    proc = pms.congruence(rotated, L2, procrustes=True)
    assert abs(plain.iloc[0, 0]) < 0.99
    np.testing.assert_allclose(np.diag(proc.to_numpy()), 1, atol=1e-12)
    with pytest.raises(DataError, match="different numbers of items"):
        pms.congruence(L1.iloc[:5], L2)


# ------------------------------------------------------------------------------------ parallel
PAR = _ref("parallel")


@pytest.mark.parametrize("case", ["bfi", "hs"])
def test_fa_parallel(case):
    c = PAR[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychometrikaWarning)
        p = pms.fa_parallel(_data(c), n_iter=20, seed=5)
    np.testing.assert_allclose(p.pc_values, c["pc_values"], atol=CLOSED)
    np.testing.assert_allclose(p.fa_values, c["fa_values"], atol=ITER)
    assert p.nfact == c["nfact"] and p.ncomp == c["ncomp"]
    # simulated eigenvalues agree with R's in distribution only
    np.testing.assert_allclose(p.pc_sim, c["pc_sim"], atol=0.06)
    np.testing.assert_allclose(p.pc_simr, c["pc_simr"], atol=0.06)
    np.testing.assert_allclose(p.fa_sim, c["fa_sim"], atol=0.2)
    assert "Parallel analysis suggests" in p.summary()
    q = pms.fa_parallel(_data(c), n_iter=2, seed=5)
    r = pms.fa_parallel(_data(c), n_iter=2, seed=5)
    np.testing.assert_array_equal(q.pc_sim, r.pc_sim)
