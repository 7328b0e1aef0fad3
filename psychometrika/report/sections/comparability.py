"""Section ``comparability`` (chapter 07): whether scores mean the same across models, personas and prompt
conditions — measurement invariance (:func:`psychometrika.stats.invariance`), differential item functioning
across option orders and paraphrases (:func:`~psychometrika.stats.dif`), response styles
(:func:`~psychometrika.stats.response_styles`) — and the D-study plan for the next run
(:func:`~psychometrika.stats.d_study_plan`)."""

from __future__ import annotations

import pandas as pd

from ...scoring import item_scores
from ...stats import d_study_plan, dif, g_study, invariance, response_styles
from .context import Context, attempt, ordered_items, tidy, wide
from .gstudy import varied_facets

#: Grouping columns tried for measurement invariance, in order.
INVARIANCE_GROUPS = ("model", "persona", "order_id", "instruction_id")
#: Grouping columns (prompt conditions) tested for differential item functioning.
DIF_GROUPS = ("order_id", "instruction_id")
#: Fewest items of a scale for invariance; each group needs at least items + this many complete respondents.
MIN_INVARIANCE_ITEMS, INVARIANCE_EXTRA_RESPONDENTS = 3, 2
#: Partial-invariance constraints freed and reported per scale.
PARTIAL_FREED = 3
#: Fewest respondents per group for DIF.
MIN_DIF_GROUP = 4
#: Generalizability the D-study plan aims at.
TARGET_G = 0.80
DIF_COLUMNS = ("instrument", "scale", "model", "group_by", "item", "n", "chi2_total", "df_total", "p_total",
               "delta_r2_total", "beta_group", "class", "flag")
STYLE_COLUMNS = ("acquiescence", "acquiescence_all", "ers", "mrs", "ers_prob", "mrs_prob")


def compute(ctx: Context) -> None:
    """The ``invariance``, ``invariance_partial``, ``dif``, ``response_styles`` and ``d_study_plan`` tables."""
    _invariance(ctx)
    _dif(ctx)
    _styles(ctx)
    _d_plan(ctx)


def _invariance(ctx: Context) -> None:
    st = ctx.stats
    long = ctx.item_long.dropna(subset=["score"])
    long = long[long["instrument"].isin(ctx.likert_ids)]
    inv_rows, part_rows = [], []
    for (iid, scale), sub in long.groupby(["instrument", "scale"], sort=True):
        data = wide(sub, ctx.resp_cols, "score").dropna()
        items = ordered_items(ctx.instruments[iid], data.columns)
        k = len(items)
        where = f"{iid} {scale}"
        if k < MIN_INVARIANCE_ITEMS:
            continue
        frame = data[items].reset_index()
        need = k + INVARIANCE_EXTRA_RESPONDENTS
        group = next((g for g in INVARIANCE_GROUPS if g in frame and frame[g].nunique() > 1
                      and frame.groupby(g).size().min() >= need), None)
        if group is None:
            st.note("comparability", f"{where}: no grouping (model, persona, option order, instructions) has two or "
                                     f"more groups with at least {need} complete respondents each — "
                                     "measurement invariance not tested.")
            continue
        names = {it: f"v{j + 1}" for j, it in enumerate(items)}  # lavaan-safe names
        model = "F =~ " + " + ".join(names.values())
        res = attempt(st, "comparability", f"{where}: invariance by {group}",
                      lambda: invariance(model, frame[[group, *items]].rename(columns=names), group,
                                         partial=PARTIAL_FREED))
        if res is None:
            continue
        back = {v: k_ for k_, v in names.items()}
        t = res.table.copy()
        for col, value in (("groups", len(res.groups)), ("group_by", group), ("scale", scale), ("instrument", iid)):
            t.insert(0, col, value)
        inv_rows.append(t.drop(columns=["group_equal"]))
        st.note("comparability", f"{where} by {group}: highest invariance level that holds: "
                                 f"{res.highest or res.no_level()}.")
        for _, r in res.partial.head(PARTIAL_FREED).iterrows():
            par = str(r["parameter"])
            var = par.split("=~")[1] if "=~" in par else par.split("~")[0]
            part_rows.append({"instrument": iid, "scale": scale, "group_by": group, "level": r["level"],
                              "item": back.get(var, var), "parameter": r["parameter"],
                              "chisq_drop": r["chisq_drop"], "delta_cfi": r["delta_cfi"]})
    if inv_rows:
        inv = pd.concat(inv_rows, ignore_index=True)
        inv["holds"] = inv["holds"].astype(bool)
        st.add("invariance", inv, "comparability", ids=["instrument", "scale", "group_by", "level"])
    if part_rows:
        st.add("invariance_partial", pd.DataFrame(part_rows), "comparability",
               ids=["instrument", "scale", "group_by", "level", "item", "parameter"])


