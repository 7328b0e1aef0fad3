"""Expected-score versus argmax reliability of ``score``-mode answers: :func:`expected_vs_argmax_reliability`.

In ``score`` mode every answer is a probability distribution over the options; this module compares
Cronbach's alpha of the probability-weighted expected item scores with alpha of the argmax (chosen) scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from psychometrika.errors import DataError
from psychometrika.stats.common import RESPONDENT_COLUMNS, parse_keys, renamed_columns
from psychometrika.stats.reliability import alpha_ci

__all__ = ["expected_vs_argmax_reliability"]


def _raw_alpha(m: np.ndarray) -> float:
    """Cronbach's alpha of complete cases, all items kept (constant items count in k)."""
    k = m.shape[1]
    if m.shape[0] < 2 or k < 2:
        return np.nan
    v_items = m.var(axis=0, ddof=1).sum()
    v_tot = m.sum(axis=1).var(ddof=1)
    if v_tot <= 0:
        return np.nan
    return float(k / (k - 1) * (1 - v_items / v_tot))


def expected_vs_argmax_reliability(responses: pd.DataFrame, keys: Mapping[str, Sequence[str]] | None = None,
                                   by: Sequence[str] | None = None) -> pd.DataFrame:
    """Reliability of probability-weighted expected item scores versus argmax (chosen) scores.

    In ``score`` mode every answer is a probability distribution over the options. The *expected*
    item score is :math:`\\sum_k p_k v_k` (``expected_value``), the *argmax* score the value of the
    most probable option (``chosen_value``; recomputed from ``probs`` when absent). Both are reverse
    keyed (``low + high - x`` for ``keyed == -1``, end points from ``option_values``) and, per scale,
    Cronbach's alpha :math:`\\alpha = \\frac{k}{k-1}(1 - \\sum s_i^2 / s_X^2)` is computed over the
    respondents that have every item of the scale in both versions (items without variance are kept
    and count in *k*). The difference ``alpha_expected - alpha_argmax`` shows how much reliability
    the discretisation to the argmax loses (or gains).

    Parameters
    ----------
    responses : the tidy response table (score mode rows; ``status`` other than ``ok`` dropped).
    keys : optional ``{scale: [item, "-reversed_item", ...]}``; default: the table's ``scale`` and
        ``keyed`` columns.
    by : respondent columns (default: the administration columns present).

    Returns
    -------
    DataFrame, one row per scale: ``n_respondents``, ``n_items``, ``alpha_expected`` (+ Feldt
    ``alpha_expected_CI_low``/``_CI_high``; the old ``lower_expected`` ... still read), ``alpha_argmax`` (+ CI), ``difference``, ``r_scores`` (correlation of the two
    scale scores), ``mean_expected``, ``mean_argmax``.

    Examples
    --------
    >>> pm.expected_vs_argmax_reliability(df[df.instrument == "bfi-44"])   # doctest: +SKIP
    """
    df = responses
    need = [c for c in ("item", "option_values") if c not in df]
    if need:
        raise DataError(f"response table lacks column(s) {need}")
    if "status" in df:
        df = df[df["status"].eq("ok")]
    if df.empty:
        raise DataError("no answered (status 'ok') rows in the response table")
    keycols = list(by) if by is not None else [c for c in RESPONDENT_COLUMNS if c in df.columns]
    vals = [np.asarray(v, dtype=float) for v in df["option_values"]]
    if "expected_value" in df:
        expected = pd.to_numeric(df["expected_value"], errors="coerce").to_numpy(dtype=float)
    else:
        expected = np.full(len(df), np.nan)
    if "chosen_value" in df:
        argmax = pd.to_numeric(df["chosen_value"], errors="coerce").to_numpy(dtype=float)
    else:
        argmax = np.full(len(df), np.nan)
    if "probs" in df:
        for n, (p, v) in enumerate(zip(df["probs"], vals)):
            p = np.asarray(p, dtype=float) if p is not None else np.array([])
            if p.size == v.size and p.size and np.isfinite(p).all() and p.sum() > 0:
                if np.isnan(expected[n]):
                    expected[n] = float(p / p.sum() @ v)
                if np.isnan(argmax[n]):
                    argmax[n] = float(v[int(np.argmax(p))])
    lo = np.array([v.min() for v in vals])
    hi = np.array([v.max() for v in vals])
    if keys is None:
        if "keyed" not in df or "scale" not in df:
            raise DataError("response table lacks 'keyed'/'scale'; pass keys={scale: [items]}")
        sign = df["keyed"].to_numpy()
        membership = {str(s): sorted(set(g["item"].astype(str))) for s, g in df.groupby("scale")}
    else:
        sign_map, membership = parse_keys(keys, sorted(set(df["item"].astype(str))))
        sign = df["item"].astype(str).map(sign_map).fillna(1).to_numpy()
    work = df[keycols + ["item"]].copy()
    work["item"] = work["item"].astype(str)
    work["e"] = np.where(sign == -1, lo + hi - expected, expected)
    work["m"] = np.where(sign == -1, lo + hi - argmax, argmax)
    if work.duplicated(keycols + ["item"]).any():
        raise DataError("duplicate (respondent, item) rows; add the distinguishing column to `by`")
    rows = []
    for scale, members in membership.items():
        sub = work[work["item"].isin(members)]
        if keycols:
            we = sub.pivot(index=keycols, columns="item", values="e")
            wm = sub.pivot(index=keycols, columns="item", values="m")
        else:
            raise DataError("the response table has no respondent columns")
        we, wm = we.reindex(columns=members), wm.reindex(columns=members)
        complete = we.notna().all(axis=1) & wm.notna().all(axis=1)
        E, M = we[complete].to_numpy(), wm[complete].to_numpy()
        n, k = E.shape
        a_e, a_m = _raw_alpha(E), _raw_alpha(M)
        ci_e = alpha_ci(a_e, n, k) if n > 1 and k > 1 and np.isfinite(a_e) else (np.nan, np.nan)
        ci_m = alpha_ci(a_m, n, k) if n > 1 and k > 1 and np.isfinite(a_m) else (np.nan, np.nan)
        se, sm = E.mean(axis=1) if n else np.array([]), M.mean(axis=1) if n else np.array([])
        with np.errstate(invalid="ignore", divide="ignore"):
            r = float(np.corrcoef(se, sm)[0, 1]) if n > 2 and se.std() > 0 and sm.std() > 0 else np.nan
        rows.append({"scale": scale, "n_respondents": n, "n_items": k, "alpha_expected": a_e,
                     "alpha_expected_CI_low": ci_e[0], "alpha_expected_CI_high": ci_e[1],
                     "alpha_argmax": a_m, "alpha_argmax_CI_low": ci_m[0], "alpha_argmax_CI_high": ci_m[1], "difference": a_e - a_m,
                     "r_scores": r, "mean_expected": float(se.mean()) if n else np.nan,
                     "mean_argmax": float(sm.mean()) if n else np.nan})
    old = {"lower_expected": "alpha_expected_CI_low", "upper_expected": "alpha_expected_CI_high",
           "lower_argmax": "alpha_argmax_CI_low", "upper_argmax": "alpha_argmax_CI_high"}
    return renamed_columns(pd.DataFrame(rows).set_index("scale"), old)
