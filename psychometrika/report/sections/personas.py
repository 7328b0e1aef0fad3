"""Section ``personas`` (chapter 08 "Personas and shaping"): the persona population (attribute distributions)
and, for trait-shaped personas, :func:`psychometrika.stats.shaping_validity` — target level versus measured
score per trait (ρ with CIs), the target × measured (off-target) matrix, level means and high/low accuracy."""

from __future__ import annotations

import pandas as pd

from ...stats.effects import compare_groups
from ...stats.shaping import TARGET_PREFIX, shaping_validity
from .context import Context, attempt

#: an attribute with more distinct values than this is summarised (numbers) or counted as "many" (text)
MAX_LEVELS = 40
#: attribute effects: attributes with 2..MAX_GROUPS values, each held by at least MIN_GROUP personas
MAX_GROUPS = 6
MIN_GROUP = 3
#: design attributes of shaped personas (their effect is the shaping validity, not an attribute effect)
DESIGN_ATTRIBUTES = ("persona_shaping_design", "persona_shaped_trait")


def population(responses: pd.DataFrame) -> pd.DataFrame:
    """One row per attribute value: ``attribute, value, n_personas, share`` (numeric attributes with many
    values: their ``min``, ``median``, ``max`` as values)."""
    cols = [c for c in responses.columns if c.startswith("persona_") and c != "persona_text"]
    people = responses.drop_duplicates("persona").set_index("persona")
    people = people.drop(index="none", errors="ignore")
    rows = []
    n = len(people)
    for c in cols:
        v = people[c].dropna()
        name = c[len("persona_"):]
        num = pd.to_numeric(v, errors="coerce")
        if v.nunique() > MAX_LEVELS and num.notna().all():
            for stat, val in (("min", num.min()), ("median", num.median()), ("max", num.max())):
                rows.append({"attribute": name, "value": f"{stat} {val:g}", "n_personas": int(len(v)),
                             "share": len(v) / n})
            continue
        counts = v.astype(str).value_counts()
        if len(counts) > MAX_LEVELS:
            rows.append({"attribute": name, "value": f"{len(counts)} distinct values", "n_personas": int(len(v)),
                         "share": len(v) / n})
            continue
        for val, k in counts.sort_index().items():
            rows.append({"attribute": name, "value": str(val), "n_personas": int(k), "share": k / n})
    return pd.DataFrame(rows, columns=["attribute", "value", "n_personas", "share"])


def attribute_effects(ctx: Context) -> pd.DataFrame:
    """Scale scores by persona attribute: Cohen's d / Hedges' g with CIs for every pair of attribute values
    (:func:`psychometrika.stats.compare_groups` on the personas' mean scale scores), per model and scale."""
    resp = ctx.responses
    people = resp.drop_duplicates("persona").set_index("persona").drop(index="none", errors="ignore")
    attrs = []
    for c in people.columns:
        if not c.startswith("persona_") or c == "persona_text" or c.startswith(TARGET_PREFIX) \
                or c in DESIGN_ATTRIBUTES:
            continue
        counts = people[c].dropna().astype(str).value_counts()
        if 2 <= len(counts) <= MAX_GROUPS and counts.min() >= MIN_GROUP:
            attrs.append(c)
    if not attrs:
        return pd.DataFrame()
    sc = ctx.scale_scores
    per = sc.groupby(["model", "instrument", "scale", "persona"], sort=False)["score"].mean().reset_index()
    per = per[per["persona"].isin(people.index)]
    parts = []
    for attr in attrs:
        labels = people[attr].dropna().astype(str)
        d = per.assign(value=per["persona"].map(labels)).dropna(subset=["value", "score"])
        for (mod, ins, scale), g in d.groupby(["model", "instrument", "scale"], sort=True):
            res = attempt(ctx.stats, "personas", f"{attr[len('persona_'):]} on {ins} {scale} ({mod})",
                          lambda g=g: compare_groups(g, dv="score", group="value"))
            if res is None or res.empty:
                continue
            res = res.copy()
            for col, val in (("scale", scale), ("instrument", ins), ("model", mod),
                             ("attribute", attr[len("persona_"):])):
                res.insert(0, col, val)
            parts.append(res)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def compute(ctx: Context) -> None:
    """Tables ``persona_population``, ``persona_attribute_effects``, ``shaping_validity``, ``shaping_matrix``,
    ``shaping_levels``."""
    st = ctx.stats
    resp = ctx.all_responses  # the population is the design: every persona administered, screened out or not
    if not any(c.startswith("persona_") for c in resp.columns):
        st.note("personas", "The run's personas carry no attributes (inline personas with an id and a text only), "
                            "so there is no population to describe and no shaping to validate.")
        return
    st.add("persona_population", population(resp), "personas", ids=["attribute", "value"])
    eff = attribute_effects(ctx)
    if not eff.empty:
        st.add("persona_attribute_effects", eff, "personas",
               ids=["attribute", "model", "instrument", "scale", "group1", "group2"])
    if not any(c.startswith(TARGET_PREFIX) for c in resp.columns):
        st.note("personas", "No persona was trait-shaped (personas: {shaping: ...}), so shaping validity is not "
                            "computed.")
        return
    lik = {i: ctx.instruments[i] for i in ctx.likert_ids}
    scores = ctx.scale_scores[ctx.scale_scores["instrument"].isin(list(lik))]
    res = attempt(st, "personas", "shaping validity",
                  lambda: shaping_validity(resp, lik, scores=scores, ci=0.95))
    if res is None:
        return
    keys = ["model", "instrument", "design"]
    st.add("shaping_validity", res.to_frame(), "personas", ids=[*keys, "trait", "scale"])
    st.add("shaping_matrix", res.matrix, "personas", ids=[*keys, "target_trait", "measured_trait", "scale"])
    st.add("shaping_levels", res.levels, "personas", ids=[*keys, "trait", "level"])
    st.note("personas", f"Spearman rho with {res.ci:.0%} CIs by Fisher's z ({res.ci_method} standard error); each "
                        "persona's score is averaged over paraphrases, option orders and seeds.")
