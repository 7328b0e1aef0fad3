"""Scoring: pure functions on the tidy response table (one row per administration × item).

Nothing here knows how the answers were obtained. Inputs are the columns described in
``docs/response-table.md``; the instruments provide keys, scale membership and SJT weights.

Rules (the conventions of psychological test manuals):

* reverse keying maps a value ``x`` on a scale from ``min`` to ``max`` to ``min + max − x``;
* a scale score is the mean (default) or sum of the keyed item scores of one respondent;
* refused, unparseable and failed answers are excluded from scores and counted (``n_refused``,
  ``n_unparseable``, ``n_error``) — never coerced into a value;
* an SJT option contributes its trait weights: the chosen option's weight (``chosen``) or the
  probability-weighted weight ``Σ_k p_k w_k`` (``expected``);
* the expected value of an item from option probabilities is ``Σ_k p_k v_k``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ..answers.columns import RESPONDENT_COLUMNS
from ..answers.status import NOT_SCORED
from ..errors import DataError
from ..instruments.schema import Instrument

ValueSource = Literal["expected", "chosen"]


def reverse_key(values: np.ndarray | pd.Series | float, keyed: np.ndarray | pd.Series | int,
                low: float, high: float) -> np.ndarray:
    """Reverse-key values: ``low + high − x`` where ``keyed == −1``, ``x`` otherwise.

    >>> reverse_key(np.array([1., 2., 5.]), np.array([1, -1, -1]), 1, 5).tolist()
    [1.0, 4.0, 1.0]
    """
    v = np.asarray(values, dtype=float)
    k = np.asarray(keyed)
    return np.where(k == -1, low + high - v, v)


def expected_value(probs: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray) -> float:
    """Expected option value ``Σ p_k v_k`` (probabilities renormalised to sum to one).

    >>> expected_value([0.5, 0.5, 0, 0, 0], [1, 2, 3, 4, 5])
    1.5
    """
    p = np.asarray(probs, dtype=float)
    v = np.asarray(values, dtype=float)
    if p.shape != v.shape:
        raise DataError(f"{p.size} probabilities for {v.size} option values")
    s = p.sum()
    if not np.isfinite(s) or s <= 0:
        raise DataError("option probabilities must be finite and sum to a positive number")
    return float((p / s) @ v)


def index_instruments(instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument
                      ) -> dict[str, Instrument]:
    """Instruments by id, from one instrument, a mapping id → instrument, or an iterable of instruments."""
    if isinstance(instruments, Instrument):
        return {instruments.id: instruments}
    if isinstance(instruments, Mapping):
        return dict(instruments)
    return {i.id: i for i in instruments}


def respondent_columns(df: pd.DataFrame, by: Sequence[str] | None) -> list[str]:
    """The respondent columns to group by: ``by``, else those of :data:`RESPONDENT_COLUMNS` in the table
    (a :class:`DataError` names any of ``by`` that is missing)."""
    cols = list(by) if by is not None else [c for c in RESPONDENT_COLUMNS if c in df.columns]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"response table lacks respondent column(s) {missing}")
    return cols


def _value_column(source: ValueSource) -> str:
    if source == "expected":
        return "expected_value"
    if source == "chosen":
        return "chosen_value"
    raise DataError(f"value source must be 'expected' or 'chosen', got {source!r}")


def item_scores(responses: pd.DataFrame, instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument,
                source: ValueSource = "expected") -> pd.DataFrame:
    """Keyed score of each Likert/numeric answer.

    Adds ``value`` (the raw answer on the original scale: the expected value in score mode, the chosen or
    parsed value otherwise) and ``score`` (reverse keyed where ``keyed == −1``) to a copy of the table.
    Rows whose status is not ``ok`` get NaN in both. Multiple-choice (SJT) rows are left NaN here: use
    :func:`sjt_trait_scores`.
    """
    inst = index_instruments(instruments)
    out = responses.copy()
    col = _value_column(source)
    raw = pd.to_numeric(out.get(col), errors="coerce") if col in out else pd.Series(np.nan, index=out.index)
    if source == "chosen" and "parsed_value" in out:
        raw = raw.fillna(pd.to_numeric(out["parsed_value"], errors="coerce"))
    ok = out["status"].eq("ok") if "status" in out else pd.Series(True, index=out.index)
    value = raw.where(ok)
    score = value.copy()
    for iid, rows in out.groupby("instrument").groups.items():
        if iid not in inst:
            raise DataError(f"no instrument definition for {iid!r} found in the response table",
                            hint=f"pass every instrument of the table ({sorted(map(str, out['instrument'].unique()))}) "
                                 "or select its rows first, e.g. df[df.instrument == 'bfi-44']")
        ins = inst[iid]
        for item_id, idx in out.loc[rows].groupby("item").groups.items():
            kind = ins.item_kind(item_id)
            if kind == "likert":
                keyed = ins.item(item_id).keyed
                values = ins.options_of(item_id).values
                score.loc[idx] = reverse_key(value.loc[idx], keyed, min(values), max(values))
            elif kind != "numeric":
                value.loc[idx] = np.nan
                score.loc[idx] = np.nan
    out["value"] = value
    out["score"] = score
    return out


def _status_counts(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    status = df["status"] if "status" in df else pd.Series("ok", index=df.index)
    counts = pd.crosstab([df[k] for k in keys], status) if keys else status.value_counts().to_frame().T
    for s in NOT_SCORED:
        if s not in counts:
            counts[s] = 0
    return counts[list(NOT_SCORED)].rename(columns=lambda s: f"n_{s}")


def scale_scores(responses: pd.DataFrame,
                 instruments: Mapping[str, Instrument] | Iterable[Instrument] | Instrument,
                 source: ValueSource = "expected", method: Literal["mean", "sum"] | None = None,
                 by: Sequence[str] | None = None, min_items: float = 0.5) -> pd.DataFrame:
    """Scale scores per respondent, in tidy form.

    Parameters
    ----------
    responses : the tidy response table.
    instruments : the instruments the table was administered from (keys, scales, SJT weights).
    source : ``"expected"`` (probability-weighted expected values, score mode) or ``"chosen"``
        (the chosen/parsed answer; generate mode or argmax scoring).
    method : ``"mean"`` or ``"sum"``; default: the instrument's ``scoring`` rule.
    by : columns identifying a respondent (default: those of :data:`RESPONDENT_COLUMNS` present).
    min_items : a score needs at least this share of the scale's items answered, else it is NaN
        (and counted in ``n_missing``). A sum is only given when every item is answered.

    Returns
    -------
    DataFrame with the respondent columns, ``instrument``, ``scale``, ``score``, ``n_items`` (answered),
    ``n_missing`` (items not answered: missing rows, refusals, unparseable, errors), ``n_refused``,
    ``n_unparseable``, ``n_error``.

    Formula: ``score = mean_i s_i`` (or ``Σ_i s_i``) over answered items ``i`` of the scale, where
    ``s_i`` is the keyed item score (``min + max − x`` for reverse-keyed items).
    SJT scales: ``s_i = Σ_k p_k w_k`` (expected) or ``w_chosen`` (chosen), the trait weight of the item's
    options on that scale.
    """
    inst = index_instruments(instruments)
    keys = respondent_columns(responses, by)
    if responses.empty:
        raise DataError("the response table is empty")
    parts = []
    for iid, df in responses.groupby("instrument", sort=True):
        ins = inst.get(str(iid))
        if ins is None:
            raise DataError(f"no instrument definition for {iid!r}",
                            hint=f"the table holds instruments {sorted(map(str, responses['instrument'].unique()))}:"
                                 f" pass all of them (e.g. pm.load_run(run)[2]) or select rows first, e.g. "
                                 f"df[df.instrument == {next(iter(inst), 'bfi-44')!r}]")
        if ins.kind == "choice":
            scored = sjt_trait_scores(df, ins, source=source, by=keys)
        else:
            scored = item_scores(df, ins, source=source)
            scored = _long_by_scale(scored, ins)
        parts.append(_aggregate(scored, ins, keys, method or ins.scoring, min_items, df))
    return pd.concat(parts, ignore_index=True)


def _long_by_scale(scored: pd.DataFrame, ins: Instrument) -> pd.DataFrame:
    """Expand to one row per (row, scale) using the instrument's scale membership (domains and facets)."""
    membership = [(s, i) for s, items in ins.scale_items().items() for i in items]
    m = pd.DataFrame(membership, columns=["scale_", "item"])
    out = scored.drop(columns=[c for c in ("scale",) if c in scored]).merge(m, on="item", how="inner")
    return out.rename(columns={"scale_": "scale"})


