"""Section ``effects`` (chapter 05): scale means per model x persona, and standardised mean differences
(:func:`psychometrika.stats.compare_groups`) between personas, between design conditions (instructions, option
orders, labels, stems) and between models."""

from __future__ import annotations

import pandas as pd

from ...stats import compare_groups
from .context import Context, attempt, tidy

#: Design conditions compared besides models and personas.
CONDITIONS = ("instruction_id", "order_id", "label_scheme", "stem_id")


def compute(ctx: Context) -> None:
    """The ``scale_means`` and ``effect_sizes`` tables."""
    st = ctx.stats
    sc = ctx.scale_scores.dropna(subset=["score"])
    means = (sc.groupby(["instrument", "scale", "model", "persona"], sort=True)["score"]
             .agg(n="count", mean="mean", sd="std").reset_index())
    st.add("scale_means", means, "effects", ids=["instrument", "scale", "model", "persona"])
    parts = []
    models = sorted(sc["model"].unique())

    def compare(sub: pd.DataFrame, factor: str, model: str, ref: str | None, iid: str, scale: str) -> None:
        if sub[factor].nunique() < 2:
            return
        res = attempt(st, "effects", f"{iid} {scale}: {factor} ({model})",
                      lambda: compare_groups(sub, dv="score", group=factor, ref=ref))
        if res is not None:
            # the report's effect_sizes table keeps its published column names (d_ci_low ...)
            f = tidy(res).rename(columns=lambda c: c.replace("_CI_", "_ci_") if isinstance(c, str) else c)
            for col, value in (("scale", scale), ("instrument", iid), ("model", model), ("factor", factor)):
                f.insert(0, col, value)
            parts.append(f)

    for (iid, scale), sub in sc.groupby(["instrument", "scale"], sort=True):
        for model in models:
            msub = sub[sub["model"] == model]
            personas = sorted(msub["persona"].unique())
            compare(msub, "persona", model, "none" if "none" in personas else None, iid, scale)
            for cond in CONDITIONS:
                if cond in msub:
                    levels = sorted(msub[cond].astype(str).unique())
                    ref = "original" if "original" in levels else levels[0]
                    compare(msub.assign(**{cond: msub[cond].astype(str)}), cond, model, ref, iid, scale)
        if len(models) > 1:
            compare(sub, "model", "all", models[0], iid, scale)
    if parts:
        st.add("effect_sizes", pd.concat(parts, ignore_index=True), "effects")
    else:
        st.note("effects", "No factor of this design has two or more levels with scores, so there are no "
                           "group comparisons.")
