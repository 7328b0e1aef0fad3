"""Descriptive statistics, psych-style: :func:`describe` (R's ``psych::describe``) and :func:`mardia`
(``psych::mardia``: multivariate skew and kurtosis, the normality check before ML CFA).

References
----------
Revelle, W. (2022). *psych* (R package 2.2.9), ``describe``. Joanes, D. N., & Gill, C. A.
(1998). Comparing measures of sample skewness and kurtosis. *The Statistician, 47*, 183-189
(psych's default ``type = 3`` estimators). Mardia, K. V. (1970). Measures of multivariate skewness and
kurtosis with applications. *Biometrika, 57*, 519-530.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import small_blas, StatsResult, as_item_frame, constant_columns, fmt_frame, warn

__all__ = ["describe", "DescribeResult", "mardia", "MardiaResult"]

_COLUMNS = ["vars", "n", "mean", "sd", "median", "trimmed", "mad", "min", "max", "range", "skew", "kurtosis", "se"]


@dataclass(repr=False, eq=False)
class DescribeResult(StatsResult):
    """Result of :func:`describe`: ``table`` (a DataFrame, one row per variable, psych's columns
    ``vars n mean sd median trimmed mad min max range skew kurtosis se``). Columns are also
    reachable as attributes (``res.mean``) and by indexing (``res["sd"]``)."""

    _title = ""

    table: pd.DataFrame

    def __getitem__(self, key: str) -> pd.Series:
        return self.table[key]

    def __getattr__(self, name: str) -> Any:
        if name != "table" and name in _COLUMNS:
            return self.table[name]
        raise AttributeError(name)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self, digits: int = 2):  # type: ignore[override]
        from psychometrika.stats.common import Summary
        return Summary(fmt_frame(self.table, digits))


def _trimmed_mean(v: np.ndarray, trim: float) -> float:
    """R's ``mean(x, trim = trim)``: drop ``floor(n * trim)`` values at each end."""
    n = len(v)
    if trim >= 0.5:
        return float(np.median(v))
    lo = int(np.floor(n * trim))
    s = np.sort(v)
    return float(np.mean(s[lo:n - lo]))


def describe(data: Any, trim: float = 0.1) -> DescribeResult:
    """Item/variable descriptives equal to R's ``psych::describe``.

    For each column (missing values removed): ``n``, ``mean``, ``sd`` (n - 1), ``median``,
    ``trimmed`` (mean after dropping ``floor(n * trim)`` values at each end), ``mad``
    (:math:`1.4826 \\cdot \\operatorname{median}|x - \\operatorname{median}(x)|`), ``min``,
    ``max``, ``range``, ``skew`` = :math:`\\frac{\\sum (x - \\bar x)^3}{n s^3}`, ``kurtosis`` =
    :math:`\\frac{\\sum (x - \\bar x)^4}{n s^4} - 3` (psych's type 3, :math:`s` the n - 1 SD) and
    ``se`` = :math:`s/\\sqrt n`.

    Non-numeric columns raise :class:`~psychometrika.errors.DataError` (psych silently
    converts factors to codes; convert explicitly if that is what you want).

    Examples
    --------
    >>> pm.describe(bfi[["A1", "A2"]]).table[["n", "mean", "skew"]]        # doctest: +SKIP
    """
    if not 0 <= trim < 0.5:
        raise DataError(f"trim must be in [0, 0.5), got {trim!r}")
    frame = as_item_frame(data, what="data", min_rows=1)
    const = constant_columns(frame)
    if const:
        warn(f"column(s) {const} have fewer than 2 distinct values: sd-based statistics (skew, kurtosis, se) "
             "are NaN for them")
    rows = []
    for j, col in enumerate(frame.columns):
        v = frame[col].dropna().to_numpy()
        n = len(v)
        m = float(v.mean())
        sd = float(v.std(ddof=1)) if n > 1 else float("nan")
        med = float(np.median(v))
        mad = 1.4826 * float(np.median(np.abs(v - med)))
        with np.errstate(invalid="ignore", divide="ignore"):
            skew = float(np.sum((v - m) ** 3) / (n * sd ** 3)) if n > 1 and sd > 0 else float("nan")
            kurt = float(np.sum((v - m) ** 4) / (n * sd ** 4) - 3) if n > 1 and sd > 0 else float("nan")
        rows.append([j + 1, n, m, sd, med, _trimmed_mean(v, trim), mad, float(v.min()), float(v.max()),
                     float(v.max() - v.min()), skew, kurt, sd / np.sqrt(n) if n > 1 else float("nan")])
    table = pd.DataFrame(rows, index=list(frame.columns), columns=_COLUMNS)
    table["vars"] = table["vars"].astype(int)
    table["n"] = table["n"].astype(int)
    return DescribeResult(table)


