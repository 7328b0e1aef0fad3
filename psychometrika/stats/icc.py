"""Intraclass correlations (Shrout & Fleiss, 1979): :func:`icc`, equal to R's ``psych::ICC``.

References
----------
Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing rater
reliability. *Psychological Bulletin, 86*, 420-428. McGraw, K. O., & Wong, S. P. (1996). Forming
inferences about some intraclass correlation coefficients. *Psychological Methods, 1*, 30-46.
Revelle, W. (2022). *psych* (R package 2.2.9), ``ICC``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import renamed_columns, small_blas, warn

__all__ = ["icc", "icc_wide"]

_ROWS = ["Single_raters_absolute", "Single_random_raters", "Single_fixed_raters", "Average_raters_absolute",
         "Average_random_raters", "Average_fixed_raters"]


def icc_wide(data: Any, *, ci: float = 0.95) -> pd.DataFrame:
    """:func:`icc` for a wide table: rows are targets, columns are raters (like ``psych::ICC(x)``).

    Targets with a missing rating are dropped (with a warning).
    """
    if not 0 < ci < 1:
        raise DataError(f"ci must be between 0 and 1, got {ci!r}")
    x = pd.DataFrame(data).apply(pd.to_numeric, errors="coerce")
    complete = x.dropna()
    if len(complete) < len(x):
        warn(f"{len(x) - len(complete)} target(s) with missing ratings were dropped (complete cases are needed)")
    a = complete.to_numpy(float)
    n, k = a.shape
    if n < 2 or k < 2:
        raise DataError(f"ICC needs at least 2 targets and 2 raters with complete ratings, got {n} x {k}")
    grand = a.mean()
    ss_rows = k * np.sum((a.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((a.mean(axis=0) - grand) ** 2)
    ss_tot = np.sum((a - grand) ** 2)
    ss_err = ss_tot - ss_rows - ss_cols
    msb = ss_rows / (n - 1)
    msj = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_err) / (n * (k - 1))
    if msb == 0:
        raise DataError("all targets have the same mean rating: the ICC is undefined")
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    with np.errstate(divide="ignore"):
        f11 = msb / msw
        f21 = msb / mse
    df11n, df11d = n - 1, n * (k - 1)
    df21n, df21d = n - 1, (n - 1) * (k - 1)
    p11 = stats.f.sf(f11, df11n, df11d)
    p21 = stats.f.sf(f21, df21n, df21d)
    alpha = 1 - ci
    f1l = f11 / stats.f.ppf(1 - alpha / 2, df11n, df11d)
    f1u = f11 * stats.f.ppf(1 - alpha / 2, df11d, df11n)
    f3l = f21 / stats.f.ppf(1 - alpha / 2, df21n, df21d)
    f3u = f21 * stats.f.ppf(1 - alpha / 2, df21d, df21n)
    # ICC(2,1): Satterthwaite-type df of McGraw & Wong (1996), as psych computes it
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    fu = stats.f.ppf(1 - alpha / 2, n - 1, v)
    fl = stats.f.ppf(1 - alpha / 2, v, n - 1)
    l2 = n * (msb - fu * mse) / (fu * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (fl * msb - mse) / (k * msj + (k * n - k - n) * mse + n * fl * msb)
    out = pd.DataFrame({
        "type": ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"],
        "ICC": [icc1, icc2, icc3, icc1k, icc2k, icc3k],
        "F": [f11, f21, f21, f11, f21, f21],
        "df1": [df11n, df21n, df21n, df11n, df21n, df21n],
        "df2": [df11d, df21d, df21d, df11d, df21d, df21d],
        "p": [p11, p21, p21, p11, p21, p21],
        "CI": ci,
        "CI_low": [(f1l - 1) / (f1l + k - 1), l2, (f3l - 1) / (f3l + k - 1), 1 - 1 / f1l, l2 * k / (1 + l2 * (k - 1)),
                  1 - 1 / f3l],
        "CI_high": [(f1u - 1) / (f1u + k - 1), u2, (f3u - 1) / (f3u + k - 1), 1 - 1 / f1u, u2 * k / (1 + u2 * (k - 1)),
                  1 - 1 / f3u],
    }, index=_ROWS)
    out = renamed_columns(out, {"lower": "CI_low", "upper": "CI_high"})
    out.attrs.update(n_targets=n, n_raters=k, MSB=msb, MSJ=msj, MSE=mse, MSW=msw)
    return out


@small_blas
def icc(data: pd.DataFrame, targets: str | None = None, raters: str | None = None, ratings: str | None = None, *,
        ci: float = 0.95) -> pd.DataFrame:
    """The six Shrout–Fleiss intraclass correlations with F tests and CIs, like ``psych::ICC``.

    ``data`` is long (one row per target x rater with the columns named by ``targets``,
    ``raters`` and ``ratings``, like pingouin's ``intraclass_corr``) or, when those are None, wide
    (targets x raters). Repeated ratings of a cell are averaged; targets without a rating from
    every rater are dropped (psych's ``lmer = FALSE`` analysis of complete data).

    From the two-way ANOVA mean squares for targets (MSB), raters (MSJ), residual (MSE) and
    within targets (MSW), with n targets and k raters:
    ICC1 = (MSB − MSW)/(MSB + (k−1)MSW); ICC2 = (MSB − MSE)/(MSB + (k−1)MSE + k(MSJ − MSE)/n);
    ICC3 = (MSB − MSE)/(MSB + (k−1)MSE); ICC1k = (MSB − MSW)/MSB; ICC2k = (MSB − MSE)/(MSB +
    (MSJ − MSE)/n); ICC3k = (MSB − MSE)/MSB. CIs from the F distribution (Shrout & Fleiss, 1979;
    McGraw & Wong's approximate df for ICC2). Returns columns ``type ICC F df1 df2 p CI CI_low CI_high``
    (the old ``lower``/``upper`` still read, deprecated)
    with psych's row names (``Single_raters_absolute`` ...).

    >>> pm.icc(ratings, targets="item", raters="paraphrase", ratings="score")   # doctest: +SKIP
    """
    if targets is None and raters is None and ratings is None:
        return icc_wide(data, ci=ci)
    if not isinstance(data, pd.DataFrame):
        raise DataError("long-format ICC data must be a DataFrame")
    for name, col in (("targets", targets), ("raters", raters), ("ratings", ratings)):
        if col is None:
            raise DataError(f"{name} column is missing: give targets, raters and ratings (or none for wide data)")
        if col not in data.columns:
            raise DataError(f"{name} column {col!r} is not in the data", hint=f"columns: {list(data.columns)}")
    vals = pd.to_numeric(data[ratings], errors="coerce")
    bad = data[ratings][vals.isna() & data[ratings].notna()]
    if len(bad):
        raise DataError(f"ratings column {ratings!r} has non-numeric value {bad.iloc[0]!r}")
    wide = data.assign(**{ratings: vals}).pivot_table(index=targets, columns=raters, values=ratings, aggfunc="mean")
    return icc_wide(wide, ci=ci)
