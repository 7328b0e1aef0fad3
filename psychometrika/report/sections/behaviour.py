"""Section ``behaviour`` (chapter 04): questionnaire scale scores against situational-judgement / behavioural
scale scores of the same respondents (:func:`psychometrika.stats.cor_ci`), and the multitrait-multimethod matrix
of traits measured both ways (:func:`~psychometrika.stats.mtmm`)."""

from __future__ import annotations

import pandas as pd

from ...stats import cor_ci, mtmm
from ...stats.guards import holm
from .context import Context, attempt, label

#: Fewest paired respondents for a correlation.
MIN_PAIRS = 4
COLUMNS = ["model", "questionnaire", "behaviour", "trait_q", "trait_b", "same_trait", "n", "r", "ci_low", "ci_high",
           "p", "p_holm"]


def compute(ctx: Context) -> None:
    """The ``self_behaviour`` and ``mtmm`` tables and the pairing sentence (``texts['behaviour_pairing']``)."""
    st = ctx.stats
    sc = ctx.scale_scores.dropna(subset=["score"])
    if not ctx.sjt_ids or not ctx.likert_ids:
        st.note("behaviour", "This study has no pair of questionnaire and situational-judgement/behavioural "
                             "instruments, so self-report cannot be compared with behaviour.")
        return
    trait = {(i, s.id): s.name.strip().lower() for i, ins in ctx.instruments.items() for s in ins.scales}
    sc = sc.assign(trait=[trait.get((i, s), s) for i, s in zip(sc["instrument"], sc["scale"])],
                   measure=sc["instrument"] + ":" + sc["scale"])
    keys, how = _pairing(sc, ctx)
    st.texts["behaviour_pairing"] = how
    scores = sc.pivot_table(index=keys, columns="measure", values="score", aggfunc="mean")
    kind = {m: ("questionnaire" if m.split(":", 1)[0] in ctx.likert_ids else "behaviour") for m in scores.columns}
    rows = []
    tr = dict(zip(sc["measure"], sc["trait"]))
    models = scores.index.get_level_values("model").unique() if "model" in keys else [None]
    for model in models:
        w = scores.xs(model, level="model") if model is not None else scores
        for q in [m for m in w.columns if kind[m] == "questionnaire"]:
            for b in [m for m in w.columns if kind[m] == "behaviour"]:
                pair = w[[q, b]].dropna()
                row = {"model": model, "questionnaire": q, "behaviour": b, "trait_q": tr[q], "trait_b": tr[b],
                       "same_trait": tr[q] == tr[b], "n": len(pair)}
                if len(pair) >= MIN_PAIRS and pair[q].std() > 0 and pair[b].std() > 0:
                    res = attempt(st, "behaviour", f"{q} vs {b} ({model})",
                                  lambda: cor_ci(pair[q].to_numpy(), pair[b].to_numpy()))
                    if res is not None:
                        r0 = res.iloc[0]   # pm.cor_ci's CI_low/CI_high -> this table's ci_low/ci_high
                        row.update(r=float(r0["r"]), ci_low=float(r0["CI_low"]), ci_high=float(r0["CI_high"]),
                                   p=float(r0["p"]))
                rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for _, idx in table.groupby("model", dropna=False).groups.items():  # Holm over each model's table
        table.loc[idx, "p_holm"] = holm(table.loc[idx, "p"].tolist())
    st.add("self_behaviour", table, "behaviour",
           ids=["model", "questionnaire", "behaviour", "trait_q", "trait_b", "same_trait"])
    _mtmm(ctx, sc, keys)


def _mtmm(ctx: Context, sc: pd.DataFrame, keys: list[str]) -> None:
    st = ctx.stats
    shared = sc.groupby("trait")["instrument"].nunique()
    multi = sc[sc["trait"].isin(shared[shared >= 2].index)]
    if multi.empty:
        st.note("behaviour", "No trait is measured by both a questionnaire and a behavioural instrument (scales are "
                             "matched by name), so there is no multitrait-multimethod matrix.")
        return
    mats = []
    for model, msub in multi.groupby("model", sort=True):
        long = msub.groupby([k for k in keys if k != "model"] + ["trait", "instrument"], dropna=False)["score"] \
            .mean().reset_index().rename(columns={"instrument": "method"})
        res = attempt(st, "behaviour", f"MTMM ({model})",
                      lambda: mtmm(long, trait="trait", method="method", value="score"))
        if res is None:
            continue
        m = res.matrix.copy()
        m.index = [label(i) for i in m.index]
        m.columns = [label(c) for c in m.columns]
        m = m.reset_index(names="measure")
        m.insert(0, "model", model)
        mats.append(m)
        st.texts[f"mtmm_summary_{model}"] = str(res.summary())
    if mats:
        st.add("mtmm", pd.concat(mats, ignore_index=True), "behaviour", ids=["model", "measure"])


def _pairing(sc: pd.DataFrame, ctx: Context) -> tuple[list[str], str]:
    """Respondent keys on which questionnaire and behavioural scores are paired."""
    full = list(ctx.resp_cols)
    q = sc[sc["instrument"].isin(ctx.likert_ids)][full].drop_duplicates()
    b = sc[sc["instrument"].isin(ctx.sjt_ids)][full].drop_duplicates()
    if len(q.merge(b, on=full)) >= MIN_PAIRS:
        return full, ("Questionnaire and behavioural scores are paired per administration condition (same model, "
                      "persona, instruction id, option order, labels, seed and repetition).")
    coarse = [c for c in ("model", "persona", "label_scheme", "seed", "repetition") if c in full]
    return coarse, ("The instruments were given under conditions that do not match one to one, so each "
                    "instrument's scores are averaged over its conditions and paired per model, persona, labels, "
                    "seed and repetition.")
