"""Correlations with Fisher-z confidence intervals: :func:`cor_ci` (R's ``cor.test`` / ``psych::corr.test``).

References
----------
Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced from a small
sample. *Metron, 1*, 3-32. Revelle, W. (2022). *psych* (R package 2.2.9), ``corr.test``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import as_item_frame, renamed_columns, warn, z_value

__all__ = ["cor_ci"]

_METHODS = ("pearson", "spearman", "kendall")


def _one(x: np.ndarray, y: np.ndarray, method: str, ci: float) -> tuple[int, float, float, float, float]:
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = int(keep.sum())
    if n < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return n, float("nan"), float("nan"), float("nan"), float("nan")
    if method == "pearson":
        r = float(np.corrcoef(x, y)[0, 1])
    elif method == "spearman":
        r = float(np.corrcoef(stats.rankdata(x), stats.rankdata(y))[0, 1])
    else:
        r = float(stats.kendalltau(x, y).statistic)
    r = max(-1.0, min(1.0, r))
    if n > 3 and abs(r) < 1:
        z = math.atanh(r)
        half = z_value(ci) / math.sqrt(n - 3)
        lo, hi = math.tanh(z - half), math.tanh(z + half)
    else:
        lo = hi = float("nan") if abs(r) < 1 else r
    if abs(r) < 1:
        t = r * math.sqrt(n - 2) / math.sqrt(1 - r * r)
        p = float(2 * stats.t.sf(abs(t), n - 2))
    else:
        p = 0.0
    return n, r, lo, hi, p


def _frame(x: Any, what: str) -> pd.DataFrame:
    if isinstance(x, pd.Series):
        return as_item_frame(x.to_frame(name=str(x.name) if x.name is not None else what), what=what, min_rows=1)
    arr = np.asarray(x) if not isinstance(x, pd.DataFrame) else None
    if arr is not None and arr.ndim == 1:
        return as_item_frame(pd.DataFrame({what: arr}), what=what, min_rows=1)
    return as_item_frame(x, what=what, min_rows=1)


def cor_ci(x: Any, y: Any = None, *, method: str = "pearson", ci: float = 0.95) -> pd.DataFrame:
    """Correlations with Fisher-z confidence intervals and t-test p-values.

    * ``x`` and ``y`` vectors: one row (like R's ``cor.test(x, y)``);
    * ``x`` a DataFrame, ``y`` None: every pair of columns (upper triangle, in column order), like
      ``psych::corr.test(x, adjust = "none")``;
    * ``x`` and ``y`` DataFrames: every column of ``x`` with every column of ``y``.

    Missing values are deleted pairwise. For each pair with n complete observations:
    :math:`r` (Pearson, or Spearman = Pearson of ranks, or Kendall's τ_b), CI
    :math:`\\tanh(\\operatorname{atanh} r \\pm z_{1-\\alpha/2}/\\sqrt{n-3})` and
    :math:`p = 2P(T_{n-2} > |r|\\sqrt{n-2}/\\sqrt{1-r^2})` (unadjusted, as ``corr.test``'s lower
    triangle; for Spearman/Kendall these are psych's approximations, not ``cor.test``'s exact tests).

    Returns a DataFrame with columns ``x, y, n, r, CI, CI_low, CI_high, p`` (``ci_low``/``ci_high`` still read,
    deprecated).

    >>> pm.cor_ci(sat_act[["ACT", "SATV", "SATQ"]])        # doctest: +SKIP
    """
    if method not in _METHODS:
        raise DataError(f"method must be one of {_METHODS}, got {method!r}")
    if not 0 < ci < 1:
        raise DataError(f"ci must be between 0 and 1, got {ci!r}")
    fx = _frame(x, "x")
    if y is None:
        if fx.shape[1] < 2:
            raise DataError("give y, or a DataFrame x with at least 2 columns")
        pairs = [(fx, a, fx, b) for a, b in itertools.combinations(fx.columns, 2)]
    else:
        fy = _frame(y, "y")
        if fx.shape[1] == 1 and fy.shape[1] == 1 and len(fx) != len(fy):
            raise DataError(f"x and y have different lengths ({len(fx)} and {len(fy)})")
        if len(fx) != len(fy):
            raise DataError(f"x and y have different numbers of rows ({len(fx)} and {len(fy)})")
        pairs = [(fx, a, fy, b) for a in fx.columns for b in fy.columns]
    rows = []
    for fa, a, fb, b in pairs:
        n, r, lo, hi, p = _one(fa[a].to_numpy(float), fb[b].to_numpy(float), method, ci)
        rows.append({"x": a, "y": b, "n": n, "r": r, "CI": ci, "CI_low": lo, "CI_high": hi, "p": p})
    out = renamed_columns(pd.DataFrame(rows, columns=["x", "y", "n", "r", "CI", "CI_low", "CI_high", "p"]),
                          {"ci_low": "CI_low", "ci_high": "CI_high"})
    if out["r"].isna().any():
        warn("some correlations are undefined (fewer than 3 complete pairs or a constant variable): NaN")
    return out
