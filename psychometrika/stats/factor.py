"""Exploratory factor analysis, psych-style: ``fa``, ``fa_parallel``, ``kmo``, ``bartlett``, ``congruence``.

The algorithms follow R's psych 2.2.9 (``fa``, ``fa.stats``/``factor.stats``, ``fa.parallel``,
``KMO``, ``cortest.bartlett``, ``factor.congruence``) and GPArotation (``oblimin`` via
``GPFoblq``), and are validated number for number against them (see ``tests/stats/test_factor.py``
and ``tests/r/make_reference_psych.R``).

References
----------
Revelle, W. (2022). *psych: Procedures for Psychological, Psychometric, and Personality Research*
(R package 2.2.9). Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and
software for arbitrary rotation criteria in factor analysis. *Educational and Psychological
Measurement, 65*, 676-696. Kaiser, H. F. (1958). The varimax criterion for analytic rotation in
factor analysis. *Psychometrika, 23*, 187-200. Horn, J. L. (1965). A rationale and test for the
number of factors in factor analysis. *Psychometrika, 30*, 179-185.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from psychometrika.errors import DataError
from psychometrika.stats._common import (
    StatsResult, as_corr_input, cor_smooth, cov2cor, fmt_frame, pairwise_cor, r_quantile,
    smc, sym_eigen, warn,
)

__all__ = ["fa", "FactorResult", "fa_parallel", "ParallelResult", "kmo", "KMOResult", "bartlett",
           "BartlettResult", "congruence"]

_EPS = np.finfo(float).eps
_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA", "uls": "ULS"}
FitMethod = Literal["minres", "ml", "pa"]
Rotation = Literal["oblimin", "varimax", "promax", "none"]


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


def _extract(r: np.ndarray, nf: int, fm: str, *, min_err: float = 0.001, max_iter: int = 50):
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


def _gpf_oblique(A: np.ndarray, vgq=_vgq_oblimin, eps: float = 1e-5, maxit: int = 1000):
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


def _rotate(L: np.ndarray, rotate: str):
    """Return (rotated loadings, Phi or None, rotation matrix)."""
    if rotate == "varimax":
        Lr, T = _varimax(L)
        return Lr, None, T
    if rotate == "oblimin":
        Lr, phi, Th = _gpf_oblique(L)
        return Lr, phi, np.linalg.inv(Th).T
    if rotate == "promax":
        Lr, U, phi = _promax(L)
        return Lr, phi, U
    raise DataError(f"rotate must be 'oblimin', 'varimax', 'promax' or 'none', got {rotate!r}")


# ============================================================================ fit statistics
def _uniroot(fun, lo: float, hi: float) -> float:
    return optimize.brentq(fun, lo, hi, xtol=1e-12, rtol=4 * _EPS, maxiter=500)


def _factor_stats(r: np.ndarray, f: np.ndarray, phi: np.ndarray | None, n_obs: float | None,
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


_FIT_KEYS = ["chi", "dof", "EPVAL", "STATISTIC", "PVAL", "objective", "null_model", "null_dof", "null_chisq",
             "TLI", "RMSEA", "RMSEA_lower", "RMSEA_upper", "BIC", "SABIC", "EBIC", "ESABIC", "rms", "crms",
             "fit", "fit_off", "nh", "n_obs"]


# ============================================================================ fa
class FactorResult(StatsResult):
    """Result of :func:`fa` (attribute names follow psych's ``fa`` object, dots -> underscores).

    Attributes
    ----------
    loadings : DataFrame
        Pattern loadings (items x factors), sorted by variance accounted for, like psych.
    structure : DataFrame
        Structure matrix ``loadings @ phi`` (equal to ``loadings`` for orthogonal solutions).
    phi : DataFrame or None
        Factor intercorrelations of oblique rotations.
    communality : Series
        ``h2`` - row sums of the (unrotated) model ``L L'`` (psych's ``$communality``).
    communalities : Series
        The communalities of the fitting function (``1 - psi`` of the optimiser for minres/ml,
        final iterated ``h2`` for pa); psych's ``$communalities``.
    uniquenesses : Series
        ``u2 = diag(R - L L')``.
    complexity : Series
        Hofmann's item complexity.
    values, e_values : ndarray
        Eigenvalues of the reduced matrix (common-factor solution) and of ``R``.
    Vaccounted : DataFrame
        SS loadings, proportion and cumulative variance.
    fit : Series
        ``chi`` (empirical chi^2 from residuals), ``dof``, ``STATISTIC``/``PVAL`` (likelihood
        chi^2 with Bartlett's correction), ``objective``, ``TLI``, ``RMSEA`` with 90% CI,
        ``BIC``/``SABIC``, ``EBIC``/``ESABIC``, ``rms`` (RMSR), ``crms``, ``fit``, ``fit_off``,
        null model values, ``nh`` and ``n_obs``.
    R2 : Series
        Multiple R^2 of the factor score estimates.
    r : DataFrame
        The correlation matrix analysed.
    """

    _title = "Factor Analysis using method = minres"

    def __init__(self, **kw: Any):
        self.__dict__.update(kw)

    def _summary_lines(self, digits: int) -> list[str]:
        L = self.loadings.copy()
        L["h2"] = self.communality
        L["u2"] = self.uniquenesses
        L["com"] = self.complexity
        lines = [f"Call: fa(r, nfactors = {self.nfactors}, rotate = \"{self.rotate}\", fm = \"{self.fm}\")",
                 "Standardized loadings (pattern matrix) based upon correlation matrix",
                 fmt_frame(L, digits), "", fmt_frame(self.Vaccounted, digits)]
        if self.phi is not None:
            lines += ["", " With factor correlations of ", fmt_frame(self.phi, digits)]
        ft = self.fit
        lines += ["", f"Mean item complexity =  {self.complexity.mean():.1f}",
                  f"Test of the hypothesis that {self.nfactors} factor{'s are' if self.nfactors > 1 else ' is'} "
                  "sufficient.", "",
                  f"The degrees of freedom for the null model are  {ft['null_dof']:.0f}  and the objective "
                  f"function was  {ft['null_model']:.2f}" + (f" with Chi Square =  {ft['null_chisq']:.2f}"
                                                                if not math.isnan(ft['null_chisq']) else ""),
                  f"The degrees of freedom for the model are {ft['dof']:.0f}  and the objective function was  "
                  f"{ft['objective']:.2f} ", "",
                  f"The root mean square of the residuals (RMSR) is  {ft['rms']:.2f} ",
                  f"The df corrected root mean square of the residuals is  {ft['crms']:.2f} "]
        if not math.isnan(ft["n_obs"]):
            lines += ["", f"The harmonic n.obs is  {ft['nh']:.0f} with the empirical chi square  {ft['chi']:.2f}  "
                      f"with prob <  {ft['EPVAL']:.2g} ",
                      f"The total n.obs was  {ft['n_obs']:.0f}  with Likelihood Chi Square =  "
                      f"{ft['STATISTIC']:.2f}  with prob <  {ft['PVAL']:.2g} ", "",
                      f"Tucker Lewis Index of factoring reliability =  {ft['TLI']:.3f}",
                      f"RMSEA index =  {ft['RMSEA']:.3f}  and the 90 % confidence intervals are  "
                      f"{ft['RMSEA_lower']:.3f} {ft['RMSEA_upper']:.3f}",
                      f"BIC =  {ft['BIC']:.2f}"]
        lines += [f"Fit based upon off diagonal values = {ft['fit_off']:.2f}"]
        return lines


def _fa_core(r: np.ndarray, names: list[str], nfactors: int, fm: str, rotate: str,
             n_obs: float | None, np_obs: np.ndarray | None, warn_heywood: bool = True) -> dict[str, Any]:
    load, comms, values, _conv = _extract(r, nfactors, fm)
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
        L, phi, rot_mat = _rotate(load, rotate)
    signed = np.sign(L.sum(axis=0))
    signed[signed == 0] = 1
    L = L * signed
    if phi is not None:
        phi = phi * np.outer(signed, signed)
    prefix = _PREFIX[fm]
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
    st = _factor_stats(r, L, phi, n_obs, np_obs)
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


def fa(data: Any, nfactors: int = 1, n_obs: float | None = None, fm: FitMethod = "minres",
       rotate: Rotation = "oblimin") -> FactorResult:
    """Exploratory factor analysis, equal to R's ``psych::fa``.

    Parameters
    ----------
    data : DataFrame or ndarray
        Item responses (rows = respondents, ``NaN`` = missing; pairwise correlations are used,
        like psych's ``use = "pairwise"``) or a correlation matrix.
    nfactors : int
        Number of factors.
    n_obs : float, optional
        Number of observations when ``data`` is a correlation matrix (needed for chi^2, TLI,
        RMSEA, BIC).
    fm : {"minres", "ml", "pa"}
        Minimum residual (ULS; psych's default), maximum likelihood, or iterated principal axes.
    rotate : {"oblimin", "varimax", "promax", "none"}
        ``oblimin`` is GPArotation's quartimin (gamma = 0, no Kaiser normalisation, identity
        start) - what psych calls by default; ``varimax`` is ``stats::varimax`` (Kaiser
        normalised); ``promax`` is psych's Kaiser-normalised ``Promax`` (power 4).

    Returns
    -------
    FactorResult
        See its attributes.

    Notes
    -----
    minres minimises the sum of squared off-diagonal residuals
    :math:`\\sum_{i<j}(r_{ij} - \\hat r_{ij})^2` over the uniquenesses :math:`\\psi`
    (bounded to [0.005, 1]) with L-BFGS-B; ML minimises
    :math:`F = \\operatorname{tr}(\\hat\\Sigma^{-1}R) - \\log|\\hat\\Sigma^{-1}R| - p`. The
    likelihood chi^2 is :math:`(n - 1 - (2p + 5)/6 - 2f/3)\\,F` (Bartlett's correction), TLI is
    :math:`(M_0 - M_m)/(M_0 - 1/n_m)` with :math:`M = F/df`, RMSEA is
    :math:`\\sqrt{\\max(\\chi^2/(df\\,n) - 1/(n-1), 0)}` with a noncentral chi^2 90% interval;
    all computed as psych's ``factor.stats`` does.

    References
    ----------
    Revelle, W. (2022). psych (R package 2.2.9), functions ``fa`` and ``fa.stats``.

    Examples
    --------
    >>> import psychometrika as pm                                   # doctest: +SKIP
    >>> res = pm.fa(bfi[items], nfactors=5)                          # doctest: +SKIP
    >>> res.fit["TLI"], res.fit["RMSEA"]                             # doctest: +SKIP
    (0.867, 0.056)
    """
    if not isinstance(nfactors, (int, np.integer)) or nfactors < 1:
        raise DataError(f"nfactors must be a positive integer, got {nfactors!r}")
    fm = {"mle": "ml", "MLE": "ml", "ML": "ml"}.get(fm, fm)
    if fm not in _PREFIX or fm == "uls":
        raise DataError(f"fm must be 'minres', 'ml' or 'pa', got {fm!r}")
    if rotate not in ("oblimin", "varimax", "promax", "none"):
        raise DataError(f"rotate must be 'oblimin', 'varimax', 'promax' or 'none', got {rotate!r}")
    inp = as_corr_input(data, n_obs, what="data")
    r = inp.r.to_numpy()
    p = r.shape[0]
    if nfactors >= p:
        raise DataError(f"{nfactors} factors requested for only {p} variables")
    core = _fa_core(r, inp.names, int(nfactors), fm, rotate, inp.n_obs, inp.np_obs)
    names = inp.names
    L = pd.DataFrame(core["L"], index=names, columns=core["cols"])
    phi = None if core["phi"] is None else pd.DataFrame(core["phi"], index=core["cols"], columns=core["cols"])
    st = core["stats"]
    fit = pd.Series({k: float(st[k]) for k in _FIT_KEYS})
    res = FactorResult(
        loadings=L, phi=phi, structure=L if phi is None else L @ phi,
        communality=pd.Series(core["h2"], index=names, name="h2"),
        communalities=pd.Series(core["comms"], index=names, name="communalities"),
        uniquenesses=pd.Series(core["uniq"], index=names, name="u2"),
        complexity=pd.Series(st["complexity"], index=names, name="com"),
        values=core["values"], e_values=core["e_values"], Vaccounted=core["vacc"], fit=fit,
        R2=pd.Series(st["R2"], index=core["cols"], name="R2"),
        weights=pd.DataFrame(st["weights"], index=names, columns=core["cols"]),
        residual=pd.DataFrame(st["residual"], index=names, columns=names),
        rot_mat=core["rot_mat"], r=inp.r, n_obs=inp.n_obs, nfactors=int(nfactors), fm=fm, rotate=rotate)
    res._title = f"Factor Analysis using method =  {fm}"
    return res


# ============================================================================ parallel analysis
class ParallelResult(StatsResult):
    """Result of :func:`fa_parallel` (psych's ``fa.parallel`` object).

    Attributes: ``nfact`` and ``ncomp`` (suggested numbers of factors and components),
    ``fa_values``/``pc_values`` (observed eigenvalues), ``fa_sim``/``pc_sim`` (mean eigenvalues
    of simulated normal data), ``fa_simr``/``pc_simr`` (of resampled data; raw input only),
    ``values`` (every replication).
    """

    _title = "Parallel analysis"

    def __init__(self, **kw: Any):
        self.__dict__.update(kw)

    def _summary_lines(self, digits: int) -> list[str]:
        tab = pd.DataFrame({"fa_values": self.fa_values, "fa_sim": self.fa_sim,
                            "pc_values": self.pc_values, "pc_sim": self.pc_sim},
                           index=range(1, len(self.pc_values) + 1))
        return [f"Parallel analysis suggests that the number of factors =  {self.nfact}  and the number of "
                f"components =  {self.ncomp}", "", "Eigen values of the original and simulated data",
                fmt_frame(tab, digits)]


def _one_factor_values(r: np.ndarray, fm: str) -> np.ndarray:
    load, _c, values, _ = _extract(r, 1, fm)
    return values


def fa_parallel(data: Any, n_obs: float | None = None, n_iter: int = 20, seed: int | None = None,
                fm: FitMethod = "minres", quant: float = 0.95) -> ParallelResult:
    """Horn's parallel analysis for factors and components, as R's ``psych::fa.parallel``.

    Observed eigenvalues of ``R`` (components) and of the one-factor reduced matrix (factors)
    are compared with the ``quant`` quantile of eigenvalues from ``n_iter`` simulated normal
    data sets of the same size (and, for raw data, from column-wise resampled data). The
    suggested number is the count of leading observed eigenvalues exceeding that quantile.

    Simulated values depend on the random generator, so they agree with R only in
    distribution; the observed eigenvalues are identical.

    Examples
    --------
    >>> pm.fa_parallel(bfi[items], seed=1).nfact                 # doctest: +SKIP
    6
    """
    if n_iter < 1:
        raise DataError("n_iter must be at least 1")
    inp = as_corr_input(data, n_obs, what="data")
    rx = inp.r.to_numpy()
    p = rx.shape[0]
    if inp.n_obs is None:
        warn("a correlation matrix was given without n_obs; the number of subjects is set to 100 like psych")
        nsub = 100
    else:
        nsub = int(inp.n_obs)
    resample = inp.data is not None
    rng = np.random.default_rng(seed)
    valuesx = sym_eigen(rx, only_values=True)
    if valuesx[-1] <= 1e-8 * valuesx[0]:
        warn("the correlation matrix is singular (some item is a linear combination of others, e.g. a copy); "
             "the component eigenvalues are exact, the factor eigenvalues rest on pseudo-inverse SMCs")
    fa_valuesx = _one_factor_values(rx, fm)
    samp, samp_fa, sim, sim_fa = [], [], [], []
    for _ in range(n_iter):
        if resample:
            x = inp.data.to_numpy()
            for _t in range(100):
                sd = np.column_stack([rng.choice(x[:, j], size=nsub, replace=True) for j in range(p)])
                C = pairwise_cor(pd.DataFrame(sd)).to_numpy()
                if not np.isnan(C).any():
                    break
            else:  # pragma: no cover - pathological data
                raise DataError("resampled data kept producing undefined correlations")
            samp.append(sym_eigen(C, only_values=True))
            samp_fa.append(_one_factor_values(C, fm))
        simdata = rng.standard_normal((nsub, p))
        sc = np.corrcoef(simdata, rowvar=False)
        sim.append(sym_eigen(sc, only_values=True))
        sim_fa.append(_one_factor_values(sc, fm))
    sim, sim_fa = np.array(sim), np.array(sim_fa)
    pc_ci = np.array([r_quantile(sim[:, j], [quant])[0] for j in range(p)])
    fa_ci = np.array([r_quantile(sim_fa[:, j], [quant])[0] for j in range(p)])

    def first_fail(obs: np.ndarray, ci: np.ndarray) -> int:
        fails = np.where(~(obs > ci))[0]
        return int(fails[0]) if len(fails) else p

    res = ParallelResult(
        fa_values=fa_valuesx, pc_values=valuesx, pc_sim=sim.mean(axis=0), fa_sim=sim_fa.mean(axis=0),
        pc_simr=np.array(samp).mean(axis=0) if resample else None,
        fa_simr=np.array(samp_fa).mean(axis=0) if resample else None,
        nfact=first_fail(fa_valuesx, fa_ci), ncomp=first_fail(valuesx, pc_ci),
        values=pd.DataFrame(np.hstack([np.array(samp), np.array(samp_fa), sim, sim_fa]) if resample
                            else np.hstack([sim, sim_fa])),
        n_iter=n_iter)
    return res


# ============================================================================ KMO / Bartlett
class KMOResult(StatsResult):
    """Kaiser-Meyer-Olkin measure of sampling adequacy: ``MSA`` (overall) and ``MSAi`` (per item)."""

    _title = "Kaiser-Meyer-Olkin factor adequacy"

    def __init__(self, MSA: float, MSAi: pd.Series, image: pd.DataFrame):
        self.MSA, self.MSAi, self.image = MSA, MSAi, image

    def _summary_lines(self, digits: int) -> list[str]:
        return [f"Overall MSA =  {self.MSA:.{digits}f}", "MSA for each item = ",
                self.MSAi.round(digits).to_frame().T.to_string(index=False)]


def kmo(data: Any) -> KMOResult:
    """Kaiser-Meyer-Olkin MSA, equal to R's ``psych::KMO``.

    :math:`MSA = \\sum_{i\\ne j} r_{ij}^2 / (\\sum_{i\\ne j} r_{ij}^2 + \\sum_{i\\ne j} q_{ij}^2)`
    with :math:`q_{ij}` the partial (anti-image) correlations from :math:`R^{-1}`; ``MSAi`` uses
    the column sums. Kaiser, H. F. (1970). A second generation little jiffy. *Psychometrika, 35*, 401-415.

    Examples
    --------
    >>> pm.kmo(bfi[items]).MSA                 # doctest: +SKIP
    0.8486
    """
    inp = as_corr_input(data, None, what="data")
    r = inp.r.to_numpy().copy()
    try:
        Q = np.linalg.inv(r)
        if not np.all(np.isfinite(Q)) or np.linalg.cond(r) > 1 / _EPS:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        raise DataError("the correlation matrix is singular, so partial correlations (and KMO) are undefined; "
                        "remove redundant (linearly dependent) items") from None
    Q = cov2cor(Q)
    image = pd.DataFrame(Q, index=inp.names, columns=inp.names)
    np.fill_diagonal(Q, 0)
    np.fill_diagonal(r, 0)
    sq, sr = float(np.sum(Q ** 2)), float(np.sum(r ** 2))
    msai = np.sum(r ** 2, axis=0) / (np.sum(r ** 2, axis=0) + np.sum(Q ** 2, axis=0))
    return KMOResult(sr / (sr + sq), pd.Series(msai, index=inp.names, name="MSAi"), image)


class BartlettResult(StatsResult):
    """Bartlett's test that a correlation matrix is an identity matrix: ``chisq``, ``df``, ``p_value``."""

    _title = "Bartlett's test of sphericity"

    def __init__(self, chisq: float, df: float, p_value: float, n_obs: float):
        self.chisq, self.df, self.p_value, self.n_obs = chisq, df, p_value, n_obs

    def _summary_lines(self, digits: int) -> list[str]:
        return [f"chisq = {self.chisq:.{digits}f}, df = {self.df:.0f}, p.value = {self.p_value:.3g} "
                f"(n = {self.n_obs:.0f})"]


def bartlett(data: Any, n_obs: float | None = None) -> BartlettResult:
    """Bartlett's (1951) test of sphericity, equal to R's ``psych::cortest.bartlett``.

    :math:`\\chi^2 = -\\log|R|\\,(n - 1 - (2p + 5)/6)`, :math:`df = p(p-1)/2`. Raw data use the
    pairwise correlation matrix and ``n`` = number of rows; a correlation matrix needs
    ``n_obs`` (psych silently assumes 100; here it is an error).

    Examples
    --------
    >>> pm.bartlett(bfi[items]).chisq                 # doctest: +SKIP
    18146.07
    """
    inp = as_corr_input(data, n_obs, what="data")
    if inp.n_obs is None:
        raise DataError("bartlett() with a correlation matrix needs n_obs (the number of observations)")
    r = inp.r.to_numpy()
    p = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0 or not np.isfinite(logdet):
        raise DataError("the correlation matrix is singular (determinant 0), so Bartlett's test is undefined")
    n = inp.n_obs
    chisq = -logdet * (n - 1 - (2 * p + 5) / 6)
    df = p * (p - 1) / 2
    return BartlettResult(float(chisq), float(df), float(stats.chi2.sf(chisq, df)), float(n))


# ============================================================================ congruence
def congruence(L1: Any, L2: Any, procrustes: bool = False) -> pd.DataFrame:
    """Tucker's congruence coefficients between the columns of two loading matrices.

    :math:`\\phi(x, y) = \\sum x_i y_i / \\sqrt{\\sum x_i^2 \\sum y_i^2}` for every factor of
    ``L1`` (rows) against every factor of ``L2`` (columns) - R's ``psych::factor.congruence``
    (without its rounding). With ``procrustes=True`` ``L1`` is first rotated to ``L2`` by the
    orthogonal Procrustes rotation :math:`T = UV'` from :math:`L_1'L_2 = UDV'` (Schönemann,
    1966), which requires the same number of factors and items.
    Tucker, L. R. (1951). *A method for synthesis of factor analysis studies*. ETS.

    Accepts DataFrames, arrays or :class:`FactorResult` objects.

    Examples
    --------
    >>> pm.congruence(fit1.loadings, fit2.loadings)        # doctest: +SKIP
    """
    def as_frame(L: Any, tag: str) -> pd.DataFrame:
        if isinstance(L, FactorResult):
            L = L.loadings
        if isinstance(L, pd.Series):
            L = L.to_frame()
        if not isinstance(L, pd.DataFrame):
            a = np.asarray(L, dtype=float)
            if a.ndim == 1:
                a = a[:, None]
            L = pd.DataFrame(a, columns=[f"{tag}{i + 1}" for i in range(a.shape[1])])
        a = L.to_numpy(dtype=float)
        if np.isnan(a).any():
            raise DataError(f"loadings {tag} contain missing values")
        return L.astype(float)

    A, B = as_frame(L1, "L1_"), as_frame(L2, "L2_")
    if A.shape[0] != B.shape[0]:
        raise DataError(f"loading matrices have different numbers of items ({A.shape[0]} vs {B.shape[0]})")
    x, y = A.to_numpy(), B.to_numpy()
    if procrustes:
        if x.shape[1] != y.shape[1]:
            raise DataError("Procrustes rotation needs the same number of factors in both matrices")
        u, _d, vt = np.linalg.svd(x.T @ y)
        x = x @ (u @ vt)
    nx, ny = np.sqrt(np.sum(x ** 2, axis=0)), np.sqrt(np.sum(y ** 2, axis=0))
    if np.any(nx == 0) or np.any(ny == 0):
        raise DataError("a loading column is all zeros; congruence is undefined")
    phi = (x.T @ y) / np.outer(nx, ny)
    return pd.DataFrame(phi, index=A.columns, columns=B.columns)
