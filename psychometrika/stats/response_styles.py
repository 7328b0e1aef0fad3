"""Response styles of respondents (people or model personas): :func:`response_styles`.

Acquiescence (ARS) from balanced keying, extreme (ERS) and midpoint (MRS) responding and
acquiescence-corrected trait scores, per respondent. Polychoric correlations and ordinal alpha/omega
moved to :mod:`psychometrika.stats.ordinal`, expected-versus-argmax reliability to
:mod:`psychometrika.stats.score_reliability`; importing them from here still works (deprecated path).

References: Baumgartner, H. & Steenkamp, J.-B. E. M. (2001). Response styles in marketing research.
*Journal of Marketing Research* 38, 143–156. Soto, C. J. & John, O. P. (2017). The next Big Five
Inventory (BFI-2). *JPSP* 113, 117–143 (acquiescence-corrected scoring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from psychometrika.errors import DataError
from psychometrika.stats.common import RESPONDENT_COLUMNS, as_item_frame, parse_keys, warn
# deprecated import path: these lived here before the split
from psychometrika.stats.ordinal import PolychoricResult, ordinal_alpha, ordinal_omega, polychoric  # noqa: F401
from psychometrika.stats.score_reliability import expected_vs_argmax_reliability  # noqa: F401

__all__ = ["response_styles"]


# ============================================================================ response styles
def _is_tidy(data: Any) -> bool:
    return isinstance(data, pd.DataFrame) and "item" in data.columns and (
        "chosen_value" in data.columns or "expected_value" in data.columns or "value" in data.columns)


def response_styles(data: Any, keys: Any = None, low: float | Mapping[str, float] | None = None,
                    high: float | Mapping[str, float] | None = None,
                    source: Literal["chosen", "expected"] = "chosen",
                    by: Sequence[str] | None = None) -> pd.DataFrame:
    """Response-style indices and acquiescence-corrected trait scores, one row per respondent.

    Parameters
    ----------
    data : DataFrame
        Either the tidy response table (``docs/response-table.md``: ``item``, ``keyed``, ``scale``,
        ``option_values``, ``chosen_value`` / ``expected_value``, ``probs``, ``status``; respondents are
        identified by ``by``, default the administration columns) or a wide table of RAW (not reversed)
        responses, respondents x items.
    keys : mapping, wide tables only
        ``{item: +1 or -1}`` or psych-style ``{scale: ["E1", "-E2", ...]}`` (``-`` = reverse keyed).
    low, high : response scale end points (wide tables; default: min and max over all items). The
        tidy table uses each item's ``option_values``.
    source : ``"chosen"`` (argmax / parsed answers; default) or ``"expected"`` (probability-weighted
        expected values) as the raw response of the tidy table.

    Returns
    -------
    DataFrame indexed by respondent with

    * ``n_items``, ``n_positive``, ``n_negative`` - answered items by keying direction;
    * ``acquiescence`` - balanced-keying acquiescence (ARS):
      :math:`\\tfrac12(\\bar d_{+} + \\bar d_{-})`, the mean deviation :math:`d = x - m` of the raw
      response from the scale midpoint :math:`m = (low + high)/2`, averaged over positively and
      negatively keyed items with equal weight (the trait cancels; NaN without reversed items);
    * ``acquiescence_all`` - :math:`\\bar d` over all items (the simple ARS);
    * ``ers`` - share of answers at either end point; ``mrs`` - share at the midpoint (items with an
      odd number of categories only); with option probabilities also ``ers_prob`` / ``mrs_prob``,
      the mean probability mass on the end / middle options;
    * per scale ``trait_<scale>`` - mean keyed score, and ``corrected_<scale>`` - mean keyed score of
      the acquiescence-corrected responses :math:`x - \\mathrm{ARS}` (ten Berge, 1999; Soto & John,
      2017); for a balanced scale both are equal, for an unbalanced one the correction removes the
      agreeing bias.

    Examples
    --------
    >>> rs = pm.response_styles(df[df.instrument == "bfi-44"])      # doctest: +SKIP
    >>> rs[["acquiescence", "ers", "mrs"]].describe()               # doctest: +SKIP
    """
    probs_info = None
    if _is_tidy(data):
        df = data
        if "status" in df:
            df = df[df["status"].eq("ok")]
        if df.empty:
            raise DataError("no answered (status 'ok') rows in the response table")
        keycols = list(by) if by is not None else [c for c in RESPONDENT_COLUMNS if c in df.columns]
        missing = [c for c in keycols if c not in df.columns]
        if missing:
            raise DataError(f"response table lacks respondent column(s) {missing}")
        if "keyed" not in df:
            raise DataError("response table lacks the 'keyed' column")
        col = {"chosen": "chosen_value", "expected": "expected_value"}.get(source)
        if col is None:
            raise DataError(f"source must be 'chosen' or 'expected', got {source!r}")
        if col not in df and "value" in df:
            col = "value"
        if col not in df:
            raise DataError(f"response table has no column {col!r}")
        if "instrument" in df and df["instrument"].nunique() > 1:
            item_id = df["instrument"].astype(str) + ":" + df["item"].astype(str)
        else:
            item_id = df["item"].astype(str)
        df = df.assign(_item=item_id)
        index_cols = keycols if keycols else None
        if index_cols:
            wide = df.pivot_table(index=index_cols, columns="_item", values=col, aggfunc="first", dropna=False)
        else:
            wide = df.set_index("_item")[col].to_frame().T
        wide.columns.name = None
        meta = df.drop_duplicates("_item").set_index("_item")
        item_key = {i: int(meta.at[i, "keyed"]) for i in wide.columns}
        scales: dict[str, list[str]] = {}
        if "scale" in meta:
            for i in wide.columns:
                scales.setdefault(str(meta.at[i, "scale"]), []).append(i)
        if "option_values" in meta:
            lows = {i: float(np.min(meta.at[i, "option_values"])) for i in wide.columns}
            highs = {i: float(np.max(meta.at[i, "option_values"])) for i in wide.columns}
            catsets = {i: set(np.asarray(meta.at[i, "option_values"], dtype=float).tolist()) for i in wide.columns}
        else:
            vals = wide.to_numpy(dtype=float)
            lows = dict.fromkeys(wide.columns, float(np.nanmin(vals)))
            highs = dict.fromkeys(wide.columns, float(np.nanmax(vals)))
            catsets = None
        if "probs" in df and "option_values" in df:
            ends = []
            mids = []
            for rec in df[["probs", "option_values"]].itertuples(index=False):
                p = np.asarray(rec.probs, dtype=float)
                v = np.asarray(rec.option_values, dtype=float)
                if p.size != v.size or p.size == 0 or not np.isfinite(p).all() or p.sum() <= 0:
                    ends.append(np.nan)
                    mids.append(np.nan)
                    continue
                p = p / p.sum()
                ends.append(float(p[v == v.min()].sum() + p[v == v.max()].sum()))
                m = (v.min() + v.max()) / 2
                mids.append(float(p[v == m].sum()) if np.any(v == m) else np.nan)
            extra = df[keycols].copy() if keycols else pd.DataFrame(index=df.index)
            extra["ers_prob"] = ends
            extra["mrs_prob"] = mids
            probs_info = extra.groupby(keycols).mean() if keycols else extra.mean().to_frame().T
        x = wide.astype(float)
    else:
        x = as_item_frame(data, what="data", min_rows=1, min_cols=2)
        item_key, scales = parse_keys(keys, list(x.columns))
        x = x[[c for c in x.columns if c in item_key]]
        vals = x.to_numpy()

        def _bound(b, fn):
            if b is None:
                return dict.fromkeys(x.columns, float(fn(vals)))
            if isinstance(b, Mapping):
                return {c: float(b[c]) for c in x.columns}
            return dict.fromkeys(x.columns, float(b))
        lows, highs = _bound(low, np.nanmin), _bound(high, np.nanmax)
        catsets = None
    items = list(x.columns)
    if not items:
        raise DataError("no keyed items to analyse")
    lo = np.array([lows[i] for i in items])
    hi = np.array([highs[i] for i in items])
    mid = (lo + hi) / 2
    sign = np.array([item_key[i] for i in items])
    X = x.to_numpy(dtype=float)
    ans = ~np.isnan(X)
    dev = X - mid
    pos, neg = sign > 0, sign < 0
    with np.errstate(invalid="ignore", divide="ignore"):
        n_pos = ans[:, pos].sum(axis=1)
        n_neg = ans[:, neg].sum(axis=1)
        mean_pos = np.nansum(np.where(ans[:, pos], dev[:, pos], 0), axis=1) / n_pos
        mean_neg = np.nansum(np.where(ans[:, neg], dev[:, neg], 0), axis=1) / n_neg
        acq = np.where((n_pos > 0) & (n_neg > 0), (mean_pos + mean_neg) / 2, np.nan)
        acq_all = np.nanmean(np.where(ans, dev, np.nan), axis=1) if ans.any() else np.full(X.shape[0], np.nan)
        n_ans = ans.sum(axis=1)
        extreme = ((X == lo) | (X == hi)) & ans
        ers = extreme.sum(axis=1) / n_ans
        has_mid = np.array([(catsets is None and float(m).is_integer() and (h - l) % 2 == 0)
                            or (catsets is not None and m in catsets[i]) for i, m, l, h in zip(items, mid, lo, hi)])
        mid_ans = ans & has_mid
        mrs = np.where(mid_ans.sum(axis=1) > 0, ((X == mid) & mid_ans).sum(axis=1) / mid_ans.sum(axis=1), np.nan)
    if not neg.any() or not pos.any():
        warn("acquiescence needs both positively and negatively keyed items (balanced keying); it is NaN")
    out = pd.DataFrame({"n_items": n_ans, "n_positive": n_pos, "n_negative": n_neg, "acquiescence": acq,
                        "acquiescence_all": acq_all, "ers": ers, "mrs": mrs}, index=x.index)
    if probs_info is not None:
        out = out.join(probs_info)
    keyed = np.where(sign < 0, lo + hi - X, X)
    corr_raw = X - np.nan_to_num(acq)[:, None]
    corr_raw = np.where(np.isnan(acq)[:, None], np.nan, corr_raw)
    corrected = np.where(sign < 0, lo + hi - corr_raw, corr_raw)
    for s, members in scales.items():
        idx = [items.index(m) for m in members if m in items]
        with np.errstate(invalid="ignore"):
            out[f"trait_{s}"] = np.nanmean(np.where(ans[:, idx], keyed[:, idx], np.nan), axis=1) \
                if idx else np.nan
            out[f"corrected_{s}"] = np.nanmean(np.where(ans[:, idx], corrected[:, idx], np.nan), axis=1) \
                if idx else np.nan
    return out