# ============================================================================ mardia
@dataclass(repr=False, eq=False)
class MardiaResult(StatsResult):
    """Result of :func:`mardia` (psych's ``mardia`` object, dots -> underscores).

    Attributes: ``n_obs``, ``n_var``, ``b1p`` (multivariate skew), ``b2p`` (multivariate kurtosis),
    ``skew`` (:math:`n b_{1p}/6`, χ² with :math:`p(p+1)(p+2)/6` df) and its ``p_skew``, ``small_skew`` (the
    small-sample corrected statistic) and ``p_small``, ``kurtosis`` (the standard-normal statistic) and its
    two-sided ``p_kurt``, ``df_skew``, and ``d`` (each complete row's Mahalanobis distance, indexed like the data).
    """

    n_obs: int
    n_var: int
    b1p: float
    b2p: float
    skew: float
    small_skew: float
    p_skew: float
    p_small: float
    kurtosis: float
    p_kurt: float
    df_skew: float
    d: pd.Series

    _title = "Mardia tests of multivariate skew and kurtosis"

    def to_frame(self) -> pd.DataFrame:
        """One row: the statistics and p-values (without the distances ``d``)."""
        return pd.DataFrame([{k: getattr(self, k) for k in ("n_obs", "n_var", "b1p", "b2p", "skew", "df_skew",
                                                            "p_skew", "small_skew", "p_small", "kurtosis",
                                                            "p_kurt")}])

    def _summary_lines(self, digits: int) -> list[str]:
        d = digits
        return ["Use describe(x) the to get univariate tests",
                f"n.obs = {self.n_obs}   num.vars =  {self.n_var}",
                f"b1p =  {self.b1p:.{d}f}   skew =  {self.skew:.{d}f}  with probability  <=  {self.p_skew:.3g}",
                f" small sample skew =  {self.small_skew:.{d}f}  with probability <=  {self.p_small:.3g}",
                f"b2p =  {self.b2p:.{d}f}   kurtosis =  {self.kurtosis:.{d}f}  with probability <=  {self.p_kurt:.3g}"]


@small_blas
def mardia(data: Any) -> MardiaResult:
    """Mardia's multivariate skew and kurtosis with their tests, equal to ``psych::mardia``.

    Rows with a missing value are dropped (psych's ``na.rm = TRUE``). With centred data :math:`X`, the
    covariance :math:`S` (denominator :math:`n - 1`, as psych) and :math:`D = X S^{-1} X'`:
    :math:`b_{1p} = \\sum_{ij} D_{ij}^3 / n^2`, :math:`b_{2p} = \\sum_i D_{ii}^2 / n`;
    skew :math:`= n b_{1p}/6 \\sim \\chi^2_{p(p+1)(p+2)/6}`, the small-sample version multiplies by
    :math:`k = (p+1)(n+1)(n+3) / (n((n+1)(p+1) - 6))`, kurtosis
    :math:`= (b_{2p} - p(p+2))\\sqrt{n / (8p(p+2))} \\sim N(0, 1)` (two-sided p).

    Examples
    --------
    >>> pm.mardia(df[["x1", "x2", "x3"]]).p_kurt     # doctest: +SKIP
    """
    frame = as_item_frame(data, what="data", min_rows=1, min_cols=1)
    complete = frame.dropna()
    n, p = complete.shape
    if n < p + 2:
        raise DataError(f"mardia needs more complete rows than variables + 1; got {n} complete row(s) for {p} "
                        "variable(s)", hint="drop variables or rows with many missing values")
    const = constant_columns(complete)
    if const:
        raise DataError(f"column(s) {const} have no variance among the complete rows, so the covariance matrix "
                        "is singular")
    x = complete.to_numpy(dtype=float)
    x = x - x.mean(axis=0)
    S = x.T @ x / (n - 1)
    try:
        D = x @ np.linalg.solve(S, x.T)
    except np.linalg.LinAlgError:
        raise DataError("the covariance matrix is singular (linearly dependent variables); mardia needs it "
                        "inverted", hint="drop duplicated or linearly dependent variables") from None
    if np.linalg.cond(S) > 1 / np.finfo(float).eps:
        raise DataError("the covariance matrix is singular (linearly dependent variables); mardia needs it "
                        "inverted", hint="drop duplicated or linearly dependent variables")
    b1p = float(np.sum(D ** 3) / n ** 2)
    b2p = float(np.sum(np.diag(D) ** 2) / n)
    df = p * (p + 1) * (p + 2) / 6
    k = (p + 1) * (n + 1) * (n + 3) / (n * ((n + 1) * (p + 1) - 6))
    skew = n * b1p / 6
    small = n * k * b1p / 6
    kurt = (b2p - p * (p + 2)) * np.sqrt(n / (8 * p * (p + 2)))
    return MardiaResult(n_obs=int(n), n_var=int(p), b1p=b1p, b2p=b2p, skew=float(skew), small_skew=float(small),
                        p_skew=float(stats.chi2.sf(skew, df)), p_small=float(stats.chi2.sf(small, df)),
                        kurtosis=float(kurt), p_kurt=float(2 * stats.norm.sf(abs(kurt))), df_skew=float(df),
                        d=pd.Series(np.sqrt(np.diag(D)), index=complete.index, name="d"))

