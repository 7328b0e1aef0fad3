"""Section ``personas`` (chapter 08 "Personas and shaping"): the persona population (attribute distributions)
and, for trait-shaped personas, :func:`psychometrika.stats.shaping_validity` — target level versus measured
score per trait (ρ with CIs), the target × measured (off-target) matrix, level means and high/low accuracy."""

from __future__ import annotations

import pandas as pd

from ...stats.effects import compare_groups
from ...stats.invariance import invariance
from ...stats.shaping import TARGET_PREFIX, shaping_validity
from .context import Context, attempt, instrument_kind, ordered_items

#: an attribute with more distinct values than this is summarised (numbers) or counted as "many" (text)
MAX_LEVELS = 40
#: attribute effects: attributes with 2..MAX_GROUPS values, each held by at least MIN_GROUP personas
MAX_GROUPS = 6
MIN_GROUP = 3
#: design attributes of shaped personas (their effect is the shaping validity, not an attribute effect)
DESIGN_ATTRIBUTES = ("persona_shaping_design", "persona_shaped_trait")
#: invariance across attribute groups: scales of at least this many items; each group compared needs at least
#: max(items + INVARIANCE_EXTRA, MIN_INVARIANCE_GROUP) personas with every item answered (a group covariance
#: matrix of n <= items is singular; below ~20 personas a group's fit indices say little)
MIN_INVARIANCE_ITEMS, INVARIANCE_EXTRA, MIN_INVARIANCE_GROUP = 3, 2, 20
#: partial-invariance constraints freed and reported per comparison
PARTIAL_FREED = 3


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


def _attributes(people: pd.DataFrame, min_group: int = 1) -> list[str]:
    """Persona attribute columns that split the population into 2..MAX_GROUPS groups (shaping design
    attributes and target levels excluded), every group held by at least ``min_group`` personas."""
    out = []
    for c in people.columns:
        if not c.startswith("persona_") or c == "persona_text" or c.startswith(TARGET_PREFIX) \
                or c in DESIGN_ATTRIBUTES:
            continue
        counts = people[c].dropna().astype(str).value_counts()
        if 2 <= len(counts) <= MAX_GROUPS and counts.min() >= min_group:
            out.append(c)
    return out


def _people(resp: pd.DataFrame) -> pd.DataFrame:
    return resp.drop_duplicates("persona").set_index("persona").drop(index="none", errors="ignore")


def invariance_rule(k: int) -> int:
    """Personas each attribute group needs for an invariance test of a ``k``-item scale."""
    return max(k + INVARIANCE_EXTRA, MIN_INVARIANCE_GROUP)


