"""Reliability, psych-style: ``alpha``, ``guttman``, ``split_half``, ``omega``, ``score_items``.

Each function reproduces the R function of psych 2.2.9 it is named after (``alpha``,
``guttman``, ``splitHalf``, ``omega``, ``scoreItems``), including psych's handling of missing
data (pairwise correlations), reversed keys and correlation-matrix input, and is validated
number for number against R (``tests/stats/test_reliability.py``).

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. *Psychometrika,
16*, 297-334. Guttman, L. (1945). A basis for analyzing test-retest reliability.
*Psychometrika, 10*, 255-282. Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical
inference for coefficient alpha. *Applied Psychological Measurement, 11*, 93-103. Duhachek, A.,
& Iacobucci, D. (2004). Alpha's standard error (ASE). *Journal of Applied Psychology, 89*,
792-808. McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum. Schmid, J., &
Leiman, J. M. (1957). The development of hierarchical factor solutions. *Psychometrika, 22*,
53-61. Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's alpha, Revelle's
beta, and McDonald's omega_h. *Psychometrika, 70*, 123-133. Revelle, W. (2022). *psych* (R package).
"""

from __future__ import annotations

from dataclasses import dataclass

import itertools
import math
import warnings
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import (
    small_blas,
    StatsResult, as_corr_input, as_item_frame, constant_columns, cov2cor, fmt_frame,
    DEGENERATE_ERRORS, degenerate_reason, pairwise_cov, renamed_columns, r_quantile, smc, sym_eigen, warn,
)
from psychometrika.stats.guards import guard
from psychometrika.stats.extraction import extract, fa_core, gpf_oblique

__all__ = ["alpha", "AlphaResult", "alpha_ci", "ConfidenceInterval", "guttman", "GuttmanResult", "split_half", "SplitHalfResult",
           "omega", "OmegaResult", "score_items", "ScoreItemsResult", "reverse_items"]


# ============================================================================ helpers
def _first_pc_signs(r: np.ndarray) -> np.ndarray:
    """Signs of the first principal component loadings, oriented so their sum is positive (psych)."""
    vals, vecs = sym_eigen(r)
    v = vecs[:, 0] * math.sqrt(max(vals[0], 0))
    if v.sum() < 0:
        v = -v
    return np.where(v < 0, -1.0, 1.0)


def reverse_items(data: pd.DataFrame, items: Iterable[str], min_value: float | None = None,
                  max_value: float | None = None) -> pd.DataFrame:
    """Reverse-score ``items`` as psych does: ``x' = max + min - x``.

    psych's rule: ``min``/``max`` are taken over **all** items of the data frame (not per item)
    unless given.
    """
    items = list(items)
    missing = [i for i in items if i not in data.columns]
    if missing:
        raise DataError(f"items to reverse not found in the data: {missing}")
    out = data.copy()
    lo = float(np.nanmin(data.to_numpy())) if min_value is None else float(min_value)
    hi = float(np.nanmax(data.to_numpy())) if max_value is None else float(max_value)
    for it in items:
        out[it] = hi + lo - out[it]
    return out


def _response_freq(x: pd.DataFrame, max_cat: int = 10) -> pd.DataFrame | None:
    """psych's ``response.frequencies``: proportion of each response (of non-missing), plus ``miss``."""
    a = x.to_numpy()
    rng = np.nanmax(a, axis=0) - np.nanmin(a, axis=0)
    keep = rng < max_cat + 1
    sub = x.loc[:, keep]
    if sub.shape[1] == 0:
        return None
    vals = pd.unique(sub.to_numpy().ravel())
    vals = np.sort(vals[~pd.isna(vals)])
    if len(vals) > max_cat or np.min(rng[keep]) > max_cat:
        return None
    rows = {}
    for c in sub.columns:
        col = sub[c].dropna()
        counts = col.value_counts()
        n = len(col)
        rows[c] = [counts.get(v, 0) / n for v in vals] + [1 - n / len(sub)]
    labels = [f"{v:g}" for v in vals] + ["miss"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=labels)


def _alpha_stats(C: np.ndarray, R: np.ndarray) -> dict[str, float]:
    """psych's internal ``alpha.1``: raw/std alpha, G6, average r, S/N, Q (for ase), var.r, med.r."""
    n = C.shape[1]
    sumC = float(C.sum())
    if not sumC > 1e-12 * max(float(np.trace(C)), 1.0):
        raise DataError("alpha is undefined: the total score has no variance (every respondent has the same sum "
                        "of these items, e.g. items keyed in opposite directions that cancel); check the keys")
    alpha_raw = (1 - np.trace(C) / sumC) * (n / (n - 1))
    sumR = float(R.sum())
    alpha_std = (1 - n / sumR) * (n / (n - 1))
    g6 = 1 - (n - float(smc(R).sum())) / sumR
    av_r = (sumR - n) / (n * (n - 1))
    low = R[np.tril_indices(n, -1)]
    var_r = float(np.var(low, ddof=1)) if len(low) > 1 else float("nan")
    med_r = float(np.median(low))
    sn = n * av_r / (1 - av_r) if av_r < 1 else math.inf  # perfectly correlated items: R's n * 1 / 0 = Inf
    CC = C @ C
    Q = (2 * n ** 2 / ((n - 1) ** 2 * sumC ** 3)) * (sumC * (np.trace(CC) + np.trace(C) ** 2)
                                                      - 2 * (np.trace(C) * CC.sum()))
    return dict(raw_alpha=alpha_raw, std_alpha=alpha_std, G6=g6, average_r=av_r, S_N=sn, Q=float(Q),
                var_r=var_r, median_r=med_r)


class ConfidenceInterval(NamedTuple):
    """A confidence interval: unpacks like the ``(lower, upper)`` tuple it replaces."""

    CI_low: float
    CI_high: float


def alpha_ci(alpha_value: float, n_obs: float, n_items: int, p_val: float = 0.05) -> ConfidenceInterval:
    """Feldt's confidence interval for alpha (psych's ``alpha.ci``).

    :math:`1 - (1 - \\alpha) F_{1-p/2}(n - 1, (n - 1)(k - 1))` (lower) and the same with
    :math:`F_{p/2}` (upper). Feldt, Woodruff & Salih (1987). Returns a :class:`ConfidenceInterval`
    ``(CI_low, CI_high)`` (a named tuple: ``lo, hi = alpha_ci(...)`` still works).
    """
    df1, df2 = n_obs - 1, (n_obs - 1) * (n_items - 1)
    lower = 1 - (1 - alpha_value) * stats.f.ppf(1 - p_val / 2, df1, df2)
    upper = 1 - (1 - alpha_value) * stats.f.ppf(p_val / 2, df1, df2)
    return ConfidenceInterval(float(lower), float(upper))


# ============================================================================ alpha
#: Level of alpha's bootstrap interval (psych's boot.ci: the 2.5 %, 50 % and 97.5 % quantiles).
BOOTSTRAP_CI = 0.95


def _ci_table(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """alpha's CI table (rows Feldt / Bootstrap); psych's column names lower/upper still read."""
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["CI_low", "alpha", "CI_high"])
    return renamed_columns(frame, {"lower": "CI_low", "upper": "CI_high"})


