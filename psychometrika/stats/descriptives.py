"""Descriptive statistics, psych-style: :func:`describe` (R's ``psych::describe``).

References
----------
Revelle, W. (2022). *psych* (R package 2.2.9), ``describe``. Joanes, D. N., & Gill, C. A.
(1998). Comparing measures of sample skewness and kurtosis. *The Statistician, 47*, 183-189
(psych's default ``type = 3`` estimators).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from psychometrika.errors import DataError
from psychometrika.stats.common import StatsResult, as_item_frame, constant_columns, fmt_frame, warn

__all__ = ["describe", "DescribeResult"]

_COLUMNS = ["vars", "n", "mean", "sd", "median", "trimmed", "mad", "min", "max", "range", "skew", "kurtosis", "se"]


class DescribeResult(StatsResult):
    """Result of :func:`describe`: ``table`` (a DataFrame, one row per variable, psych's columns
    ``vars n mean sd median trimmed mad min max range skew kurtosis se``). Columns are also
    reachable as attributes (``res.mean``) and by indexing (``res["sd"]``)."""

    _title = ""

    def __init__(self, table: pd.DataFrame):
        self.table = table

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
