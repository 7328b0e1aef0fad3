"""Section ``personas`` (chapter 08 "Personas and shaping"): the persona population (attribute distributions)
and, for trait-shaped personas, :func:`psychometrika.stats.shaping_validity` — target level versus measured
score per trait (ρ with CIs), the target × measured (off-target) matrix, level means and high/low accuracy."""

from __future__ import annotations

import pandas as pd

from ...stats.shaping import TARGET_PREFIX, shaping_validity
from .context import Context, attempt

#: an attribute with more distinct values than this is summarised (numbers) or counted as "many" (text)
MAX_LEVELS = 40


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


def compute(ctx: Context) -> None:
    """Tables ``persona_population``, ``shaping_validity``, ``shaping_matrix``, ``shaping_levels``."""
    st = ctx.stats
    resp = ctx.responses
    if not any(c.startswith("persona_") for c in resp.columns):
        st.note("personas", "The run's personas carry no attributes (inline personas with an id and a text only), "
                            "so there is no population to describe and no shaping to validate.")
        return
    st.add("persona_population", population(resp), "personas", ids=["attribute", "value"])
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