@dataclass(repr=False, eq=False)
class AlphaResult(StatsResult):
    """Result of :func:`alpha` (psych's ``alpha`` object; dots -> underscores).

    Attributes
    ----------
    total : Series
        ``raw_alpha, std_alpha, G6, average_r, S_N, ase, mean, sd, median_r`` (raw data) -
        ``mean``/``sd`` are of the respondents' mean scores.
    alpha_drop : DataFrame
        The same statistics with each item dropped (``raw_alpha, std_alpha, G6, average_r, S_N,
        alpha_se, var_r, med_r``).
    item_stats : DataFrame
        ``n, raw_r, std_r, r_cor, r_drop, mean, sd`` per item (``r, r_cor, r_drop`` for a
        correlation matrix).
    response_freq : DataFrame or None
        Proportion of each response per item (when items have at most 10 categories).
    ci : DataFrame
        Feldt and (when ``n_iter > 1``) bootstrap 95% intervals (columns ``CI_low``, ``alpha``, ``CI_high``;
        psych's ``lower``/``upper`` still read, deprecated).
    keys : Series
        +1/-1 per item; reversed items are also marked with a trailing ``-`` in row names.
    scores : Series or None
        Mean (over answered items) of each respondent.
    """

    _title = "Reliability analysis"

    total: pd.Series
    alpha_drop: pd.DataFrame
    item_stats: pd.DataFrame
    response_freq: pd.DataFrame | None
    ci: pd.DataFrame
    keys: pd.Series
    scores: pd.Series | None
    boot: np.ndarray | None
    nvar: int
    reversed: list[str]
    n_iter: int = 1
    seed: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row: ``total`` (raw_alpha, std_alpha, G6, ...) with the Feldt ``CI_low``/``CI_high``."""
        out = self.total.to_frame().T.reset_index(drop=True)
        if "Feldt" in self.ci.index:
            out["CI_low"], out["CI_high"] = self.ci.loc["Feldt", "CI_low"], self.ci.loc["Feldt", "CI_high"]
        return out

    def _summary_lines(self, digits: int) -> list[str]:
        lines = [f"Call: alpha(x = data{', keys = ' + repr(self.reversed) if self.reversed else ''})", "",
                 fmt_frame(self.total.to_frame().T.rename(index={0: ""}), digits)]
        if "Feldt" in self.ci.index:
            f = self.ci.loc["Feldt"]
            lines += ["", "    95% confidence boundaries ", "         lower alpha upper",
                      f"Feldt     {f['CI_low']:.{digits}f}  {f['alpha']:.{digits}f}  {f['CI_high']:.{digits}f}"]
            if "Bootstrap" in self.ci.index:
                b = self.ci.loc["Bootstrap"]
                lines.append(f"Bootstrap {b['CI_low']:.{digits}f}  {b['alpha']:.{digits}f}  {b['CI_high']:.{digits}f}")
                lines.append(f"(bootstrap: {self.n_iter} resamples, "
                             + (f"seed = {self.seed})" if self.seed is not None else "no seed: not reproducible)"))
            elif self.scores is not None:
                lines.append("(no bootstrap CI: n_iter = 1, psych's default; pass n_iter=1000, seed=... for one)")
        lines += ["", " Reliability if an item is dropped:", fmt_frame(self.alpha_drop, digits), "",
                  " Item statistics ", fmt_frame(self.item_stats, digits)]
        if self.response_freq is not None:
            lines += ["", "Non missing response frequency for each item", fmt_frame(self.response_freq, digits)]
        return lines


@small_blas
def alpha(data: Any, keys: Sequence[str] | None = None, check_keys: bool = False, n_iter: int = 1,
          seed: int | None = None, n_obs: float | None = None) -> AlphaResult:
    """Cronbach's alpha and item statistics, equal to R's ``psych::alpha``.

    Parameters
    ----------
    data : DataFrame
        Item responses (``NaN`` = missing: covariances are pairwise, scores are means of the
        answered items), or a correlation/covariance matrix (then no scores, frequencies or CIs
        except Feldt's when ``n_obs`` is given).
    keys : list of str, optional
        Items to reverse (psych's ``keys = c("A1")``): ``x' = max + min - x`` with min and max
        taken over all items.
    check_keys : bool
        Reverse items that load negatively on the first principal component (with a warning).
    n_iter : int
        Bootstrap replications for a bootstrap CI. The default ``1`` (psych's ``n.iter = 1``) computes
        none: the bootstrap is opt-in, e.g. ``n_iter=1000, seed=1`` (about 1-20 s; ``ci`` then has a
        ``Bootstrap`` row and the summary says how it was made).
    seed : int, optional
        Seed of the bootstrap resampling (numpy ``default_rng``): the same seed gives the same CI. Without
        one the bootstrap CI differs from call to call (the summary says so).

    Notes
    -----
    :math:`\\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\operatorname{tr} C}{\\mathbf 1'C\\mathbf 1}\\right)`;
    standardised alpha uses the correlation matrix; :math:`G6 = 1 - \\sum(1 - smc_i)/\\mathbf 1'R\\mathbf 1`;
    the standard error is Duhachek & Iacobucci's (2004) ``ase``; Feldt's CI uses the F
    distribution with :math:`n-1` and :math:`(n-1)(k-1)` df. Items without variance are dropped
    with a warning (psych does the same).

    Examples
    --------
    >>> res = pm.alpha(bfi[["A1", "A2", "A3", "A4", "A5"]], keys=["A1"])   # doctest: +SKIP
    >>> round(res.total["raw_alpha"], 4)                                   # doctest: +SKIP
    0.703
    """
    if keys is not None and isinstance(keys, str):
        keys = [keys]
    cinp = None
    if isinstance(data, (pd.DataFrame, np.ndarray)) and np.ndim(data) == 2 and np.shape(data)[0] == np.shape(data)[1]:
        try:
            a = np.asarray(data, dtype=float)
            # psych's isCovariance: a square symmetric matrix with a positive diagonal
            if not np.isnan(a).any() and np.allclose(a, a.T) and np.all(np.diag(a) > 0):
                cinp = a
        except (TypeError, ValueError):
            pass
    if cinp is not None:
        return _alpha_matrix(data, cinp, keys, check_keys, n_obs)
    x = as_item_frame(data, what="data", min_rows=2, min_cols=2)
    names = list(x.columns)
    if keys is not None:
        bad = [k for k in keys if k not in names]
        if bad:
            raise DataError(f"keys name item(s) not in the data: {bad}")
    const = constant_columns(x)
    n_bad = len(const)
    first_bad_sum = 0.0
    if const:
        for c in const:
            warn(f"item {c!r} had no variance and was deleted but still is counted in the score")
        first_bad_sum = float(np.nansum(x[const].iloc[0].to_numpy()))
        x = x.drop(columns=const)
        names = list(x.columns)
    nvar = len(names)
    if nvar < 2:
        raise DataError("alpha needs at least 2 items with variance")
    nsub = x.shape[0]
    response_freq = _response_freq(x)
    C = pairwise_cov(x).to_numpy()
    if np.isnan(C).any():
        raise DataError("some pairs of items have fewer than 2 joint responses; covariances undefined")
    R0 = cov2cor(C)
    pc_signs = _first_pc_signs(R0)
    key = np.ones(nvar)
    if keys is not None:
        key[[names.index(k) for k in keys if k in names]] = -1
    if np.any(pc_signs < 0):
        if check_keys:
            warn("some items were negatively correlated with the first principal component and were "
                 f"automatically reversed: {[n for n, s in zip(names, pc_signs) if s < 0]}")
            key = pc_signs.copy()
        elif keys is None:
            warn(f"some items ({[n for n, s in zip(names, pc_signs) if s < 0]}) were negatively correlated with "
                 "the total scale and probably should be reversed; use keys= or check_keys=True")
    C = C * np.outer(key, key)
    labels = [n + ("-" if k < 0 else "") for n, k in zip(names, key)]
    xs = x.copy()
    if np.any(key < 0):
        lo, hi = float(np.nanmin(x.to_numpy())), float(np.nanmax(x.to_numpy()))
        for j in np.where(key < 0)[0]:
            xs.iloc[:, j] = hi + lo - xs.iloc[:, j]
    xs.columns = labels
    rowmean = xs.mean(axis=1, skipna=True)
    total = (nvar * rowmean + first_bad_sum) / (nvar + n_bad) if n_bad else rowmean
    mean_t, sd_t = float(total.mean()), float(total.std(ddof=1))
    raw_r = np.array([_cor_pair(total.to_numpy(), xs.iloc[:, j].to_numpy()) for j in range(nvar)])
    t_valid = xs.notna().sum().to_numpy()
    res = _alpha_core(C, labels, nsub)
    st = res["total"]
    ase = math.sqrt(st["Q"] / nsub)
    total_s = pd.Series({"raw_alpha": st["raw_alpha"], "std_alpha": st["std_alpha"], "G6": st["G6"],
                         "average_r": st["average_r"], "S_N": st["S_N"], "ase": ase, "mean": mean_t,
                         "sd": sd_t, "median_r": st["median_r"]}, name="total")
    item_stats = pd.DataFrame({"n": t_valid.astype(float), "raw_r": raw_r, "std_r": res["std_r"],
                               "r_cor": res["r_cor"], "r_drop": res["r_drop"],
                               "mean": xs.mean().to_numpy(), "sd": xs.std(ddof=1).to_numpy()}, index=labels)
    lo, hi = alpha_ci(st["raw_alpha"], nsub, nvar)
    ci_rows = {"Feldt": {"CI_low": lo, "alpha": st["raw_alpha"], "CI_high": hi}}
    boot = None
    if n_iter and n_iter > 1:
        rng = np.random.default_rng(seed)
        arr = xs.to_numpy()
        boot = np.empty(n_iter)
        for b in range(n_iter):
            idx = rng.integers(0, nsub, nsub)
            Cb = _fast_pairwise_cov(arr[idx])
            boot[b] = (1 - np.trace(Cb) / Cb.sum()) * (nvar / (nvar - 1))
        tail = (1 - BOOTSTRAP_CI) / 2
        q = r_quantile(boot[~np.isnan(boot)], [tail, 0.5, 1 - tail])
        ci_rows["Bootstrap"] = {"CI_low": q[0], "alpha": q[1], "CI_high": q[2]}
    out = AlphaResult(total=total_s, alpha_drop=res["alpha_drop"], item_stats=item_stats,
                      response_freq=response_freq, ci=_ci_table(ci_rows),
                      keys=pd.Series(key, index=names, name="keys"), scores=total.rename("score"),
                      boot=boot, nvar=nvar, reversed=[n for n, k in zip(names, key) if k < 0],
                      n_iter=int(n_iter) if boot is not None else 1, seed=seed)
    return out


def _cor_pair(a: np.ndarray, b: np.ndarray) -> float:
    m = ~np.isnan(a) & ~np.isnan(b)
    aa, bb = a[m] - a[m].mean(), b[m] - b[m].mean()
    return float(aa @ bb / math.sqrt((aa @ aa) * (bb @ bb)))


def _fast_pairwise_cov(arr: np.ndarray) -> np.ndarray:
    if not np.isnan(arr).any():
        return np.cov(arr, rowvar=False)
    return pairwise_cov(pd.DataFrame(arr)).to_numpy()


def _alpha_core(C: np.ndarray, labels: list[str], n_for_se: float | None) -> dict[str, Any]:
    nvar = C.shape[0]
    R = cov2cor(C)
    st = _alpha_stats(C, R)
    drops = []
    for i in range(nvar):
        keep = [j for j in range(nvar) if j != i]
        if nvar > 2:
            d = _alpha_stats(C[np.ix_(keep, keep)], R[np.ix_(keep, keep)])
            drops.append([d["raw_alpha"], d["std_alpha"], d["G6"], d["average_r"], d["S_N"], d["Q"],
                          d["var_r"], d["median_r"]])
        else:
            other = keep[0]
            drops.append([C[0, 1] / C[other, other], R[0, 1], smc(R)[0], R[0, 1], R[0, 1] / (1 - R[0, 1]),
                          float("nan"), 0.0, R[0, 1]])
    by = pd.DataFrame(drops, index=labels, columns=["raw_alpha", "std_alpha", "G6", "average_r", "S_N",
                                                    "alpha_se", "var_r", "med_r"])
    if n_for_se is not None and n_for_se > nvar:
        by["alpha_se"] = np.sqrt(by["alpha_se"] / n_for_se)
    else:
        by = by.drop(columns="alpha_se")
    Vt = R.sum()
    std_r = R.sum(axis=0) / math.sqrt(Vt)
    RC = R.copy()
    np.fill_diagonal(RC, smc(R))
    r_cor = RC.sum(axis=0) / np.sqrt(RC.sum())  # NaN (as in psych) when the sum is negative
    r_drop = np.empty(nvar)
    for i in range(nvar):
        keep = [j for j in range(nvar) if j != i]
        v_drop = C[np.ix_(keep, keep)].sum()
        c_drop = C[:, i].sum() - C[i, i]
        r_drop[i] = c_drop / np.sqrt(C[i, i] * v_drop) if C[i, i] * v_drop > 0 else np.nan
    return dict(total=st, alpha_drop=by, std_r=std_r, r_cor=r_cor, r_drop=r_drop)


def _alpha_matrix(data: Any, a: np.ndarray, keys, check_keys: bool, n_obs: float | None) -> AlphaResult:
    names = [str(c) for c in data.columns] if isinstance(data, pd.DataFrame) else [f"V{i + 1}" for i in range(a.shape[0])]
    nvar = len(names)
    if nvar < 2:
        raise DataError("alpha needs at least 2 items")
    key = np.ones(nvar)
    if keys is not None:
        bad = [k for k in keys if k not in names]
        if bad:
            raise DataError(f"keys name item(s) not in the matrix: {bad}")
        key[[names.index(k) for k in keys]] = -1
    pcs = _first_pc_signs(cov2cor(a))
    if np.any(pcs < 0) and check_keys:
        warn("some items were negatively correlated with the first principal component and were reversed")
        key = pcs
    C = a * np.outer(key, key)
    labels = [n + ("-" if k < 0 else "") for n, k in zip(names, key)]
    res = _alpha_core(C, labels, n_obs)
    st = res["total"]
    tot = {"raw_alpha": st["raw_alpha"], "std_alpha": st["std_alpha"], "G6": st["G6"],
           "average_r": st["average_r"], "S_N": st["S_N"]}
    ci_rows = {}
    if n_obs is not None:
        tot["ase"] = math.sqrt(st["Q"] / n_obs)
        lo, hi = alpha_ci(st["raw_alpha"], n_obs, nvar)
        ci_rows["Feldt"] = {"CI_low": lo, "alpha": st["raw_alpha"], "CI_high": hi}
    tot["median_r"] = st["median_r"]
    item_stats = pd.DataFrame({"r": res["std_r"], "r_cor": res["r_cor"], "r_drop": res["r_drop"]}, index=labels)
    return AlphaResult(total=pd.Series(tot, name="total"), alpha_drop=res["alpha_drop"], item_stats=item_stats,
                       response_freq=None, ci=_ci_table(ci_rows),
                       keys=pd.Series(key, index=names, name="keys"), scores=None, boot=None, nvar=nvar,
                       reversed=[n for n, k in zip(names, key) if k < 0])


# ============================================================================ split half
@dataclass(repr=False, eq=False)
class SplitHalfResult(StatsResult):
    """Result of :func:`split_half` (psych's ``splitHalf``): ``maxrb`` (lambda 4), ``minrb`` (beta),
    ``meanr`` (mean split-half reliability), ``av_r``, ``med_r``, ``alpha``, ``lambda2``, ``lambda6``,
    ``maxAB``/``minAB`` (the best and worst splits), ``n_splits`` and ``exhaustive``."""

    _title = "Split half reliabilities"

    maxrb: float
    minrb: float
    meanr: float
    av_r: float
    med_r: float
    alpha: float
    lambda2: float
    lambda6: float
    maxAB: tuple[list[str], list[str]]
    minAB: tuple[list[str], list[str]]
    raw: np.ndarray
    n_splits: int
    exhaustive: bool
    keys: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """One row of the split-half statistics."""
        return self._scalars("maxrb", "minrb", "meanr", "av_r", "med_r", "alpha", "lambda2", "lambda6", "n_splits")

    def _summary_lines(self, digits: int) -> list[str]:
        d = digits
        return ["", f"Maximum split half reliability (lambda 4) =  {self.maxrb:.{d}f}",
                f"Guttman lambda 6                          =  {self.lambda6:.{d}f}",
                f"Average split half reliability            =  {self.meanr:.{d}f}",
                f"Guttman lambda 3 (alpha)                  =  {self.alpha:.{d}f}",
                f"Guttman lambda 2                          =  {self.lambda2:.{d}f}",
                f"Minimum split half reliability  (beta)    =  {self.minrb:.{d}f}",
                f"Average interitem r =  {self.av_r:.{d}f}  with median =  {self.med_r:.{d}f}",
                f"({'all' if self.exhaustive else 'a random sample of'} {self.n_splits} splits)"]


@small_blas
def split_half(data: Any, check_keys: bool = False, keys: Sequence[str] | None = None, n_sample: int = 10000,
               seed: int | None = None, n_obs: float | None = None) -> SplitHalfResult:
    """All split-half reliabilities, equal to R's ``psych::splitHalf``.

    For every split of the items into halves A and B (sizes ``floor(k/2)`` and the rest) the
    standardised split-half reliability is :math:`r_{AB} = 4 c_{AB} / \\mathbf 1'R\\mathbf 1`
    (Guttman's lambda 4 on the correlation matrix). When ``choose(k, k/2)/2 <= n_sample`` the
    splits are enumerated exactly as psych does (lexicographic item combinations; psych's
    enumeration for odd k is reproduced), otherwise ``n_sample`` random splits are drawn.

    ``check_keys=True`` reverses items loading negatively on the first principal component
    (psych's default is ``TRUE``; here it is opt-in); ``keys`` reverses named items.

    Examples
    --------
    >>> pm.split_half(bfi[["A1", "A2", "A3", "A4", "A5"]], check_keys=True).maxrb   # doctest: +SKIP
    0.755
    """
    inp = as_corr_input(data, n_obs, what="data", min_cols=2)
    # psych's splitHalf uses cov2cor(cov(x, use = "pairwise")), not cor(x, use = "pairwise")
    r = inp.r.to_numpy().copy() if inp.data is None else cov2cor(pairwise_cov(inp.data).to_numpy())
    names = inp.names
    n = r.shape[0]
    key = np.ones(n)
    if keys is not None:
        bad = [k for k in keys if k not in names]
        if bad:
            raise DataError(f"keys name item(s) not in the data: {bad}")
        key[[names.index(k) for k in keys]] = -1
    elif check_keys:
        pcs = _first_pc_signs(r)
        if np.any(pcs < 0):
            warn("some items were negatively correlated with the total scale and were automatically reversed: "
                 f"{[nm for nm, s in zip(names, pcs) if s < 0]}")
        key = pcs
    r = r * np.outer(key, key)
    sumr = float(r.sum())
    off = r.copy()
    np.fill_diagonal(off, 0)
    sumsq_off = float(np.sum(off ** 2))
    sum_off = sumr - float(np.trace(r))
    alpha_v = (sum_off / sumr) * n / (n - 1)
    lambda6 = (sum_off + float(smc(r).sum())) / sumr
    lambda2 = (sum_off + math.sqrt(sumsq_off * n / (n - 1))) / sumr
    low = r[np.tril_indices(n, -1)]
    m = n // 2
    count = round(math.comb(n, m)) / 2
    colsum = r.sum(axis=0)

    def rab_of(idx: np.ndarray) -> np.ndarray:
        # idx: (s, m) item indices of half A; c_AB = sum_{i in A, j in B} r_ij
        A = np.zeros((idx.shape[0], n))
        np.put_along_axis(A, idx, 1.0, axis=1)
        cAA = np.einsum("si,ij,sj->s", A, r, A)
        cA_all = A @ colsum
        return 4 * (cA_all - cAA) / sumr

    exhaustive = count <= n_sample
    if exhaustive:
        n_splits = int(math.ceil(count))
        combos = np.array(list(itertools.islice(itertools.combinations(range(n), m), n_splits)), dtype=int)
        rab = np.concatenate([rab_of(combos[i:i + 4096]) for i in range(0, len(combos), 4096)])
        meanr = float(rab.sum() / count)
    else:
        rng = np.random.default_rng(seed)
        combos = np.array([rng.choice(n, m, replace=False) for _ in range(n_sample)], dtype=int)
        rab = np.concatenate([rab_of(combos[i:i + 4096]) for i in range(0, len(combos), 4096)])
        n_splits = n_sample
        meanr = float(rab.mean())
    imax, imin = int(np.argmax(rab)), int(np.argmin(rab))

    def split_lists(idx: np.ndarray) -> tuple[list[str], list[str]]:
        A = set(int(i) for i in idx)
        lab = [("-" if key[j] < 0 else "") + names[j] for j in range(n)]
        return [lab[j] for j in range(n) if j in A], [lab[j] for j in range(n) if j not in A]

    return SplitHalfResult(maxrb=float(rab[imax]), minrb=float(rab[imin]), meanr=meanr,
                           av_r=float(np.mean(low)), med_r=float(np.median(low)), alpha=float(alpha_v),
                           lambda2=float(lambda2), lambda6=float(lambda6), maxAB=split_lists(combos[imax]),
                           minAB=split_lists(combos[imin]), raw=rab, n_splits=n_splits, exhaustive=exhaustive,
                           keys=pd.Series(key, index=names, name="keys"))


# ============================================================================ guttman
@dataclass(repr=False, eq=False)
class GuttmanResult(StatsResult):
    """Result of :func:`guttman`: Guttman's six lower bounds and friends (psych's ``guttman``).

    Attributes ``lambda_1`` ... ``lambda_6``, ``lambda_5p``, ``glb`` (greatest lower bound from a
    factor model, psych's ``glb.fa``), ``beta`` (worst split half), ``alpha_pc``, ``r_pc``,
    ``beta_pc`` (principal-component based) and ``tenberge`` (ten Berge & Zegers mu0..mu3).
    """

    _title = "Alternative estimates of reliability"

    lambda_1: float
    lambda_2: float
    lambda_3: float
    lambda_4: float
    lambda_5: float
    lambda_5p: float
    lambda_6: float
    glb: float
    beta: float
    alpha_pc: float
    r_pc: float
    beta_pc: float
    tenberge: dict[str, float]

    def to_frame(self) -> pd.DataFrame:
        """One row: the lower bounds, glb, beta, the PC-based estimates and ten Berge's mu0..mu3."""
        out = self._scalars("lambda_1", "lambda_2", "lambda_3", "lambda_4", "lambda_5", "lambda_5p", "lambda_6",
                            "glb", "beta", "alpha_pc", "r_pc", "beta_pc")
        for k, v in self.tenberge.items():
            out[f"tenberge_{k}"] = v
        return out

    def _summary_lines(self, digits: int) -> list[str]:
        d = digits
        return ["", f"Guttman bounds \nL1 =  {self.lambda_1:.{d}f} L2 =  {self.lambda_2:.{d}f} "
                f"L3 (alpha) =  {self.lambda_3:.{d}f} L4 (max) =  {self.lambda_4:.{d}f} "
                f"L5 =  {self.lambda_5:.{d}f} L6 (smc) =  {self.lambda_6:.{d}f}",
                "TenBerge bounds \n" + " ".join(f"{k} =  {v:.{d}f}" for k, v in self.tenberge.items()),
                f"alpha of first PC =  {self.alpha_pc:.{d}f}",
                f"estimated greatest lower bound based upon communalities= {self.glb:.{d}f}",
                f"beta found by splitHalf  =  {self.beta:.{d}f}"]


def _glb_fa(r: np.ndarray) -> float:
    """psych's ``glb.fa``: sum of R with communalities of a maximal (df >= 0) minres model in the diagonal."""
    nv = r.shape[0]
    _l, _c, values, _ = extract(r, 1, "minres")
    nf = int(np.sum(values > 0))
    df = nv * (nv - 1) / 2 - nf * nv + nf * (nf - 1) / 2
    if df < 0:
        nf -= 1
    nf = max(1, min(nf, nv - 1))
    load, _c, _v, _ = extract(r, nf, "minres")
    rr = r.copy()
    np.fill_diagonal(rr, np.sum(load ** 2, axis=1))
    return float(rr.sum() / r.sum())


@small_blas
def guttman(data: Any, keys: Sequence[str] | None = None, n_obs: float | None = None) -> GuttmanResult:
    """Guttman's (1945) lower bounds lambda 1-6, the glb and ten Berge's mu, as ``psych::guttman``.

    With :math:`V = \\mathbf 1'R\\mathbf 1` and :math:`C_2 = \\sum_{i\\ne j} r_{ij}^2`:
    :math:`\\lambda_1 = 1 - \\operatorname{tr}R/V`, :math:`\\lambda_2 = (V - \\operatorname{tr}R +
    \\sqrt{k C_2/(k-1)})/V`, :math:`\\lambda_3 = k\\lambda_1/(k-1)` (alpha), :math:`\\lambda_4`
    = best split half (:func:`split_half` with ``check_keys=True`` as psych),
    :math:`\\lambda_5 = \\lambda_1 + 2\\sqrt{\\max_j \\sum_{i\\ne j} r_{ij}^2}/V`,
    :math:`\\lambda_6 = 1 - \\sum(1 - smc_i)/V`. ``keys`` reverses items first.

    Examples
    --------
    >>> pm.guttman(holzinger).lambda_6                 # doctest: +SKIP
    0.808
    """
    inp = as_corr_input(data, n_obs, what="data", min_cols=3)
    r = inp.r.to_numpy().copy()
    names = inp.names
    nvar = r.shape[0]
    if keys is not None:
        bad = [k for k in keys if k not in names]
        if bad:
            raise DataError(f"keys name item(s) not in the data: {bad}")
        key = np.ones(nvar)
        key[[names.index(k) for k in keys]] = -1
        r = r * np.outer(key, key)
    rdf = pd.DataFrame(r, index=names, columns=names)
    import warnings as _w
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        best = split_half(rdf, check_keys=True)
    ev = sym_eigen(r, only_values=True)
    alpha_pc = (1 - 1 / ev[0]) * nvar / (nvar - 1)
    r_pc = (2 * ev[0] / (ev[0] + ev[1]) - 1) * alpha_pc
    beta_pc = 2 * r_pc / (1 + r_pc)
    Vt = float(r.sum())
    tr = float(np.trace(r))
    l1 = 1 - tr / Vt
    off = r.copy()
    np.fill_diagonal(off, 0)
    sum_off, sumsq_off = float(off.sum()), float(np.sum(off ** 2))
    l2 = (sum_off + math.sqrt(sumsq_off * nvar / (nvar - 1))) / Vt
    l3 = nvar * l1 / (nvar - 1)
    l6 = (Vt + float(smc(r).sum()) - tr) / Vt
    cco = float(np.max(np.sum(r ** 2, axis=0) - np.diag(r) ** 2))
    l5 = l1 + 2 * math.sqrt(cco) / Vt
    l5p = l1 + nvar / (nvar - 1) * 2 * math.sqrt(cco) / Vt
    n = nvar
    tb = {"mu0": n * sum_off / ((n - 1) * Vt), "mu1": l2,
          "mu2": (sum_off + math.sqrt(sumsq_off + math.sqrt(n * float(np.sum(off ** 4)) / (n - 1)))) / Vt,
          "mu3": (sum_off + math.sqrt(sumsq_off + math.sqrt(float(np.sum(off ** 4))
                                                            + math.sqrt(n * float(np.sum(off ** 8)) / (n - 1))))) / Vt}
    return GuttmanResult(lambda_1=l1, lambda_2=l2, lambda_3=l3, lambda_4=best.maxrb, lambda_5=l5, lambda_5p=l5p,
                         lambda_6=l6, glb=_glb_fa(r), beta=max(best.minrb, 0.0), alpha_pc=alpha_pc, r_pc=r_pc,
                         beta_pc=beta_pc, tenberge=tb)


# ============================================================================ omega
@dataclass(repr=False, eq=False)
class OmegaResult(StatsResult):
    """Result of :func:`omega` (psych's ``omega``).

    Attributes
    ----------
    omega_h, omega_tot (alias omega_t), omega_lim, alpha, G6, ECV : float
    schmid : DataFrame
        Schmid-Leiman solution ``g, F1*, ..., h2, u2, p2`` (psych's ``$schmid$sl``).
    orthog, oblique : DataFrame
        Varimax and oblimin loadings of the first-order factors; ``phi`` their correlations.
    gloading : Series
        Loadings of the first-order factors on g.
    omega_group : DataFrame
        ``total, general, group`` omegas for g and each group factor.
    """

    _title = "Omega"

    omega_h: float
    omega_lim: float
    alpha: float
    omega_tot: float
    G6: float
    ECV: float
    schmid: pd.DataFrame
    orthog: pd.DataFrame
    oblique: pd.DataFrame
    phi: pd.DataFrame
    gloading: pd.Series
    omega_group: pd.DataFrame
    keys: pd.Series
    nfactors: int
    fm: str
    n_obs: float | None

    def _masked_sl(self, d: int) -> str:
        sl = self.schmid.round(d).astype(object)
        k = self.nfactors + 1
        load = self.schmid.iloc[:, :k]
        sl.iloc[:, :k] = load.round(d).where(load.abs() >= 0.2, "").astype(object)
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            return sl.to_string()

    @property
    def omega_t(self) -> float:
        return self.omega_tot

    def to_frame(self) -> pd.DataFrame:
        """One row: omega_h, omega_lim, omega_tot, alpha, G6, ECV (``schmid`` holds the loadings)."""
        return self._scalars("omega_h", "omega_lim", "omega_tot", "alpha", "G6", "ECV")

    def _summary_lines(self, digits: int) -> list[str]:
        d = digits
        return [f"Call: omega(m = data, nfactors = {self.nfactors})",
                f"Alpha:                 {self.alpha:.{d}f} ", f"G.6:                   {self.G6:.{d}f} ",
                f"Omega Hierarchical:    {self.omega_h:.{d}f} ", f"Omega H asymptotic:    {self.omega_lim:.{d}f} ",
                f"Omega Total            {self.omega_tot:.{d}f} ", "",
                "Schmid Leiman Factor loadings greater than  0.2 ",
                self._masked_sl(d), "",
                "With Sums of squares  of:",
                fmt_frame((self.schmid.iloc[:, :self.nfactors + 1] ** 2).sum().rename("").to_frame().T, d), "",
                f"Explained Common Variance of the general factor =  {self.ECV:.{d}f} ", "",
                "Omega_h for the general factor and each group factor (total, general, group):",
                fmt_frame(self.omega_group, d)]


@small_blas
def omega(data: Any, nfactors: int = 3, fm: str = "minres", rotate: str = "oblimin",
          n_obs: float | None = None, flip: bool = True) -> OmegaResult:
    """McDonald's omega hierarchical and total via a Schmid-Leiman transformation, as ``psych::omega``.

    Steps (psych's ``schmid``): ``nfactors`` factors are extracted with ``fa(fm, rotate =
    "varimax")``, rotated obliquely with GPArotation's oblimin, a single general factor is
    extracted from their correlations (``fa`` of Phi; with 2 factors both load
    :math:`\\sqrt{|\\phi_{12}|}`), and the loadings are orthogonalised:
    :math:`g_i = \\sum_k f_{ik} g_k`, :math:`s_{ik} = f_{ik}\\sqrt{1 - g_k^2}`. Then, with
    :math:`V = \\mathbf 1'R\\mathbf 1`,
    :math:`\\omega_h = (\\sum_i g_i)^2 / V` and :math:`\\omega_t = 1 - \\sum u^2_i / V`.
    With ``flip`` items with negative g loadings are reversed (psych's default).

    Only ``rotate="oblimin"`` (psych's default) is supported.

    Examples
    --------
    >>> om = pm.omega(bfi[items], nfactors=3)                 # doctest: +SKIP
    >>> om.omega_h, om.omega_tot                              # doctest: +SKIP
    """
    if rotate != "oblimin":
        raise DataError("omega supports rotate='oblimin' (psych's default) only")
    fm = {"mle": "ml"}.get(fm, fm)
    if fm not in ("minres", "ml", "pa"):
        raise DataError(f"fm must be 'minres', 'ml' or 'pa', got {fm!r}")
    if not isinstance(nfactors, (int, np.integer)) or nfactors < 1:
        raise DataError(f"nfactors must be a positive integer, got {nfactors!r}")
    inp = as_corr_input(data, n_obs, what="data", min_cols=3)
    m = inp.r.to_numpy().copy()
    names = list(inp.names)
    nvar = m.shape[0]
    if inp.n_obs is not None and np.isfinite(inp.n_obs):
        guard("omega", int(inp.n_obs), items=nvar)  # minimum-information rule (stats/guards.py)
    if nfactors >= nvar:
        raise DataError(f"{nfactors} factors requested for only {nvar} variables")
    if nvar < 6 and fm == "ml":
        fm = "minres"
    try:
        return _omega(m, names, nvar, nfactors, fm, inp, flip)
    except DEGENERATE_ERRORS:
        raise DataError(f"omega could not be computed on this degenerate scale: {degenerate_reason(m, names)}",
                        hint="drop duplicated or unrelated items, or ask for fewer factors") from None


def _omega(m: np.ndarray, names: list[str], nvar: int, nfactors: int, fm: str, inp: Any,
           flip: bool) -> OmegaResult:
    import warnings as _w
    core = fa_core(m, names, nfactors, fm, "varimax", inp.n_obs, None)
    orth = core["L"]
    if nfactors == 1:
        warn("omega_h is not meaningful with one factor; only omega_t is")
        fload, phi = orth, np.ones((1, 1))
        gload = np.array([1.0])
    else:
        fload, phi, _T = gpf_oblique(orth)
        if nfactors > 2:
            with _w.catch_warnings():
                _w.simplefilter("ignore")
                g = fa_core(phi, [f"F{i + 1}" for i in range(nfactors)], 1, fm, "none", None, None,
                             warn_heywood=False)
            gload = g["L"][:, 0]
        else:
            warn("three factors are required for identification; general factor loadings set to be equal")
            gload = np.array([math.sqrt(abs(phi[0, 1])), math.copysign(math.sqrt(abs(phi[0, 1])), phi[0, 1])])
    gpl = fload @ gload
    h2 = np.sum(orth ** 2, axis=1)
    u2 = np.diag(m) - h2
    uniq2 = fload ** 2 - (fload * gload) ** 2
    uniq2 = np.where(uniq2 < 0, 0, uniq2)
    sm = np.sign(fload) * np.sqrt(uniq2)
    key = np.ones(nvar)
    if flip:
        key = np.sign(gpl)
        key[key == 0] = 1
        if key.sum() < nvar:
            m = m * np.outer(key, key)
            gpl = gpl * key
            sm = sm * key[:, None]
            names = [nm + ("-" if k < 0 else "") for nm, k in zip(names, key)]
    gcols = [f"F{i + 1}*" for i in range(nfactors)]
    sl = pd.DataFrame(np.column_stack([gpl, sm, h2, u2, gpl ** 2 / h2]), index=names,
                      columns=["g", *gcols, "h2", "u2", "p2"])
    Vt = float(m.sum())
    Vitem = float(np.trace(m))
    gsq = float(gpl.sum()) ** 2
    uniq = float(u2.sum())
    om_tot = (Vt - uniq) / Vt
    alpha_v = ((Vt - Vitem) / Vt) * (nvar / (nvar - 1))
    l6 = (Vt + float(smc(m).sum()) - Vitem) / Vt
    ev = (sl.iloc[:, :nfactors + 1] ** 2).sum(axis=0).to_numpy()
    sub = np.argmax(np.abs(sl.iloc[:, 1:nfactors + 1].to_numpy()), axis=1)
    omt = np.full(nfactors + 1, np.nan)
    omgo, omg = omt.copy(), omt.copy()
    grs = 0.0
    for gi in range(nfactors):
        idx = np.where(sub == gi)[0]
        if len(idx):
            Vgr = float(m[np.ix_(idx, idx)].sum())
            gr = float(sl.iloc[idx, gi + 1].sum())
            grs += gr ** 2
            omg[gi + 1] = gr ** 2 / Vgr
            omgo[gi + 1] = float(sl.iloc[idx, 0].sum()) ** 2 / Vgr
            omt[gi + 1] = (gr ** 2 + float(sl.iloc[idx, 0].sum()) ** 2) / Vgr
    omgo[0] = float(sl.iloc[:, 0].sum()) ** 2 / Vt
    omg[0] = grs / Vt
    omt[0] = om_tot
    fcols = [f"F{i + 1}" for i in range(nfactors)]
    return OmegaResult(omega_h=gsq / Vt, omega_lim=gsq / (Vt - uniq), alpha=alpha_v, omega_tot=om_tot, G6=l6,
                       ECV=float(ev[0] / ev.sum()), schmid=sl,
                       orthog=pd.DataFrame(orth, index=inp.names, columns=fcols),
                       oblique=pd.DataFrame(fload, index=inp.names, columns=fcols),
                       phi=pd.DataFrame(phi, index=fcols, columns=fcols),
                       gloading=pd.Series(gload, index=fcols, name="g"),
                       omega_group=pd.DataFrame({"total": omt, "general": omgo, "group": omg},
                                                index=["g", *gcols]),
                       keys=pd.Series(key, index=inp.names, name="keys"), nfactors=nfactors, fm=fm,
                       n_obs=inp.n_obs)


# ============================================================================ scoreItems
@dataclass(repr=False, eq=False)
class ScoreItemsResult(StatsResult):
    """Result of :func:`score_items` (psych's ``scoreItems``).

    Attributes
    ----------
    scores : DataFrame or None
        Scale scores per respondent (mean of keyed items; sums with ``totals=True``).
    alpha, av_r, G6, n_items, ase, med_r : Series
        Per scale.
    cor : DataFrame
        Correlations between scales.
    corrected : DataFrame
        psych's layout: correlations below the diagonal, alpha on it, correlations corrected for
        attenuation :math:`r_{xy}/\\sqrt{\\alpha_x\\alpha_y}` above it.
    item_cor, item_corrected : DataFrame
        Item-by-scale correlations (raw and with smc-corrected item overlap).
    """

    _title = "Call: scoreItems(keys = keys, items = data)"

    scores: pd.DataFrame | None
    alpha: pd.Series
    av_r: pd.Series
    G6: pd.Series
    sn: pd.Series
    n_items: pd.Series
    ase: pd.Series | None
    med_r: pd.Series
    cor: pd.DataFrame
    corrected: pd.DataFrame
    item_cor: pd.DataFrame
    item_corrected: pd.DataFrame
    keys: pd.DataFrame
    impute: str

    def to_frame(self) -> pd.DataFrame:
        """One row per scale: alpha, average r, G6, S/N, number of items, median r, ase."""
        out = pd.DataFrame({"alpha": self.alpha, "average_r": self.av_r, "G6": self.G6, "S_N": self.sn,
                            "n_items": self.n_items, "median_r": self.med_r})
        if self.ase is not None:
            out["ase"] = self.ase
        return out

    def _summary_lines(self, digits: int) -> list[str]:
        tab = pd.DataFrame({"alpha": self.alpha, "average.r": self.av_r, "Lambda.6": self.G6,
                            "median.r": self.med_r, "n.items": self.n_items}).T
        return ["", "(Unstandardized) Alpha, average r, G6 and number of items:", fmt_frame(tab, digits), "",
                " Scale intercorrelations corrected for attenuation ",
                " raw correlations below the diagonal, alpha on the diagonal ",
                " corrected correlations above the diagonal:", fmt_frame(self.corrected, digits)]


def _parse_keys(keys: Mapping[str, Sequence[str]], names: list[str]) -> tuple[np.ndarray, list[str], list[str]]:
    if not isinstance(keys, Mapping) or not keys:
        raise DataError("keys must be a non-empty dict: scale name -> list of items ('-item' reverses)")
    used: list[str] = []
    for scale, items in keys.items():
        if isinstance(items, str):
            raise DataError(f"keys[{scale!r}] must be a list of item names, not a string")
        for it in items:
            base = it[1:] if it.startswith("-") else it
            if base not in names:
                raise DataError(f"scale {scale!r} names item {base!r}, which is not in the data")
            if base not in used:
                used.append(base)
    K = np.zeros((len(used), len(keys)))
    for j, (scale, items) in enumerate(keys.items()):
        for it in items:
            base, sgn = (it[1:], -1.0) if it.startswith("-") else (it, 1.0)
            K[used.index(base), j] = sgn
    return K, used, list(keys)


@small_blas
def score_items(data: Any, keys: Mapping[str, Sequence[str]] | None = None, totals: bool = False,
                impute: str = "median", min_value: float | None = None, max_value: float | None = None,
                n_obs: float | None = None) -> ScoreItemsResult:
    """Score several scales at once and report their reliabilities, as ``psych::scoreItems``.

    Data first, keys second, like every ``pm`` function (``pm.alpha(data, keys=...)``). psych's order
    ``score_items(keys, data)`` (the order of this function before) still works, with a
    :class:`DeprecationWarning`.

    Parameters
    ----------
    keys : dict
        Scale name -> item names; a leading ``"-"`` reverses the item (``max + min - x``, min and
        max over all scored items, psych's rule).
    data : DataFrame
        Item responses or a correlation matrix (then only the reliabilities and scale
        correlations are returned).
    totals : bool
        Sum instead of mean scores.
    impute : {"median", "mean", "none"}
        psych's default replaces missing responses by the item median before scoring *and* before
        computing the covariances used for alpha; ``"none"`` averages the answered items.

    Notes
    -----
    Scale alpha from the item covariance matrix :math:`C` and keys :math:`K`:
    :math:`\\alpha_s = \\frac{k_s}{k_s-1}\\,\\frac{V_s - \\sum_{i\\in s} c_{ii}}{V_s}`, with
    :math:`V_s` the variance of the scale; ``av_r`` :math:`= \\alpha/(k - \\alpha(k-1))`.

    Examples
    --------
    >>> keys = {"agree": ["-A1", "A2", "A3", "A4", "A5"], "consc": ["C1", "C2", "C3", "-C4", "-C5"]}
    >>> res = pm.score_items(bfi, keys)                       # doctest: +SKIP
    >>> res.alpha                                             # doctest: +SKIP
    """
    if isinstance(data, Mapping) and not isinstance(data, pd.DataFrame):   # psych's order: (keys, data)
        warnings.warn("score_items(keys, data) is deprecated; call score_items(data, keys)", DeprecationWarning,
                      stacklevel=3)
        data, keys = keys, data
    if keys is None:
        raise DataError("score_items needs keys: {scale: [items, '-reversed_item', ...]}")
    if impute not in ("median", "mean", "none"):
        raise DataError(f"impute must be 'median', 'mean' or 'none', got {impute!r}")
    is_matrix = False
    if isinstance(data, pd.DataFrame) and data.shape[0] == data.shape[1]:
        try:
            a = data.to_numpy(dtype=float)
            is_matrix = (not np.isnan(a).any() and np.allclose(a, a.T) and np.allclose(np.diag(a), 1)
                         and a.min() >= -1 and a.max() <= 1)
        except (TypeError, ValueError):
            is_matrix = False
    if not isinstance(data, pd.DataFrame):
        data = as_item_frame(data, what="data")
    names = [str(c) for c in data.columns]
    K, used, scales = _parse_keys(keys, names)
    absK = np.abs(K)
    num_item = absK.sum(axis=0)
    scores = None
    if is_matrix:
        C = data.loc[used, used].to_numpy(dtype=float)
        cov_scales = K.T @ C @ K
        cov_scales2 = np.diag(absK.T @ C ** 2 @ absK)
        n_sub = 0
        raw = False
    else:
        items = as_item_frame(data[used], what="data")
        const = constant_columns(items)
        if const:
            for c in const:
                warn(f"item {c!r} had no variance and was deleted from the data and the keys")
            keep = [i for i, u in enumerate(used) if u not in const]
            items = items.drop(columns=const)
            K = K[keep]
            absK = np.abs(K)
            used = [used[i] for i in keep]
            if np.any(absK.sum(axis=0) == 0):
                empty = [s for s, k in zip(scales, absK.sum(axis=0)) if k == 0]
                raise DataError(f"scale(s) {empty} have no items with variance")
        n_sub = items.shape[0]
        lo = float(np.nanmin(items.to_numpy())) if min_value is None else float(min_value)
        hi = float(np.nanmax(items.to_numpy())) if max_value is None else float(max_value)
        num_item = np.abs(K).sum(axis=0)
        X = items.to_numpy().copy()
        if impute != "none":
            fill = np.nanmedian(X, axis=0) if impute == "median" else np.nanmean(X, axis=0)
            miss = np.isnan(X)
            X[miss] = np.take(fill, np.where(miss)[1])
            sc = X @ K
            C = np.cov(X, rowvar=False)
            cov_scales = np.atleast_2d(np.cov(sc, rowvar=False))
            cov_scales2 = np.diag(absK.T @ C ** 2 @ absK)
            raw = True
        else:
            sc = np.full((n_sub, K.shape[1]), np.nan)
            for s in range(K.shape[1]):
                pos = X[:, K[:, s] > 0]
                neg = hi + lo - X[:, K[:, s] < 0]
                sub = np.hstack([pos, neg])
                cnt = np.sum(~np.isnan(sub), axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    agg = np.nansum(sub, axis=1)
                    sc[:, s] = np.where(cnt > 0, agg if totals else agg / np.where(cnt > 0, cnt, 1), np.nan)
            C = pairwise_cov(items).to_numpy()
            cov_scales = K.T @ C @ K
            cov_scales2 = np.diag(absK.T @ C ** 2 @ absK)
            raw = False
        if raw:
            correction = (np.sum(np.abs(K) - K, axis=0) / 2) * (hi + lo)
            sc = sc + correction
            if not totals:
                sc = sc / num_item
        scores = pd.DataFrame(sc, index=items.index, columns=scales)
    item_var = np.diag(C)
    var_scales = np.diag(cov_scales)
    cor_scales = cov2cor(cov_scales)
    sum_item_var = item_var @ absK
    sum_item_var2 = item_var ** 2 @ absK
    item_r = cov2cor(C)
    med_r = []
    for k in range(K.shape[1]):
        sel = np.abs(K[:, k]) > 0
        kk = K[sel, k]
        small = item_r[np.ix_(sel, sel)] * np.outer(kk, kk)
        low = small[np.tril_indices(int(sel.sum()), -1)]
        med_r.append(float(np.median(low)) if len(low) else float("nan"))
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha_scale = (var_scales - sum_item_var) * num_item / ((num_item - 1) * var_scales)
    alpha_scale = np.where(np.isnan(alpha_scale), 1.0, alpha_scale)
    av_r = alpha_scale / (num_item - alpha_scale * (num_item - 1))
    Q = (2 * num_item ** 2 / ((num_item - 1) ** 2 * var_scales ** 3)) * (
        var_scales * (sum_item_var2 + sum_item_var ** 2) - 2 * sum_item_var * cov_scales2)
    if scores is not None and raw:
        Xc = X
        item_cor = np.array([[_cor_pair(Xc[:, i], sc[:, s]) for s in range(K.shape[1])] for i in range(len(used))])
    else:
        item_cor = (C @ K) / np.sqrt(var_scales)[None, :] / np.sqrt(item_var)[:, None]
    c_smc = smc(C) * item_var
    Cs = C.copy()
    np.fill_diagonal(Cs, c_smc)
    sum_smc = c_smc @ absK
    G6 = (var_scales - sum_item_var + sum_smc) / var_scales
    corrected_cov = K.T @ Cs @ K
    corrected_var = np.diag(corrected_cov)
    item_rc = (Cs @ K) / np.sqrt(corrected_var)[None, :] / np.sqrt(item_var)[:, None]
    if n_sub > 0:
        ase = np.sqrt(Q / n_sub)
    elif n_obs is not None:
        ase = np.sqrt(Q / n_obs)
    else:
        ase = None
    corrected = cor_scales.copy()
    np.fill_diagonal(corrected, alpha_scale)
    ns = len(scales)
    for i in range(1, ns):
        for j in range(i):
            corrected[j, i] = corrected[j, i] / math.sqrt(alpha_scale[i] * alpha_scale[j])
    S = lambda v, nm: pd.Series(v, index=scales, name=nm)  # noqa: E731
    return ScoreItemsResult(
        scores=scores, alpha=S(alpha_scale, "alpha"), av_r=S(av_r, "average_r"), G6=S(G6, "Lambda_6"),
        sn=S(av_r * num_item / (1 - av_r), "S_N"), n_items=S(num_item, "n_items"),
        ase=None if ase is None else S(ase, "ase"), med_r=S(med_r, "median_r"),
        cor=pd.DataFrame(cor_scales, index=scales, columns=scales),
        corrected=pd.DataFrame(corrected, index=scales, columns=scales),
        item_cor=pd.DataFrame(item_cor, index=used, columns=scales),
        item_corrected=pd.DataFrame(item_rc, index=used, columns=scales),
        keys=pd.DataFrame(K, index=used, columns=scales), impute=impute)