def attribute_invariance(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measurement invariance of every questionnaire scale across the groups of each persona attribute.

    Per model, instrument, scale (>= :data:`MIN_INVARIANCE_ITEMS` items) and attribute (2..MAX_GROUPS values):
    each persona is one respondent, its item scores averaged over the other conditions (paraphrases, orders,
    seeds); the groups with at least :func:`invariance_rule` complete personas are compared by
    :func:`psychometrika.stats.invariance` (configural, metric, scalar, strict; one factor). Fewer than two such
    groups: a note says which groups were too small and the rule. Returns the level tables and the
    partial-invariance candidates."""
    st = ctx.stats
    people = _people(ctx.responses)
    attrs = _attributes(people)
    long = ctx.item_long
    long = long[long["instrument"].isin(ctx.likert_ids) & long["persona"].isin(people.index)].dropna(subset=["score"])
    if not attrs or long.empty:
        return pd.DataFrame(), pd.DataFrame()
    per = long.groupby(["model", "instrument", "scale", "persona", "item"], sort=True)["score"].mean()
    rows, part_rows = [], []
    for (mod, iid, scale), sub in per.groupby(level=["model", "instrument", "scale"], sort=True):
        data = sub.droplevel(["model", "instrument", "scale"]).unstack("item").dropna()
        items = ordered_items(ctx.instruments[iid], data.columns)
        k = len(items)
        if k < MIN_INVARIANCE_ITEMS:
            continue
        need = invariance_rule(k)
        names = {it: f"v{j + 1}" for j, it in enumerate(items)}  # lavaan-safe names
        model = "F =~ " + " + ".join(names.values())
        for attr in attrs:
            label = attr[len("persona_"):]
            where = f"{iid} {scale} ({mod}) by {label}"
            values = data.index.map(people[attr].astype(str).where(people[attr].notna()))
            counts = pd.Series(values).dropna().value_counts().sort_index()
            big = [v for v, n in counts.items() if n >= need]
            if len(big) < 2:
                sizes = ", ".join(f"{v} {n}" for v, n in counts.items())
                st.note("personas", f"{where}: measurement invariance withheld: it needs at least two groups of "
                                    f"{need} or more personas with every item answered (max(items + "
                                    f"{INVARIANCE_EXTRA}, {MIN_INVARIANCE_GROUP}) for {k} items); the groups hold "
                                    f"{sizes} personas.")
                continue
            frame = data[items].rename(columns=names).assign(group=list(values))
            frame = frame[frame["group"].isin(big)]
            if len(big) < len(counts):
                small = ", ".join(f"{v} ({counts[v]})" for v in counts.index if v not in big)
                st.note("personas", f"{where}: groups below {need} personas left out of the invariance test: "
                                    f"{small}.")
            res = attempt(st, "personas", f"{where}: invariance",
                          lambda frame=frame: invariance(model, frame.reset_index(drop=True), "group",
                                                         partial=PARTIAL_FREED))
            if res is None:
                continue
            t = res.table.drop(columns=["group_equal"])
            t.insert(0, "groups", ", ".join(f"{g} (n = {n})" for g, n in zip(res.groups, res.n_obs)))
            for col, val in (("scale", scale), ("instrument", iid), ("model", mod), ("attribute", label)):
                t.insert(0, col, val)
            rows.append(t)
            st.note("personas", f"{where}: highest invariance level that holds: "
                                f"{res.highest or res.no_level()}.")
            back = {v: k_ for k_, v in names.items()}
            for _, r in res.partial.head(PARTIAL_FREED).iterrows():
                par = str(r["parameter"])
                var = par.split("=~")[1] if "=~" in par else par.split("~")[0]
                part_rows.append({"attribute": label, "model": mod, "instrument": iid, "scale": scale,
                                  "level": r["level"], "item": back.get(var.strip(), var),
                                  "parameter": par, "chisq_drop": r["chisq_drop"], "delta_cfi": r["delta_cfi"]})
    inv = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if len(inv):
        inv["holds"] = inv["holds"].astype(bool)
    return inv, pd.DataFrame(part_rows)


def attribute_effects(ctx: Context) -> pd.DataFrame:
    """Scale scores by persona attribute: Cohen's d / Hedges' g with CIs for every pair of attribute values
    (:func:`psychometrika.stats.compare_groups` on the personas' mean scale scores), per model and scale."""
    people = _people(ctx.responses)
    attrs = _attributes(people, MIN_GROUP)
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
    """Tables ``persona_population``, ``persona_attribute_effects``, ``persona_invariance`` (and
    ``persona_invariance_partial``), ``shaping_validity``, ``shaping_matrix``, ``shaping_levels``."""
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
    inv, part = attribute_invariance(ctx)
    if len(inv):
        st.add("persona_invariance", inv, "personas", ids=["attribute", "model", "instrument", "scale", "groups",
                                                           "level"])
    if len(part):
        st.add("persona_invariance_partial", part, "personas",
               ids=["attribute", "model", "instrument", "scale", "level", "item", "parameter"])
    if not any(c.startswith(TARGET_PREFIX) for c in resp.columns):
        st.note("personas", "No persona was trait-shaped (personas: {shaping: ...}), so shaping validity is not "
                            "computed.")
        return
    lik = {i: ctx.instruments[i] for i in ctx.likert_ids}
    scores = ctx.scale_scores[ctx.scale_scores["instrument"].isin(list(lik))]
    administered = {i for i in set(resp["instrument"]) if instrument_kind(ctx.instruments[i]) == "questionnaire"}
    gone = sorted(administered - set(scores["instrument"]))
    if gone:  # screened out: a shaping rho over position-driven answers would measure the option order
        st.note("personas", f"Shaping validity withheld for {', '.join(gone)}: every answer of "
                            f"{'this instrument' if len(gone) == 1 else 'these instruments'} was screened out as "
                            "invalid (see the screening table in chapter 01), so a correlation of target level and "
                            "score would describe how the model answered by position, not the personas.")
    if scores.empty:
        return
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
