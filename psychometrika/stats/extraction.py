"""Numerical core shared by :func:`~psychometrika.stats.fa` and :func:`~psychometrika.stats.omega`.

Unrotated factor extraction exactly as psych 2.2.9's ``fa`` does it (minres, ML, principal axis),
the rotations (R's ``varimax``, GPArotation's ``GPFoblq`` oblimin, psych's promax), psych's
``factor.stats`` fit statistics and :func:`fa_core`, the whole unrotated-to-rotated solution used by
``fa`` and by ``omega``'s Schmid-Leiman step. These functions work on numpy arrays and are public to
the statistics modules (not re-exported by ``psychometrika.stats``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from psychometrika.errors import DataError
from psychometrika.stats.common import cor_smooth, smc, sym_eigen, warn

__all__: list[str] = []  # numerical helpers; the public API is fa/omega

_EPS = np.finfo(float).eps
#: Column-name prefix of each extraction method (psych's MR1, ML1, PA1, ...).
FACTOR_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA", "uls": "ULS"}

# ============================================================================ extraction
def _minres_objective(psi: np.ndarray, S: np.ndarray, nf: int) -> float:
    Sd = S.copy()
    np.fill_diagonal(Sd, 1 - psi)
    vals, vecs = sym_eigen(Sd)
    vals = np.where(vals < _EPS, 100 * _EPS, vals)
    load = vecs[:, :nf] * np.sqrt(vals[:nf])
    res = Sd - load @ load.T
    return float(np.sum(res[np.tril_indices_from(res, -1)] ** 2))


def _minres_gradient(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    vals, vecs = sym_eigen(S - np.diag(psi))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0))
    return np.diag(load @ load.T) + psi - np.diag(S)


def _ml_objective(psi: np.ndarray, S: np.ndarray, nf: int) -> float:
    sc = 1 / np.sqrt(psi)
    e = sym_eigen(S * np.outer(sc, sc), only_values=True)[nf:]
    return float(-(np.sum(np.log(e) - e) - nf + S.shape[0]))


def _ml_loadings(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    sc = 1 / np.sqrt(psi)
    vals, vecs = sym_eigen(S * np.outer(sc, sc))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1, 0))
    return np.sqrt(psi)[:, None] * load


def _ml_gradient(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    load = _ml_loadings(psi, S, nf)
    g = load @ load.T + np.diag(psi) - S
    return np.diag(g) / psi ** 2


def _wls_loadings(psi: np.ndarray, S: np.ndarray, nf: int) -> np.ndarray:
    vals, vecs = sym_eigen(S - np.diag(psi))
    return vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf], 0))


def _optimise(fun, grad, start: np.ndarray, upper: float, S: np.ndarray, nf: int) -> np.ndarray:
    """L-BFGS-B on the uniquenesses with psych's bounds [0.005, max(smc, 1)], run to tight tolerance."""
    bounds = [(0.005, upper)] * len(start)
    res = optimize.minimize(fun, start, args=(S, nf), jac=grad, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000, "maxcor": 10})
    x = res.x
    # polish: psych's pseudo-gradient is zero at the fixed point; a second pass starting there
    # removes the optimizer's last few ulps of slack
    res2 = optimize.minimize(fun, x, args=(S, nf), jac=grad, method="L-BFGS-B", bounds=bounds,
                             options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": 10000, "maxcor": 10})
    return res2.x if res2.fun <= res.fun else x


def extract(r: np.ndarray, nf: int, fm: str, *, min_err: float = 0.001, max_iter: int = 50):
    """Unrotated factor extraction exactly as psych's ``fa`` does it.

    Returns (loadings, communalities, eigenvalues-of-reduced-matrix, converged).
    """
    p = r.shape[0]
    s_smc = smc(r)
    if fm in ("minres", "uls", "ml"):
        upper = max(float(s_smc.max()), 1.0)
        start = np.diag(r) - s_smc
        if fm == "ml":
            psi = _optimise(_ml_objective, _ml_gradient, start, upper, r, nf)
            load = _ml_loadings(psi, r, nf)
        else:
            psi = _optimise(_minres_objective, _minres_gradient, start, upper, r, nf)
            load = _wls_loadings(psi, r, nf)
        model = load @ load.T
        Sd = r.copy()
        np.fill_diagonal(Sd, np.diag(model))
        values = sym_eigen(Sd, only_values=True)
        return load, 1 - psi, values, True
    if fm == "pa":
        rmat = r.copy()
        if nf <= p:
            np.fill_diagonal(rmat, s_smc)
        comm = float(np.sum(np.diag(rmat)))
        err, i, converged = comm, 1, True
        while err > min_err:
            vals, vecs = sym_eigen(rmat)
            if np.any(vals[:nf] < 0):
                raise DataError("principal axis factoring hit a negative eigenvalue (imaginary loadings); "
                                "try fm='minres' or fewer factors")
            load = vecs[:, :nf] * np.sqrt(vals[:nf])
            new = np.sum(load ** 2, axis=1)
            comm1 = float(new.sum())
            np.fill_diagonal(rmat, new)
            err = abs(comm - comm1)
            comm = comm1
            i += 1
            if i > max_iter:
                converged = False
                warn(f"principal axis factoring: maximum iteration ({max_iter}) exceeded")
                err = 0
        return load, np.sum(load ** 2, axis=1), vals, converged
    raise DataError(f"fm must be 'minres', 'ml' or 'pa', got {fm!r}")


# ============================================================================ rotation
def _varimax(x: np.ndarray, normalize: bool = True, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """R's ``stats::varimax`` (Kaiser normalisation, SVD iterations, same stopping rule)."""
    nc = x.shape[1]
    if nc < 2:
        return x.copy(), np.eye(nc)
    if normalize:
        sc = np.sqrt(np.sum(x ** 2, axis=1))
        x = x / sc[:, None]
    p = x.shape[0]
    TT = np.eye(nc)
    d = 0.0
    for _ in range(1000):
        z = x @ TT
        B = x.T @ (z ** 3 - z @ np.diag(np.sum(z ** 2, axis=0)) / p)
        u, sv, vt = np.linalg.svd(B)
        TT = u @ vt
        dpast, d = d, float(np.sum(sv))
        if d < dpast * (1 + eps):
            break
    z = x @ TT
    if normalize:
        z = z * sc[:, None]
    return z, TT


def _vgq_oblimin(L: np.ndarray, gam: float = 0.0) -> tuple[float, np.ndarray]:
    k = L.shape[1]
    X = (L ** 2) @ (1 - np.eye(k))
    if gam != 0:
        p = L.shape[0]
        X = (np.eye(p) - gam / p) @ X
    return float(np.sum(L ** 2 * X) / 4), L * X


def gpf_oblique(A: np.ndarray, vgq=_vgq_oblimin, eps: float = 1e-5, maxit: int = 1000):
    """GPArotation's ``GPFoblq`` (gradient projection, oblique; identity start, no normalisation)."""
    T = np.eye(A.shape[1])
    al = 1.0
    L = A @ np.linalg.inv(T).T
    f, Gq = vgq(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    s = np.inf
    for _ in range(maxit + 1):
        Gp = G - T @ np.diag(np.sum(T * G, axis=0))
        s = math.sqrt(float(np.sum(Gp ** 2)))
        if s < eps:
            break
        al *= 2
        for _i in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt(np.sum(X ** 2, axis=0))
            L = A @ np.linalg.inv(Tt).T
            ft, Gqt = vgq(L)
            if f - ft > 0.5 * s ** 2 * al:
                break
            al /= 2
        T, f = Tt, ft
        G = -(L.T @ Gqt @ np.linalg.inv(Tt)).T
    if not s < eps:
        warn(f"oblimin rotation did not converge in {maxit} iterations")
    return L, T.T @ T, T


def _promax_core(x: np.ndarray, m: int = 4):
    """psych's ``Promax`` (varimax, then power target and least squares)."""
    z0, vrot = _varimax(x)
    Q = z0 * np.abs(z0) ** (m - 1)
    U = np.linalg.lstsq(z0, Q, rcond=None)[0]
    try:
        d = np.diag(np.linalg.inv(U.T @ U))
    except np.linalg.LinAlgError:
        warn("factors are exactly uncorrelated and the promax model is singular; an approximation is used")
        vals, vecs = sym_eigen(U.T @ U)
        vals = np.where(vals < _EPS, 100 * _EPS, vals)
        UU = vecs @ np.diag(vals) @ vecs.T
        np.fill_diagonal(UU, 1)
        d = np.diag(np.linalg.inv(UU))
    U = U * np.sqrt(d)
    z = z0 @ U
    U = vrot @ U
    ui = np.linalg.inv(U)
    return z, U, ui @ ui.T


def _promax(L: np.ndarray, m: int = 4):
    """psych's ``fa(rotate = "promax")`` = ``kaiser(L, "Promax")``: rows normalised first."""
    h = np.sqrt(np.sum(L ** 2, axis=1))
    z, U, phi = _promax_core(L / h[:, None], m)
    return z * h[:, None], U, phi


def rotate_loadings(L: np.ndarray, rotate: str):
    """Return (rotated loadings, Phi or None, rotation matrix)."""
    if rotate == "varimax":
        Lr, T = _varimax(L)
        return Lr, None, T
    if rotate == "oblimin":
        Lr, phi, Th = gpf_oblique(L)
        return Lr, phi, np.linalg.inv(Th).T
    if rotate == "promax":
        Lr, U, phi = _promax(L)
        return Lr, phi, U
    raise DataError(f"rotate must be 'oblimin', 'varimax', 'promax' or 'none', got {rotate!r}")


# ============================================================================ fit statistics
def _uniroot(fun, lo: float, hi: float) -> float:
    return optimize.brentq(fun, lo, hi, xtol=1e-12, rtol=4 * _EPS, maxiter=500)


def factor_stats(r: np.ndarray, f: np.ndarray, phi: np.ndarray | None, n_obs: float | None,
                  np_obs: np.ndarray | None, alpha: float = 0.1, smooth: bool = True) -> dict[str, Any]:
    """psych's ``factor.stats`` (a.k.a. ``fa.stats``): goodness of fit of a factor model."""
    n = r.shape[0]
    nf = f.shape[1]
    model = f @ f.T if phi is None else f @ phi @ f.T
    residual = r - model
    r2 = float(np.sum(r * r))
    rstar2 = float(np.sum(residual * residual))
    dof = n * (n - 1) / 2 - n * nf + nf * (nf - 1) / 2
    out: dict[str, Any] = {"dof": dof}
    r2_off = r2 - float(np.trace(r))
    res_off = residual.copy()
    np.fill_diagonal(res_off, 0)
    nan = float("nan")
    if np_obs is None:
        rstar_off = float(np.sum(res_off ** 2))
        nobs = nan if n_obs is None else n_obs
        out["chi"] = rstar_off * nobs
        out["rms"] = math.sqrt(rstar_off / (n * (n - 1)))
        out["nh"] = nobs
        crms_den = 2 * dof
    else:
        rstar_off = float(np.sum(res_off ** 2 * np_obs))
        w = r * r * np_obs
        r2_off = float(np.sum(w) - np.trace(w))
        out["chi"] = rstar_off
        out["nh"] = float(1 / np.mean(1 / np_obs))
        out["rms"] = math.sqrt(rstar_off / (out["nh"] * n * (n - 1)))
        crms_den = 2 * out["nh"] * dof
    if dof > 0 and not math.isnan(out["chi"]):
        out["EPVAL"] = float(stats.chi2.sf(out["chi"], dof))
        out["crms"] = math.sqrt(rstar_off / crms_den)
        out["EBIC"] = out["chi"] - dof * math.log(out["nh"])
        out["ESABIC"] = out["chi"] - dof * math.log((out["nh"] + 2) / 24)
    else:
        out["EPVAL"] = out["EBIC"] = out["ESABIC"] = nan
        out["crms"] = math.sqrt(rstar_off / crms_den) if dof > 0 else nan
    out["fit"] = 1 - rstar2 / r2
    out["fit_off"] = 1 - rstar_off / r2_off
    out["residual"] = residual
    out["complexity"] = np.sum(f ** 2, axis=1) ** 2 / np.sum(f ** 4, axis=1)

    m2 = model.copy()
    np.fill_diagonal(m2, np.diag(r))
    m2 = cor_smooth(m2, warn_user=False)
    rs = cor_smooth(r) if smooth else r
    try:
        m_inv_r = np.linalg.solve(m2, rs)
    except np.linalg.LinAlgError:
        warn("the model inverse times the r matrix is singular; fit statistics are wrong")
        m_inv_r = np.eye(n)
    sign, logdet = np.linalg.slogdet(m_inv_r)
    objective = float(np.trace(m_inv_r) - logdet - n) if sign > 0 else float("inf")
    if not math.isfinite(objective):
        warn("the determinant of the smoothed correlation matrix is zero; chi square uses observed residuals")
        objective = rstar2
    out["objective"] = objective
    nm = (n_obs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3 if n_obs is not None else nan
    if n_obs is not None:
        stat = objective * nm
        if stat < 0:
            stat = 0.0
        out["STATISTIC"] = stat
        out["PVAL"] = float(stats.chi2.sf(stat, dof)) if dof > 0 else nan
    else:
        out["STATISTIC"] = out["PVAL"] = nan
    sign0, logdet0 = np.linalg.slogdet(rs)
    F0 = float(np.trace(rs) - logdet0 - n) if sign0 > 0 else float("inf")
    if not math.isfinite(F0):
        warn("the determinant of the correlation matrix is zero; the null model uses observed correlations")
        F0 = r2
    out["null_model"] = F0
    out["null_dof"] = n * (n - 1) / 2
    for k in ("null_chisq", "TLI", "RMSEA", "RMSEA_lower", "RMSEA_upper", "BIC", "SABIC"):
        out[k] = nan
    if n_obs is not None:
        Mm = objective / dof if dof != 0 else nan
        M0 = F0 * 2 / (n * (n - 1))
        out["null_chisq"] = F0 * ((n_obs - 1) - (2 * n + 5) / 6)
        out["TLI"] = (M0 - Mm) / (M0 - 1 / nm)
        if dof > 0:
            chisq = out["STATISTIC"]
            out["RMSEA"] = math.sqrt(max(chisq / (dof * n_obs) - 1 / (n_obs - 1), 0))
            tail = alpha / 2
            hi = max(n_obs, chisq) + 2 * n_obs
            upper = 0.0
            if stats.chi2.cdf(chisq, dof) > tail:
                try:
                    x = _uniroot(lambda x: stats.ncx2.cdf(chisq, dof, max(x, 1e-300)) - tail, 0.0, hi)
                    upper = math.sqrt(x / (n_obs - 1) / dof)
                except ValueError:
                    upper = 0.0 if out["RMSEA"] <= 0 else nan
            lower = 0.0
            if stats.chi2.cdf(chisq, dof) > 1 - tail:
                try:
                    x = _uniroot(lambda x: stats.ncx2.cdf(chisq, dof, max(x, 1e-300)) - 1 + tail, 0.0, hi)
                    lower = math.sqrt(x / (n_obs - 1) / dof)
                except ValueError:
                    lower = nan
            if not math.isnan(upper) and upper < out["RMSEA"]:
                upper = nan
            if not math.isnan(lower) and lower > out["RMSEA"]:
                lower = nan
            out["RMSEA_lower"], out["RMSEA_upper"] = lower, upper
            out["BIC"] = chisq - dof * math.log(n_obs)
            out["SABIC"] = chisq - dof * math.log((n_obs + 2) / 24)
    fs = f @ phi if phi is not None else f
    try:
        w = np.linalg.solve(rs, fs)
    except np.linalg.LinAlgError:
        warn("the correlation matrix is singular; factor score weights are approximated")
        vals, vecs = sym_eigen(rs)
        vals = np.where(vals < _EPS, 100 * _EPS, vals)
        rr = vecs @ np.diag(vals) @ vecs.T
        np.fill_diagonal(rr, 1)
        w = np.linalg.lstsq(rr, fs, rcond=None)[0]
    out["R2"] = np.diag(w.T @ fs)
    out["weights"] = w
    out["n_obs"] = nan if n_obs is None else n_obs
    return out




def fa_core(r: np.ndarray, names: list[str], nfactors: int, fm: str, rotate: str,
             n_obs: float | None, np_obs: np.ndarray | None, warn_heywood: bool = True) -> dict[str, Any]:
    load, comms, values, _conv = extract(r, nfactors, fm)
    e_values = sym_eigen(r, only_values=True)
    if nfactors > 1:
        st = np.sign(load.sum(axis=0))
        st[st == 0] = 1
        load = load * st
    elif load.sum() < 0:
        load = -load
    load = np.where(load == 0, 1e-15, load)
    model = load @ load.T
    phi = None
    rot_mat = None
    L = load
    if rotate != "none" and nfactors > 1:
        L, phi, rot_mat = rotate_loadings(load, rotate)
    signed = np.sign(L.sum(axis=0))
    signed[signed == 0] = 1
    L = L * signed
    if phi is not None:
        phi = phi * np.outer(signed, signed)
    prefix = FACTOR_PREFIX[fm]
    cols = [f"{prefix}{i + 1}" for i in range(nfactors)]
    if nfactors > 1:
        ev = np.sum(L ** 2, axis=0) if phi is None else np.diag(phi @ L.T @ L)
        order = np.argsort(-ev, kind="stable")
        L = L[:, order]
        cols = [cols[i] for i in order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
    h2 = np.diag(model)
    if warn_heywood:
        if h2.max() > 1:
            bad = [names[i] for i in np.where(h2 > 1)[0]]
            warn(f"an ultra-Heywood case was detected (communality > 1 for {bad}); examine the results carefully")
        elif fm in ("minres", "ml") and np.any(1 - comms <= 0.005 + 1e-9):
            bad = [names[i] for i in np.where(1 - comms <= 0.005 + 1e-9)[0]]
            warn(f"a Heywood case was detected (uniqueness at its lower bound 0.005 for {bad})")
    st = factor_stats(r, L, phi, n_obs, np_obs)
    vx = np.sum(L ** 2, axis=0) if phi is None else np.diag(phi @ L.T @ L)
    uniq = np.diag(r - model)
    vtotal = float(np.sum(h2 + uniq))
    rowsV = {"SS loadings": vx, "Proportion Var": vx / vtotal}
    if nfactors > 1:
        rowsV["Cumulative Var"] = np.cumsum(vx / vtotal)
        rowsV["Proportion Explained"] = vx / vx.sum()
        rowsV["Cumulative Proportion"] = np.cumsum(vx / vx.sum())
    return dict(L=L, cols=cols, phi=phi, h2=h2, comms=comms, uniq=uniq, values=values, e_values=e_values,
                stats=st, vacc=pd.DataFrame(rowsV, index=cols).T, rot_mat=rot_mat, unrotated=load)

