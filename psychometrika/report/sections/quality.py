"""Section ``quality`` (chapter 01): answer statuses (refusals, unparseable answers), what the model said when
its answer was not scored, the chosen answer positions, and the response-quality, positional-bias, order- and
paraphrase-sensitivity statistics of :mod:`psychometrika.stats`."""

from __future__ import annotations

import pandas as pd

from ...stats import order_sensitivity, paraphrase_sensitivity, positional_bias, response_quality
from .context import Context, attempt, tidy

#: Answer statuses counted in the status table, in this order.
STATUSES = ("ok", "refused", "unparseable", "error")
#: Examples of unscored answers shown per model x instrument x status, and their longest shown length.
EXAMPLES, EXAMPLE_CHARS = 5, 300

#: stats CI columns -> the names these report tables were published with
_PUBLISHED = {"CI_low": "ci_low", "CI_high": "ci_high", "icc2_CI_low": "icc2_low", "icc2_CI_high": "icc2_high"}


def compute(ctx: Context) -> None:
    """Status rates, unscored answers, position counts and the consistency statistics."""
    st, df = ctx.stats, ctx.all_responses  # response quality describes every answer, screened out or not
    keys = ["model", "persona", "instrument"]
    tab = pd.crosstab([df[k] for k in keys], df["status"])
    for s in STATUSES:
        if s not in tab:
            tab[s] = 0
    tab = tab[list(STATUSES)]
    n = tab.sum(axis=1)
    rates = tab.div(n, axis=0).add_suffix("_rate")
    st.add("status_rates", pd.concat([n.rename("n"), tab, rates], axis=1).reset_index(), "quality", ids=keys)
    if "raw_text" in df.columns:  # what the model said when its answer was not scored (shown escaped)
        bad = df[df["status"].isin(["refused", "unparseable"]) & df["raw_text"].fillna("").astype(str).ne("")]
        if len(bad):
            ex = bad.sort_values(["model", "instrument", "item", "cell_key"], kind="stable") \
                .groupby(["model", "instrument", "status"], sort=True).head(EXAMPLES)
            ex = ex[["model", "persona", "instrument", "item", "status", "raw_text"]].copy()
            ex["raw_text"] = ex["raw_text"].astype(str).map(
                lambda t: t if len(t) <= EXAMPLE_CHARS else t[:EXAMPLE_CHARS - 1] + "…")
            st.add("unscored_answers", ex, "quality", "meta", ids=list(ex.columns))
    ok = df[(df["status"] == "ok") & (df["chosen_position"] >= 0) & (df["n_options"] > 0)]
    if len(ok):
        pc = ok.groupby(["model", "instrument", "n_options", "chosen_position"]).size().rename("n").reset_index()
        pc["share"] = pc["n"] / pc.groupby(["model", "instrument", "n_options"])["n"].transform("sum")
        pc = pc.rename(columns={"chosen_position": "position"})
        pc["position"] = pc["position"] + 1
        st.add("position_counts", pc, "quality", ids=["model", "instrument", "n_options", "position"])
    for name, fn in (("response_quality", lambda: response_quality(df, by=("model", "persona", "instrument"))),
                     ("positional_bias", lambda: positional_bias(df, by=("model",))),
                     ("order_sensitivity", lambda: order_sensitivity(df, by=("model",))),
                     ("paraphrase_sensitivity", lambda: paraphrase_sensitivity(df, by=("model",)))):
        res = attempt(st, "quality", f"pm.{name}", fn)
        if res is not None:   # the report's tables keep their published CI column names (ci_low, icc2_low ...)
            st.add(name, tidy(res).drop(columns=["CI"], errors="ignore").rename(columns=_PUBLISHED), "quality")
