"""Section ``reliability`` (chapter 02): coefficient α with its Feldt CI, ω (Schmid-Leiman) and split-half
reliability per instrument x scale x model (:func:`psychometrika.stats.alpha`, :func:`~psychometrika.stats.omega`,
:func:`~psychometrika.stats.split_half`), item statistics, and scale descriptives against published human norms
(:func:`~psychometrika.stats.compare_norms`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...instruments.schema import Instrument
from ...stats import alpha, compare_norms, omega, split_half
from ...stats.guards import guard
from .context import Context, attempt, item_text, ordered_items, scale_name, tidy, wide

#: Fewest items and respondents for which reliability is estimated at all.
MIN_ITEMS, MIN_RESPONDENTS = 2, 3
#: ω needs at least this many items; with at least ``OMEGA_GROUP_ITEMS`` items it extracts
#: ``OMEGA_GROUP_FACTORS`` group factors (psych's default), below that one factor (ω_t only).
MIN_OMEGA_ITEMS, OMEGA_GROUP_ITEMS, OMEGA_GROUP_FACTORS = 3, 6, 3

#: An item whose standard deviation is at most this (rounding noise of expected values) does not vary.
NO_VARIANCE = 1e-8

RELIABILITY_COLUMNS = ["instrument", "scale", "scale_name", "model", "kind", "n", "items", "alpha", "alpha_lower",
                       "alpha_upper", "std_alpha", "G6", "average_r", "omega_h", "omega_t", "omega_factors",
                       "split_half_mean", "lambda4", "beta", "mean", "sd"]
ITEM_COLUMNS = ["instrument", "scale", "model", "item", "text", "keyed", "n", "mean", "sd", "r_cor", "r_drop",
                "alpha_if_dropped"]


def omega_factors(k: int) -> int:
    """Group factors ω extracts from ``k`` items (at most ``k - 1``)."""
    return min(OMEGA_GROUP_FACTORS if k >= OMEGA_GROUP_ITEMS else 1, k - 1)


def undefined_because(data: pd.DataFrame) -> str | None:
    """Why reliability is undefined for these respondents x items scores (``None`` when it is not): the total score
    is the same for everyone, or every pair of varying items is perfectly correlated (the answers follow one
    pattern, such as the displayed option position, not the items)."""
    total = data.sum(axis=1, min_count=1).dropna()
    if len(total) and np.isclose(total.max(), total.min()):
        return "every respondent has the same total score, so reliability is undefined"
    varying = data.loc[:, data.std() > NO_VARIANCE]
    if varying.shape[1] >= 2:
        r = varying.corr().to_numpy()[np.triu_indices(varying.shape[1], 1)]
        if np.isfinite(r).all() and np.allclose(np.abs(r), 1.0):
            return ("the items that vary are perfectly correlated: the answers follow one pattern (such as the "
                    "displayed option position), not the items, so reliability is undefined")
    return None


def compute(ctx: Context) -> None:
    """The ``reliability``, ``item_stats``, ``scale_descriptives`` and ``norm_comparison`` tables."""
    st = ctx.stats
    rel_rows, item_rows = [], []
    for (iid, scale, model), sub in ctx.item_long.groupby(["instrument", "scale", "model"], sort=True):
        ins = ctx.instruments[iid]
        data = wide(sub, ctx.resp_cols, "score")
        data = data[ordered_items(ins, data.columns)]
        where = f"{iid} {scale} ({model})"
        n, k = data.shape
        row = {"instrument": iid, "scale": scale, "scale_name": scale_name(ins, scale), "model": model,
               "kind": ctx.kind(iid), "n": n, "items": k}
        rel_rows.append(row)
        if k < MIN_ITEMS or n < MIN_RESPONDENTS:
            st.note("reliability", f"{where}: {k} item(s) and {n} respondent(s) — too few for reliability.")
            continue
        why = undefined_because(data)
        if why is not None:
            st.note("reliability", f"{where}: not computed ({why}).")
            continue
        a = attempt(st, "reliability", f"{where}: alpha", lambda: alpha(data, n_iter=0))
        if a is not None:
            feldt = a.ci.loc["Feldt"]
            row.update(alpha=float(a.total["raw_alpha"]), alpha_lower=float(feldt["CI_low"]),
                       alpha_upper=float(feldt["CI_high"]), std_alpha=float(a.total["std_alpha"]),
                       G6=float(a.total["G6"]), average_r=float(a.total["average_r"]),
                       mean=float(a.total["mean"]), sd=float(a.total["sd"]))
            item_rows += _item_rows(a, ins, ctx.kind(iid), iid, scale, model, n)
        omega_rule = guard("omega", n, items=k, alpha_defined=a is not None, warn=False)
        if k >= MIN_OMEGA_ITEMS and not omega_rule.estimable:
            st.note("reliability", f"{where}: omega {omega_rule.text()}.")
        elif k >= MIN_OMEGA_ITEMS:
            nf = omega_factors(k)
            o = attempt(st, "reliability", f"{where}: omega", lambda: omega(data, nfactors=nf))
            if o is not None:
                row.update(omega_h=float(o.omega_h) if nf > 1 else np.nan, omega_t=float(o.omega_tot),
                           omega_factors=nf)
        s = attempt(st, "reliability", f"{where}: split half", lambda: split_half(data, seed=ctx.seed))
        if s is not None:
            row.update(split_half_mean=float(s.meanr), lambda4=float(s.maxrb), beta=float(s.minrb))
    st.add("reliability", pd.DataFrame(rel_rows).reindex(columns=RELIABILITY_COLUMNS), "reliability",
           ids=["instrument", "scale", "scale_name", "model", "kind"])
    items = _add_item_norms(pd.DataFrame(item_rows, columns=ITEM_COLUMNS), ctx.instruments)
    st.add("item_stats", items, "reliability", ids=["instrument", "scale", "model", "item", "text"])
    _norms(ctx)


def _item_rows(a, ins: Instrument, kind: str, iid: str, scale: str, model: str, n: int) -> list[dict]:
    """Item statistics of one :func:`~psychometrika.stats.alpha` result (psych's ``item.stats``, α if dropped)."""
    drop = a.alpha_drop["raw_alpha"]
    rows = []
    for lab, r in a.item_stats.iterrows():
        item = str(lab).rstrip("-")  # psych marks reverse-keyed items with a trailing "-"
        rows.append({"instrument": iid, "scale": scale, "model": model, "item": item, "text": item_text(ins, item),
                     "keyed": int(ins.item(item).keyed) if kind == "questionnaire" else 1,
                     "n": float(r["n"]) if "n" in r else float(n), "mean": float(r.get("mean", np.nan)),
                     "sd": float(r.get("sd", np.nan)), "r_cor": float(r["r_cor"]), "r_drop": float(r["r_drop"]),
                     "alpha_if_dropped": float(drop.loc[lab])})
    return rows


def _add_item_norms(items: pd.DataFrame, instruments: dict[str, Instrument]) -> pd.DataFrame:
    rows = []
    for iid, ins in instruments.items():
        if ins.norms is not None and ins.norms.items:
            for item, vals in ins.norms.items.items():
                rows.append({"instrument": iid, "item": item, "human_mean": vals.get("mean"),
                             "human_sd": vals.get("sd"), "human_n": vals.get("n")})
    if not rows:
        return items
    return items.merge(pd.DataFrame(rows), on=["instrument", "item"], how="left")


def _norms(ctx: Context) -> None:
    st, sc = ctx.stats, ctx.scale_scores
    desc = (sc.groupby(["instrument", "scale", "model"], sort=True)["score"]
            .agg(n="count", mean="mean", sd="std", min="min", max="max").reset_index())
    norm_rows = []
    for iid, ins in ctx.instruments.items():
        if ins.norms is not None:
            for nm in ins.norms.scales:
                norm_rows.append({"instrument": iid, "scale": nm.scale, "human_mean": nm.mean, "human_sd": nm.sd,
                                  "human_n": nm.n, "norm_source": nm.source, "population": nm.population})
    if norm_rows:
        desc = desc.merge(pd.DataFrame(norm_rows), on=["instrument", "scale"], how="left")
    desc.insert(2, "scale_name", [scale_name(ctx.instruments[i], s) for i, s in zip(desc["instrument"],
                                                                                     desc["scale"])])
    st.add("scale_descriptives", desc, "reliability")
    normed = [i for i, ins in ctx.instruments.items() if ins.norms is not None and ins.norms.scales]
    if not normed:
        st.note("reliability", "No instrument of this study carries published human norms, so no comparison "
                               "with human values is made.")
        return
    parts = []
    for iid in normed:
        ins = ctx.instruments[iid]
        for model, msub in sc[sc["instrument"] == iid].groupby("model", sort=True):
            res = attempt(st, "reliability", f"{iid} ({model}): pm.compare_norms",
                          lambda: compare_norms(msub, ins.norms))
            if res is not None:   # published column names of this table: d_ci_low, d_ci_high
                f = tidy(res).rename(columns={"d_CI_low": "d_ci_low", "d_CI_high": "d_ci_high"})
                for c, v in (("model", model), ("instrument", iid)):
                    if c not in f:
                        f.insert(0, c, v)
                parts.append(f)
    if parts:
        st.add("norm_comparison", pd.concat(parts, ignore_index=True), "reliability")
