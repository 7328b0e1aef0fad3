"""Section ``gstudy`` (chapter 06): variance components of every scale by facet (items, personas, instructions,
option orders, labels, stems, repetitions), from :func:`psychometrika.stats.g_study`."""

from __future__ import annotations

import pandas as pd

from ...stats import g_study
from .context import Context, attempt, tidy

#: Facets offered to the G study when they vary.
GFACETS = ("persona", "item", "instruction_id", "order_id", "label_scheme", "stem_id", "repetition")


def varied_facets(sub: pd.DataFrame) -> tuple[str, ...]:
    """The facets of :data:`GFACETS` with two or more levels in ``sub``."""
    return tuple(f for f in GFACETS if f in sub and sub[f].nunique() > 1)


def compute(ctx: Context) -> None:
    """The ``g_components`` table; the G studies are kept in ``ctx.g_results`` for the D-study plan."""
    st = ctx.stats
    long = ctx.item_long.dropna(subset=["score"])
    parts = []
    for (iid, scale, model), sub in long.groupby(["instrument", "scale", "model"], sort=True):
        facets = varied_facets(sub)
        if "item" not in facets or len(facets) < 2:
            continue
        res = attempt(st, "gstudy", f"{iid} {scale} ({model})",
                      lambda: g_study(sub[[*facets, "score"]], value="score", facets=facets))
        if res is None:
            continue
        ctx.g_results[(iid, scale, model)] = res
        comp = tidy(res.components)
        for col, value in (("model", model), ("scale", scale), ("instrument", iid)):
            comp.insert(0, col, value)
        parts.append(comp)
    if parts:
        st.add("g_components", pd.concat(parts, ignore_index=True), "gstudy")
    else:
        st.note("gstudy", "No scale was administered under two or more levels of a facet besides its items, so "
                          "there are no variance components to estimate.")