def _aggregate(scored: pd.DataFrame, ins: Instrument, keys: list[str], method: str, min_items: float,
               raw: pd.DataFrame) -> pd.DataFrame:
    sizes = {s: len(items) for s, items in ins.scale_items().items()}
    g = scored.groupby(keys + ["scale"], dropna=False)["score"]
    res = g.agg(n_items="count", total="sum", mean="mean").reset_index()
    res["size"] = res["scale"].map(sizes)
    res["n_missing"] = res["size"] - res["n_items"]
    if method == "sum":
        res["score"] = res["total"].where(res["n_missing"] == 0)
    else:
        res["score"] = res["mean"].where(res["n_items"] >= np.ceil(min_items * res["size"]))
    counts = _status_counts(scored, keys + ["scale"]).reset_index()
    res = res.merge(counts, on=keys + ["scale"], how="left")
    for c in ("n_refused", "n_unparseable", "n_error"):
        res[c] = res[c].fillna(0).astype(int)
    res.insert(len(keys), "instrument", ins.id)
    return res[keys + ["instrument", "scale", "score", "n_items", "n_missing", "n_refused", "n_unparseable",
                       "n_error"]]


def sjt_trait_scores(responses: pd.DataFrame, instrument: Instrument, source: ValueSource = "expected",
                     by: Sequence[str] | None = None) -> pd.DataFrame:
    """Trait score of each SJT answer: one row per (answer, trait the item's options weight).

    ``expected``: ``Σ_k p_k w_k`` from the option probabilities (``probs``, original option order);
    ``chosen``: the weight of the chosen option (``chosen_option``, its original index).
    Rows whose status is not ``ok`` get NaN.
    """
    keys = respondent_columns(responses, by)
    rows = []
    for rec in responses.itertuples(index=False):
        r = rec._asdict()
        item = instrument.item(r["item"])
        options = item.options or []
        traits = sorted({t for o in options for t in o.weights})
        ok = r.get("status", "ok") == "ok"
        if source == "expected":
            probs = np.asarray(r.get("probs") if r.get("probs") is not None else [], dtype=float)
            if ok and probs.size != len(options):
                raise DataError(f"item {item.id!r}: {probs.size} probabilities for {len(options)} options")
        for t in traits:
            w = np.array([o.weights.get(t, 0.0) for o in options])
            if not ok:
                val = np.nan
            elif source == "expected":
                val = float(probs / probs.sum() @ w)
            else:
                chosen = r.get("chosen_option")
                val = float(w[int(chosen)]) if chosen is not None and 0 <= chosen < len(w) else np.nan
            rows.append({**{k: r[k] for k in keys}, "item": item.id, "scale": t, "score": val,
                         "status": r.get("status", "ok")})
    return pd.DataFrame(rows, columns=[*keys, "item", "scale", "score", "status"])


def to_wide(responses: pd.DataFrame, value: str = "score", by: Sequence[str] | None = None,
            instrument: str | None = None) -> pd.DataFrame:
    """Pivot a scored table to respondents × items (the input of ``pm.alpha``, ``pm.fa``, ...).

    ``value`` is the column to spread (``score`` after :func:`item_scores`, or ``expected_value``,
    ``chosen_value``). Duplicate (respondent, item) rows are an error, not silently averaged.
    """
    df = responses if instrument is None else responses[responses["instrument"] == instrument]
    keys = respondent_columns(df, by)
    if value not in df:
        raise DataError(f"response table has no column {value!r}")
    dup = df.duplicated(keys + ["item"])
    if dup.any():
        raise DataError(f"{int(dup.sum())} duplicate (respondent, item) rows; add the distinguishing column to `by`")
    wide = df.pivot(index=keys, columns="item", values=value) if keys else df.set_index("item")[value].to_frame().T
    wide.columns.name = None
    return wide


__all__ = ["RESPONDENT_COLUMNS", "expected_value", "index_instruments", "item_scores", "respondent_columns",
           "reverse_key", "scale_scores", "sjt_trait_scores", "to_wide"]