def _dif(ctx: Context) -> None:
    st = ctx.stats
    lik = ctx.responses[ctx.responses["instrument"].isin(ctx.likert_ids)]
    if not len(lik):
        return
    chosen = item_scores(lik, {i: ctx.instruments[i] for i in ctx.likert_ids}, source="chosen")
    chosen = chosen.dropna(subset=["score"])
    rows = []
    for (iid, scale, model), sub in chosen.groupby(["instrument", "scale", "model"], sort=True):
        data = wide(sub, ctx.resp_cols, "score").dropna()
        if data.shape[1] < 2:
            continue
        frame = data.reset_index()
        items = list(data.columns)
        for group in DIF_GROUPS:
            if group not in frame or frame[group].nunique() < 2 or frame.groupby(group).size().min() < MIN_DIF_GROUP:
                continue
            res = attempt(st, "comparability", f"{iid} {scale} ({model}): DIF by {group}",
                          lambda: dif(frame[[group, *items]], group=group, p_adjust="holm"))
            if res is None:
                continue
            out = tidy(res)  # one row per item (the result's index)
            for col, value in (("group_by", group), ("model", model), ("scale", scale), ("instrument", iid)):
                out.insert(0, col, value)
            rows.append(out)
    if not rows:
        st.note("comparability", "No scale was administered under two or more option orders or instruction "
                                 f"paraphrases with at least {MIN_DIF_GROUP} respondents each, so DIF was not "
                                 "tested.")
        return
    d = pd.concat(rows, ignore_index=True)
    d = d[[c for c in DIF_COLUMNS if c in d.columns]]
    if "flag" in d:
        d["flag"] = d["flag"].astype(bool)
    st.add("dif", d, "comparability", ids=["instrument", "scale", "model", "group_by", "item", "class"])


def _styles(ctx: Context) -> None:
    st = ctx.stats
    lik = ctx.responses[ctx.responses["instrument"].isin(ctx.likert_ids)]
    if not len(lik):
        return
    styles = attempt(st, "comparability", "response styles",
                     lambda: response_styles(lik, source="chosen", by=ctx.resp_cols))
    if styles is None or not len(styles):
        return
    styles = styles.reset_index()
    cols = [c for c in STYLE_COLUMNS if c in styles]
    keys = [c for c in ("model", "persona") if c in styles]
    summ = styles.groupby(keys, sort=True)[cols].mean().reset_index()
    summ.insert(len(keys), "respondents", styles.groupby(keys, sort=True).size().to_numpy())
    st.add("response_styles", summ, "comparability", ids=keys)


def _d_plan(ctx: Context) -> None:
    st = ctx.stats
    long = ctx.item_long.dropna(subset=["score"])
    rows = []
    for (iid, scale, model), sub in long.groupby(["instrument", "scale", "model"], sort=True):
        facets = varied_facets(sub)
        design = [f for f in facets if f not in ("item", "persona")]
        if "item" not in facets or "persona" not in facets or not design:
            continue
        where = f"{iid} {scale} ({model})"
        g = ctx.g_results.get((iid, scale, model)) or \
            attempt(st, "comparability", f"{where}: G study",
                    lambda: g_study(sub[[*facets, "score"]], value="score", facets=facets, object="persona"))
        if g is None:
            continue
        p = attempt(st, "comparability", f"{where}: D-study plan",
                    lambda: d_study_plan(g, target_g=TARGET_G, facets=design))
        if p is None:
            continue
        p = p[p["varied"] == ("all" if len(design) > 1 else design[0])]
        for _, r in p.iterrows():
            rows.append({"instrument": iid, "scale": scale, "model": model, "g_now": g.g_coefficient,
                         **{f"n_{f}": int(r[f]) for f in design}, "administrations": int(r["administrations"]),
                         "g_planned": r["g_coefficient"], "reached": bool(r["reached"])})
    if rows:
        st.add("d_study_plan", pd.DataFrame(rows), "comparability", ids=["instrument", "scale", "model"])
    else:
        st.note("comparability", "A D-study plan needs personas (the object of measurement here) and at least one "
                                 "varied prompt facet (option order, instructions, seed).")
