"""LLM-specific measurement statistics on the tidy response table (``docs/response-table.md``).

* :func:`order_sensitivity` - how much the answer to the same item changes when the answer
  options are shown in another order (score shift, exact agreement, correlation, and the
  original-versus-reversed consistency of the TRAIT benchmark);
* :func:`positional_bias` - probability of choosing display position k irrespective of content,
  against the uniform expectation, with a χ² goodness-of-fit test, plus the mean probability mass
  per display position (score mode);
* :func:`paraphrase_sensitivity` - variance of the answer across instruction (or stem)
  paraphrases, ICC(2,1) with paraphrases as raters, agreement;
* :func:`response_quality` - refusal, unparseable and error rates.

None of these exists in R; they are tested on synthetic response tables with planted effects
(``tests/stats/test_consistency.py``).

References
----------
Zheng, C., Zhou, H., Meng, F., Zhou, J., & Huang, M. (2024). Large language models are not robust
multiple choice selectors. *ICLR 2024* (selection bias towards option positions). Lee, S., et al.
(2024). Do LLMs have distinct and consistent personality? TRAIT: Personality testset designed
for LLMs with psychometrics. *arXiv:2406.14703* (original vs reversed option-order consistency).
Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations. *Psychological Bulletin, 86*,
420-428.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from psychometrika.errors import DataError
from psychometrika.stats.common import renamed_columns, warn, z_value
from psychometrika.stats.icc import icc_wide

__all__ = ["order_sensitivity", "paraphrase_sensitivity", "positional_bias", "response_quality"]

#: columns that identify one administration of one item besides the varied facet
_CONDITION = ("model", "persona", "instrument", "item", "instruction_id", "stem_id", "order_id", "label_scheme",
              "seed", "repetition")


def _by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _need(df: Any, cols: Sequence[str], fn: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{fn} needs the tidy response table (a DataFrame)")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{fn}: column(s) {missing} are not in the response table",
                        hint="see docs/response-table.md for the tidy table's columns")


def _groups(df: pd.DataFrame, by: list[str]):
    if not by:
        yield (), df
        return
    for key, sub in df.groupby(by, sort=True, dropna=False):
        yield (key if isinstance(key, tuple) else (key,)), sub


def _as_list(v: Any) -> list | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return None
    try:
        return list(v)
    except TypeError:
        return None


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["status"] == "ok"] if "status" in df.columns else df


# ============================================================================ order sensitivity
def order_sensitivity(responses: pd.DataFrame, *, value: str = "expected_value",
                      by: str | Sequence[str] | None = ("model",)) -> pd.DataFrame:
    """Sensitivity of answers to the order of the answer options.

    Administrations of the same item under the same conditions (persona, paraphrases, labels,
    seed, repetition) that differ only in ``order_id`` are compared pairwise (every pair of
    orders). Per ``by`` group:

    * ``n_units`` (item x condition units seen in ≥ 2 orders), ``n_pairs``;
    * ``mean_abs_shift`` = mean :math:`|v_a - v_b|` of ``value`` between orders (``sd_shift``
      its SD) — 0 for a model that ignores option order;
    * ``agreement`` = share of pairs choosing the same ORIGINAL option (``chosen_option``; rows
      with a status other than ``ok`` are excluded);
    * ``r_orders`` = correlation of ``value`` between the two orders across units (mean over
      order pairs, weighted by the units);
    * ``trait_consistency`` / ``trait_n`` = agreement between the ``original`` and ``reversed``
      orders only (the TRAIT benchmark's consistency; NaN when those orders were not given);
      ``reversed_mean_abs_shift`` the corresponding score shift.
    """
    _need(responses, ["order_id", value, *_by(by)], "order_sensitivity")
    df = _ok(responses).copy()
    df[value] = pd.to_numeric(df[value], errors="coerce")
    byc = _by(by)
    cond = [c for c in _CONDITION if c in df.columns and c != "order_id" and c not in byc]
    has_choice = "chosen_option" in df.columns
    rows = []
    for key, sub in _groups(df, byc):
        cols = [*byc, *cond]
        agg = {value: (value, "mean")}
        if has_choice:
            agg["choice"] = ("chosen_option", "first")
        cell = sub.groupby([*cols, "order_id"], dropna=False).agg(**agg).reset_index()
        wide_v = cell.pivot_table(index=cols, columns="order_id", values=value, aggfunc="mean", dropna=False) \
            if cols else None
        if wide_v is None or wide_v.shape[1] < 2:
            continue
        wide_c = cell.pivot_table(index=cols, columns="order_id", values="choice", aggfunc="first", dropna=False) \
            if has_choice else None
        orders = list(wide_v.columns)
        shifts, agree, rs, rn = [], [], [], []
        for a, b in itertools.combinations(orders, 2):
            va, vb = wide_v[a].to_numpy(float), wide_v[b].to_numpy(float)
            okv = np.isfinite(va) & np.isfinite(vb)
            shifts.extend(np.abs(va[okv] - vb[okv]))
            if okv.sum() >= 3 and np.std(va[okv]) > 0 and np.std(vb[okv]) > 0:
                rs.append(float(np.corrcoef(va[okv], vb[okv])[0, 1]))
                rn.append(int(okv.sum()))
            if wide_c is not None:
                ca, cb = wide_c[a].to_numpy(float), wide_c[b].to_numpy(float)
                okc = np.isfinite(ca) & np.isfinite(cb) & (ca >= 0) & (cb >= 0)
                agree.extend(ca[okc] == cb[okc])
        units = int((wide_v.notna().sum(axis=1) >= 2).sum())
        row = dict(zip(byc, key))
        row.update(n_units=units, n_pairs=len(shifts),
                   mean_abs_shift=float(np.mean(shifts)) if shifts else np.nan,
                   sd_shift=float(np.std(shifts, ddof=1)) if len(shifts) > 1 else np.nan,
                   agreement=float(np.mean(agree)) if agree else np.nan,
                   r_orders=float(np.average(rs, weights=rn)) if rs else np.nan)
        if "original" in orders and "reversed" in orders:
            va, vb = wide_v["original"].to_numpy(float), wide_v["reversed"].to_numpy(float)
            okv = np.isfinite(va) & np.isfinite(vb)
            row["reversed_mean_abs_shift"] = float(np.mean(np.abs(va[okv] - vb[okv]))) if okv.any() else np.nan
            if wide_c is not None:
                ca, cb = wide_c["original"].to_numpy(float), wide_c["reversed"].to_numpy(float)
                okc = np.isfinite(ca) & np.isfinite(cb) & (ca >= 0) & (cb >= 0)
                row["trait_consistency"] = float(np.mean(ca[okc] == cb[okc])) if okc.any() else np.nan
                row["trait_n"] = int(okc.sum())
        else:
            row.update(reversed_mean_abs_shift=np.nan, trait_consistency=np.nan, trait_n=0)
        rows.append(row)
    cols = [*byc, "n_units", "n_pairs", "mean_abs_shift", "sd_shift", "agreement", "r_orders",
            "reversed_mean_abs_shift", "trait_consistency", "trait_n"]
    if not rows:
        warn("order_sensitivity: no item was administered in two or more option orders under equal conditions")
    return pd.DataFrame(rows).reindex(columns=cols)


# ============================================================================ positional bias
def positional_bias(responses: pd.DataFrame, by: str | Sequence[str] | None = ("model",), *,
                    ci: float = 0.95) -> pd.DataFrame:
    """Probability of choosing each DISPLAY position irrespective of content.

    For each ``by`` group and number of options k (rows with status ``ok`` and a chosen
    position): ``count`` and ``share`` of choices per display position (1-based ``position``),
    ``expected`` = 1/k, ``bias`` = share − 1/k with its binomial standard error ``se`` and a
    Wald CI at level ``ci`` (``CI``, ``CI_low``, ``CI_high``; the old ``ci_low``/``ci_high`` still read); a χ²
    goodness-of-fit test of uniform positions
    (``chisq``, ``df`` = k − 1, ``p``, repeated on each row of the group); ``max_abs_bias``; and,
    when option probabilities were recorded (score mode), ``mean_prob``: the mean probability
    mass the model put on the option shown at that position (``probs`` are in original option
    order and are mapped through ``permutation``; all rows, whatever the status).

    Counterbalanced designs (option orders that rotate content across positions) make a
    content-free model's choices uniform over positions, so any bias is positional.
    """
    _need(responses, ["chosen_position", "n_options", *_by(by)], "positional_bias")
    byc = _by(by)
    df = responses
    z = z_value(ci)
    rows = []
    for key, sub in _groups(df, byc):
        for k, sk in sub.groupby("n_options", sort=True):
            k = int(k)
            if k < 2:
                continue
            ok = _ok(sk)
            pos = pd.to_numeric(ok["chosen_position"], errors="coerce")
            pos = pos[(pos >= 0) & (pos < k)].astype(int)
            counts = np.bincount(pos.to_numpy(), minlength=k)[:k]
            n = int(counts.sum())
            mean_prob = np.full(k, np.nan)
            if "probs" in sk.columns and "permutation" in sk.columns:
                acc, m = np.zeros(k), 0
                for pr, perm in zip(sk["probs"], sk["permutation"]):
                    pr, perm = _as_list(pr), _as_list(perm)
                    if pr is None or perm is None or len(pr) != k or len(perm) != k:
                        continue
                    arr = np.asarray(pr, dtype=float)
                    if not np.isfinite(arr).all():
                        continue
                    acc += arr[np.asarray(perm, dtype=int)]
                    m += 1
                if m:
                    mean_prob = acc / m
            if n:
                share = counts / n
                exp = np.full(k, n / k)
                chisq = float(np.sum((counts - exp) ** 2 / exp))
                p = float(stats.chi2.sf(chisq, k - 1))
                se = np.sqrt(share * (1 - share) / n)
            else:
                share = np.full(k, np.nan)
                chisq = p = np.nan
                se = np.full(k, np.nan)
            bias = share - 1 / k
            for j in range(k):
                row = dict(zip(byc, key))
                row.update(n_options=k, position=j + 1, n=n, count=int(counts[j]), share=share[j], expected=1 / k,
                           bias=bias[j], se=se[j], CI=ci, CI_low=bias[j] - z * se[j],
                           CI_high=bias[j] + z * se[j], chisq=chisq, df=k - 1, p=p,
                           max_abs_bias=float(np.nanmax(np.abs(bias))) if n else np.nan, mean_prob=mean_prob[j])
                rows.append(row)
    cols = [*byc, "n_options", "position", "n", "count", "share", "expected", "bias", "se", "CI", "CI_low", "CI_high",
            "chisq", "df", "p", "max_abs_bias", "mean_prob"]
    return renamed_columns(pd.DataFrame(rows).reindex(columns=cols), {"ci_low": "CI_low", "ci_high": "CI_high"})


# ============================================================================ paraphrase sensitivity
def paraphrase_sensitivity(responses: pd.DataFrame, facet: str = "instruction_id", value: str = "expected_value",
                           by: str | Sequence[str] | None = ("model",)) -> pd.DataFrame:
    """Sensitivity of answers to paraphrases of the instructions (or of item stems: ``facet="stem_id"``).

    Targets are the items under fixed conditions (item x persona x order x labels x seed x
    repetition); the paraphrases (levels of ``facet``) play the role of raters. Per ``by`` group:
    ``n_targets``, ``n_paraphrases``; ``mean_var`` = mean over targets of the variance of ``value``
    across paraphrases (``mean_sd`` its square-root average) and ``share_var`` = that variance as a
    share of the total variance of ``value``; ``icc2`` = ICC(2,1) (two-way random, absolute
    agreement, Shrout & Fleiss) with its CI (``icc2_CI_low``, ``icc2_CI_high``; old ``icc2_low``/``icc2_high`` still read) computed on the targets
    observed under every paraphrase; ``agreement`` = share of targets whose chosen original option
    is identical under all paraphrases (status ``ok`` only).
    """
    _need(responses, [facet, value, *_by(by)], "paraphrase_sensitivity")
    df = _ok(responses).copy()
    df[value] = pd.to_numeric(df[value], errors="coerce")
    byc = _by(by)
    cond = [c for c in _CONDITION if c in df.columns and c != facet and c not in byc]
    rows = []
    for key, sub in _groups(df, byc):
        cols = [*byc, *cond]
        if not cols:
            continue
        wide = sub.pivot_table(index=cols, columns=facet, values=value, aggfunc="mean", dropna=False)
        row = dict(zip(byc, key))
        row.update(n_targets=len(wide), n_paraphrases=int(wide.shape[1]))
        if wide.shape[1] < 2:
            row.update(mean_var=np.nan, mean_sd=np.nan, share_var=np.nan, icc2=np.nan, icc2_CI_low=np.nan,
                       icc2_CI_high=np.nan, agreement=np.nan)
            rows.append(row)
            continue
        v = wide.var(axis=1, ddof=1)
        total = float(np.nanvar(sub[value].to_numpy(float), ddof=1))
        row.update(mean_var=float(v.mean()), mean_sd=float(np.sqrt(v).mean()),
                   share_var=float(v.mean() / total) if total > 0 else np.nan)
        complete = wide.dropna()
        try:
            if len(complete) >= 2:
                import warnings as _w
                with _w.catch_warnings():
                    _w.simplefilter("ignore")
                    t = icc_wide(complete)
                r2 = t.loc["Single_random_raters"]
                row.update(icc2=float(r2["ICC"]), icc2_CI_low=float(r2["CI_low"]), icc2_CI_high=float(r2["CI_high"]))
            else:
                raise DataError("too few targets")
        except DataError:
            row.update(icc2=np.nan, icc2_CI_low=np.nan, icc2_CI_high=np.nan)
        if "chosen_option" in sub.columns:
            ch = sub.pivot_table(index=cols, columns=facet, values="chosen_option", aggfunc="first", dropna=False)
            ch = ch.dropna()
            ch = ch[(ch >= 0).all(axis=1)]
            row["agreement"] = float((ch.nunique(axis=1) == 1).mean()) if len(ch) else np.nan
        else:
            row["agreement"] = np.nan
        rows.append(row)
    cols = [*byc, "n_targets", "n_paraphrases", "mean_var", "mean_sd", "share_var", "icc2", "icc2_CI_low", "icc2_CI_high",
            "agreement"]
    return renamed_columns(pd.DataFrame(rows).reindex(columns=cols),
                           {"icc2_low": "icc2_CI_low", "icc2_high": "icc2_CI_high"})


# ============================================================================ response quality
def response_quality(responses: pd.DataFrame,
                     by: str | Sequence[str] | None = ("model", "persona", "instrument")) -> pd.DataFrame:
    """Numbers and rates of usable answers per group: ``n``, ``n_ok``, ``ok_rate``,
    ``refusal_rate``, ``unparseable_rate``, ``error_rate`` (shares of all administered items,
    from the ``status`` column)."""
    byc = [c for c in _by(by) if c in responses.columns] if isinstance(responses, pd.DataFrame) else _by(by)
    _need(responses, ["status", *byc], "response_quality")
    rows = []
    for key, sub in _groups(responses, byc):
        n = len(sub)
        st = sub["status"].astype(str)
        row = dict(zip(byc, key))
        row.update(n=n, n_ok=int((st == "ok").sum()), ok_rate=float((st == "ok").mean()),
                   refusal_rate=float((st == "refused").mean()), unparseable_rate=float((st == "unparseable").mean()),
                   error_rate=float((st == "error").mean()))
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=[*byc, "n", "n_ok", "ok_rate", "refusal_rate", "unparseable_rate",
                                               "error_rate"])
