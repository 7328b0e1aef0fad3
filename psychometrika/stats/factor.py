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

from dataclasses import dataclass

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import (
    small_blas,
    DEGENERATE_ERRORS, StatsResult, as_corr_input, cov2cor, degenerate_reason, fmt_frame, pairwise_cor, r_quantile, sym_eigen, warn,
)
from psychometrika.stats.guards import guard
from psychometrika.stats.extraction import FACTOR_PREFIX, extract, fa_core

__all__ = ["fa", "FactorResult", "fa_parallel", "ParallelResult", "kmo", "KMOResult", "bartlett",
           "BartlettResult", "congruence"]

_EPS = np.finfo(float).eps
FitMethod = Literal["minres", "ml", "pa"]
Rotation = Literal["oblimin", "varimax", "promax", "none"]


_FIT_KEYS = ["chi", "dof", "EPVAL", "STATISTIC", "PVAL", "objective", "null_model", "null_dof", "null_chisq",
             "TLI", "RMSEA", "RMSEA_lower", "RMSEA_upper", "BIC", "SABIC", "EBIC", "ESABIC", "rms", "crms",
             "fit", "fit_off", "nh", "n_obs"]


# ============================================================================ fa
@dataclass(repr=False, eq=False)
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

    loadings: pd.DataFrame
    phi: pd.DataFrame | None
    structure: pd.DataFrame
    communality: pd.Series
    communalities: pd.Series
    uniquenesses: pd.Series
    complexity: pd.Series
    values: np.ndarray
    e_values: np.ndarray
    Vaccounted: pd.DataFrame
    fit: pd.Series
    R2: pd.Series
    weights: pd.DataFrame
    residual: pd.DataFrame
    rot_mat: np.ndarray | None
    r: pd.DataFrame
    n_obs: float | None
    nfactors: int
    fm: str
    rotate: str

    def to_frame(self) -> pd.DataFrame:
        """psych's printed loadings table: the loadings with ``h2``, ``u2`` and ``com`` per item."""
        return self.loadings.assign(h2=self.communality, u2=self.uniquenesses, com=self.complexity)

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



@small_blas
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
    if fm not in FACTOR_PREFIX or fm == "uls":
        raise DataError(f"fm must be 'minres', 'ml' or 'pa', got {fm!r}")
    if rotate not in ("oblimin", "varimax", "promax", "none"):
        raise DataError(f"rotate must be 'oblimin', 'varimax', 'promax' or 'none', got {rotate!r}")
    inp = as_corr_input(data, n_obs, what="data")
    r = inp.r.to_numpy()
    p = r.shape[0]
    if nfactors >= p:
        raise DataError(f"{nfactors} factors requested for only {p} variables")
    if inp.n_obs is not None and np.isfinite(inp.n_obs):
        guard("efa", int(inp.n_obs), items=p)  # minimum-information rule (stats/guards.py)
    try:
        core = fa_core(r, inp.names, int(nfactors), fm, rotate, inp.n_obs, inp.np_obs)
    except DEGENERATE_ERRORS:
        raise DataError(f"fa could not be computed on this degenerate matrix: {degenerate_reason(r, inp.names)}",
                        hint="drop duplicated or unrelated items, or ask for fewer factors") from None
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
@dataclass(repr=False, eq=False)
class ParallelResult(StatsResult):
    """Result of :func:`fa_parallel` (psych's ``fa.parallel`` object).

    Attributes: ``nfact`` and ``ncomp`` (suggested numbers of factors and components),
    ``fa_values``/``pc_values`` (observed eigenvalues), ``fa_sim``/``pc_sim`` (mean eigenvalues
    of simulated normal data), ``fa_simr``/``pc_simr`` (of resampled data; raw input only),
    ``values`` (every replication).
    """

    _title = "Parallel analysis"

    fa_values: np.ndarray
    pc_values: np.ndarray
    pc_sim: np.ndarray
    fa_sim: np.ndarray
    pc_simr: np.ndarray | None
    fa_simr: np.ndarray | None
    nfact: int
    ncomp: int
    values: pd.DataFrame
    n_iter: int

    def to_frame(self) -> pd.DataFrame:
        """Per factor/component number: observed and simulated (and resampled) eigenvalues."""
        out = pd.DataFrame({"fa_values": self.fa_values, "fa_sim": self.fa_sim, "pc_values": self.pc_values,
                            "pc_sim": self.pc_sim}, index=pd.RangeIndex(1, len(self.fa_values) + 1, name="n"))
        if self.fa_simr is not None:
            out["fa_simr"], out["pc_simr"] = self.fa_simr, self.pc_simr
        return out

    def _summary_lines(self, digits: int) -> list[str]:
        tab = pd.DataFrame({"fa_values": self.fa_values, "fa_sim": self.fa_sim,
                            "pc_values": self.pc_values, "pc_sim": self.pc_sim},
                           index=range(1, len(self.pc_values) + 1))
        return [f"Parallel analysis suggests that the number of factors =  {self.nfact}  and the number of "
                f"components =  {self.ncomp}", "", "Eigen values of the original and simulated data",
                fmt_frame(tab, digits)]


def _one_factor_values(r: np.ndarray, fm: str) -> np.ndarray:
    load, _c, values, _ = extract(r, 1, fm)
    return values


@small_blas
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
@dataclass(repr=False, eq=False)
class KMOResult(StatsResult):
    """Kaiser-Meyer-Olkin measure of sampling adequacy: ``MSA`` (overall) and ``MSAi`` (per item)."""

    _title = "Kaiser-Meyer-Olkin factor adequacy"

    MSA: float
    MSAi: pd.Series
    image: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """``MSAi`` per item (the overall ``MSA`` is an attribute)."""
        return self.MSAi.to_frame()

    def _summary_lines(self, digits: int) -> list[str]:
        return [f"Overall MSA =  {self.MSA:.{digits}f}", "MSA for each item = ",
                self.MSAi.round(digits).to_frame().T.to_string(index=False)]


@small_blas
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


@dataclass(repr=False, eq=False)
class BartlettResult(StatsResult):
    """Bartlett's test that a correlation matrix is an identity matrix: ``chisq``, ``df``, ``p_value``."""

    _title = "Bartlett's test of sphericity"

    chisq: float
    df: float
    p_value: float
    n_obs: float

    def to_frame(self) -> pd.DataFrame:
        """One row: chisq, df, p_value, n_obs."""
        return self._scalars("chisq", "df", "p_value", "n_obs")

    def _summary_lines(self, digits: int) -> list[str]:
        return [f"chisq = {self.chisq:.{digits}f}, df = {self.df:.0f}, p.value = {self.p_value:.3g} "
                f"(n = {self.n_obs:.0f})"]


@small_blas
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
