"""Agreement between raters: :func:`cohen_kappa`, equal to ``psych::cohen.kappa``.

Cohen's (1960) kappa and weighted kappa (Cohen, 1968) with the large-sample variances of Fleiss, Cohen &
Everitt (1969) as psych 2.2.9 computes them, e.g. for agreement between a model rater and a lexicon, or
between the answers chosen under two option orders.

References: Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and Psychological
Measurement* 20, 37-46. Cohen, J. (1968). Weighted kappa. *Psychological Bulletin* 70, 213-220. Fleiss, J. L.,
Cohen, J. & Everitt, B. S. (1969). Large sample standard errors of kappa and weighted kappa. *Psychological
Bulletin* 72, 323-327.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from psychometrika.errors import DataError
from psychometrika.stats.common import StatsResult, fmt_frame, warn, z_value

__all__ = ["CohenKappaResult", "cohen_kappa"]


@dataclass(repr=False, eq=False)
class CohenKappaResult(StatsResult):
    """Result of :func:`cohen_kappa` (psych's ``cohen.kappa`` object, dots -> underscores).

    Attributes
    ----------
    kappa, weighted_kappa : float
        Unweighted and weighted kappa.
    var_kappa, var_weighted : float
        Their large-sample variances (psych's ``var.kappa``, ``var.weighted``).
    confid : DataFrame
        Rows ``unweighted kappa`` / ``weighted kappa``, columns ``estimate``, ``CI_low``, ``CI_high``
        (normal-theory interval at level ``ci``, clipped to [-1, 1] like psych).
    agree : DataFrame
        The cross table of the two raters as proportions (rater 1 in rows).
    weight : DataFrame
        The agreement weights used for the weighted kappa.
    n_obs : float
        Number of rated objects.
    ci : float
        Confidence level.
    pairwise : DataFrame or None
        For more than two raters: kappa below the diagonal, weighted kappa above it (psych's layout), and
        ``av_kappa`` / ``av_weighted`` their means; ``pairs`` holds the result of every pair.
    """

    kappa: float
    weighted_kappa: float
    var_kappa: float
    var_weighted: float
    confid: pd.DataFrame
    agree: pd.DataFrame | None
    weight: pd.DataFrame | None
    n_obs: float
    ci: float
    pairwise: pd.DataFrame | None = None
    av_kappa: float | None = None
    av_weighted: float | None = None
    pairs: dict[tuple[str, str], "CohenKappaResult"] | None = None

    _title = "Cohen Kappa and Weighted Kappa correlation coefficients and confidence boundaries"

    def to_frame(self) -> pd.DataFrame:
        """The estimates with their CIs (``confid``); for several raters, one row per pair of raters."""
        if self.pairs is None:
            return self.confid.copy()
        rows = []
        for (a, b), r in self.pairs.items():
            rows.append({"rater1": a, "rater2": b, "kappa": r.kappa, "kappa_CI_low": r.confid.iloc[0]["CI_low"],
                         "kappa_CI_high": r.confid.iloc[0]["CI_high"], "weighted_kappa": r.weighted_kappa,
                         "weighted_CI_low": r.confid.iloc[1]["CI_low"],
                         "weighted_CI_high": r.confid.iloc[1]["CI_high"], "n_obs": r.n_obs})
        return pd.DataFrame(rows)

    def _summary_lines(self, digits: int) -> list[str]:
        if self.pairwise is not None:
            return ["Cohen Kappa (below the diagonal) and Weighted Kappa (above the diagonal)",
                    fmt_frame(self.pairwise, digits), "",
                    f"Average Cohen kappa for all raters  {self.av_kappa:.{digits}f}",
                    f"Average weighted kappa for all raters  {self.av_weighted:.{digits}f}"]
        return [f"                 {self.ci:.0%} confidence boundaries", fmt_frame(self.confid, digits),
                "", f" Number of subjects = {self.n_obs:g}"]


def _table(x: Any, y: Any, levels: Any) -> tuple[np.ndarray, list[Any]]:
    """Cross table of two raters' codes (pairs with a missing code are dropped, as R's ``table``)."""
    a, b = pd.Series(np.asarray(x, dtype=object)), pd.Series(np.asarray(y, dtype=object))
    if len(a) != len(b):
        raise DataError(f"the two raters rated different numbers of objects ({len(a)} and {len(b)})")
    keep = a.notna() & b.notna()
    a, b = a[keep], b[keep]
    if levels is None:
        vals = pd.unique(pd.concat([a, b]))
        try:
            labels = sorted(vals)
        except TypeError:
            labels = sorted(vals, key=str)
    else:
        labels = list(levels)
        unknown = sorted(set(pd.concat([a, b])) - set(labels), key=str)
        if unknown:
            raise DataError(f"ratings {unknown[:5]} are not among the levels given")
    pos = {v: i for i, v in enumerate(labels)}
    tab = np.zeros((len(labels), len(labels)))
    np.add.at(tab, (a.map(pos).to_numpy(dtype=int), b.map(pos).to_numpy(dtype=int)), 1.0)
    return tab, labels


def _kappa_table(counts: np.ndarray, labels: list[Any], w: np.ndarray | None, n_obs: float | None,
                 ci: float) -> CohenKappaResult:
    """psych's ``cohen.kappa1`` on a square table of counts or proportions."""
    tot = float(counts.sum())
    if not tot > 0:
        raise DataError("cohen_kappa: no pair of ratings to compare (every pair has a missing rating)")
    x = counts / tot
    k = x.shape[0]
    rs, cs = x.sum(axis=1), x.sum(axis=0)
    prob = np.outer(rs, cs)
    po, pc = float(np.trace(x)), float(np.trace(prob))
    if k == 1:
        warn("the two raters agree completely and use one category only; kappa is undefined (NaN)")
    kappa = (po - pc) / (1 - pc) if k > 1 else float("nan")
    if w is None:
        d = np.subtract.outer(np.arange(k), np.arange(k)) ** 2
        w = 1 - d / (k - 1) ** 2 if k > 1 else np.ones((1, 1))
    w = np.asarray(w, dtype=float)
    if w.shape != (k, k):
        raise DataError(f"the weight matrix must be {k} x {k} (one row and column per category), got {w.shape}")
    wpo, wpc = float(np.sum(w * x)), float(np.sum(w * prob))
    colw = (w * cs[:, None]).sum(axis=0)      # psych: colSums(w * cs) (cs recycled down the columns)
    roww = (w * rs[:, None]).sum(axis=1)      # psych: rowSums(w * rs)
    if n_obs is not None and tot == 1:
        tot = float(n_obs)
    rc = rs[:, None] + cs[None, :]            # psych's rs %+% t(cs)
    cr = cs[:, None] + rs[None, :]            # cs %+% t(rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_k = (1 / (tot * (1 - pc) ** 4)) * (
            np.trace(x * (np.eye(k) * (1 - pc) - rc * (1 - po)) ** 2)
            + (1 - po) ** 2 * (np.sum(x * cr ** 2) - np.trace(x * cr ** 2))
            - (po * pc - 2 * pc + po) ** 2)
        var_w = (1 / (tot * (1 - wpc) ** 4)) * (
            np.sum(x * (w * (1 - wpc) - (colw[:, None] + roww[None, :]) * (1 - wpo)) ** 2)
            - (wpo * wpc - 2 * wpc + wpo) ** 2)
        wkappa = (wpo - wpc) / (1 - wpc) if np.trace(w) > 0 else 1 - wpo / wpc
    var_k = 0.0 if not np.isfinite(var_k) or var_k < 0 else float(var_k)
    var_w = 0.0 if not np.isfinite(var_w) or var_w < 0 else float(var_w)
    z = z_value(ci)
    confid = pd.DataFrame({"estimate": [kappa, wkappa],
                           "CI_low": [kappa - z * np.sqrt(var_k), wkappa - z * np.sqrt(var_w)],
                           "CI_high": [kappa + z * np.sqrt(var_k), wkappa + z * np.sqrt(var_w)]},
                          index=["unweighted kappa", "weighted kappa"])
    bounds = confid[["CI_low", "CI_high"]].to_numpy()
    if np.any(np.abs(bounds[np.isfinite(bounds)]) > 1):
        warn("upper or lower confidence bound exceeds |1| and was set to +/-1 (as psych)")
        confid[["CI_low", "CI_high"]] = np.clip(bounds, -1, 1)
    lab = [str(v) for v in labels]
    return CohenKappaResult(kappa=float(kappa), weighted_kappa=float(wkappa), var_kappa=var_k, var_weighted=var_w,
                            confid=confid, agree=pd.DataFrame(x, index=lab, columns=lab),
                            weight=pd.DataFrame(w, index=lab, columns=lab), n_obs=tot, ci=ci)


def cohen_kappa(x: Any, y: Any = None, *, w: Any = None, n_obs: float | None = None, ci: float = 0.95,
                levels: Any = None) -> CohenKappaResult:
    """Cohen's kappa and weighted kappa with confidence intervals, equal to ``psych::cohen.kappa``.

    Parameters
    ----------
    x : the ratings: a two-column table (one row per rated object, one column per rater), a table with
        more raters (every pair is compared, psych's layout), a square table of counts or proportions
        (rater 1 in rows), or the first rater's codes with ``y`` the second's.
    y : the second rater's codes when ``x`` is one rater.
    w : agreement weights (a k x k matrix); default psych's quadratic weights
        :math:`1 - (i - j)^2 / (k - 1)^2`. A matrix with a zero diagonal is read as disagreement weights
        (:math:`\\kappa_w = 1 - \\sum w p_o / \\sum w p_c`), as psych does.
    n_obs : number of objects when ``x`` is a table of proportions.
    ci : confidence level of the normal-theory intervals (psych's ``alpha = 1 - ci``).
    levels : the categories, in order (default: the sorted codes observed).

    Returns
    -------
    :class:`CohenKappaResult` (``kappa``, ``weighted_kappa``, ``confid`` with ``CI_low``/``CI_high``, ...).

    Notes
    -----
    :math:`\\kappa = (p_o - p_c)/(1 - p_c)` with observed agreement :math:`p_o = \\operatorname{tr} P` and
    chance agreement :math:`p_c = \\sum_i p_{i.} p_{.i}`; the variances are Fleiss, Cohen & Everitt's (1969) as
    written in psych (including its weighted-variance marginals). Objects with a missing rating are dropped
    (per pair of raters).

    Examples
    --------
    >>> pm.cohen_kappa(df[["model", "lexicon"]]).confid         # doctest: +SKIP
    """
    if not 0 < ci < 1:
        raise DataError(f"ci must be a level between 0 and 1 (e.g. 0.95), got {ci!r}")
    if y is not None:
        tab, labels = _table(x, y, levels)
        return _kappa_table(tab, labels, w, n_obs, ci)
    if isinstance(x, pd.Series) or (isinstance(x, np.ndarray) and x.ndim == 1):
        raise DataError("cohen_kappa needs two raters: a two-column table, or x and y")
    frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x))
    nrow, ncol = frame.shape
    if nrow == ncol:                                   # psych: a square input is a table of the two raters
        try:
            counts = frame.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError("a square table for cohen_kappa must hold counts or proportions") from exc
        if np.isnan(counts).any() or (counts < 0).any():
            raise DataError("the cross table for cohen_kappa has missing or negative cells")
        labels = [str(c) for c in frame.columns] if levels is None else list(levels)
        return _kappa_table(counts, labels, w, n_obs, ci)
    if ncol < 2:
        raise DataError("cohen_kappa needs at least two raters (columns)")
    if ncol == 2:
        tab, labels = _table(frame.iloc[:, 0], frame.iloc[:, 1], levels)
        return _kappa_table(tab, labels, w, n_obs, ci)
    names = [str(c) for c in frame.columns]
    mat = pd.DataFrame(np.eye(ncol), index=names, columns=names)
    pairs: dict[tuple[str, str], CohenKappaResult] = {}
    for a, b in itertools.combinations(range(ncol), 2):
        tab, labels = _table(frame.iloc[:, b], frame.iloc[:, a], levels)   # psych: data.frame(x[, i], x[, j]), i > j
        r = _kappa_table(tab, labels, w, n_obs, ci)
        pairs[(names[a], names[b])] = r
        mat.iloc[b, a] = r.kappa              # below the diagonal
        mat.iloc[a, b] = r.weighted_kappa     # above it
    low = mat.to_numpy()[np.tril_indices(ncol, -1)]
    up = mat.to_numpy()[np.triu_indices(ncol, 1)]
    first = next(iter(pairs.values()))
    return CohenKappaResult(kappa=first.kappa, weighted_kappa=first.weighted_kappa, var_kappa=first.var_kappa,
                            var_weighted=first.var_weighted, confid=first.confid, agree=None, weight=None,
                            n_obs=first.n_obs, ci=ci, pairwise=mat, av_kappa=float(np.nanmean(low)),
                            av_weighted=float(np.nanmean(up)), pairs=pairs)
