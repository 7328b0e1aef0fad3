"""Section ``study`` (chapter 00): what was run — the manifest's instruments, models, design factors, personas,
cell counts and package versions, and the hashes that identify the study and its answers."""

from __future__ import annotations

import json

import pandas as pd

from ..run_data import data_hash
from .context import Context


def respondents(df: pd.DataFrame, resp_cols: list[str]) -> pd.DataFrame:
    """The unit of analysis per model and instrument: ``personas`` (the population, the no-persona condition not
    counted), ``shaped`` (trait-shaped among them), ``no_persona`` (whether the no-persona condition was
    administered), ``conditions_per_persona`` (instruction wording x stem x option order x labels x seed x
    repetition) and ``respondents`` (persona x condition: the respondents of the reliability, factor and
    correlation tables)."""
    rows = []
    cond_cols = [c for c in resp_cols if c != "persona"]
    for (model, inst), g in df.groupby(["model", "instrument"], sort=True):
        people = g.drop_duplicates("persona")
        real = people[people["persona"] != "none"]
        shaped = int(real["persona_shaping_design"].notna().sum()) if "persona_shaping_design" in real else 0
        rows.append({"model": model, "instrument": inst, "personas": int(len(real)), "shaped": shaped,
                     "no_persona": bool((people["persona"] == "none").any()),
                     "conditions_per_persona": int(g.groupby(cond_cols, dropna=False).ngroups) if cond_cols else 1,
                     "respondents": int(g.groupby(resp_cols, dropna=False).ngroups) if resp_cols else 1})
    return pd.DataFrame(rows, columns=["model", "instrument", "personas", "shaped", "no_persona",
                                       "conditions_per_persona", "respondents"])


def _count(values: pd.Series) -> str:
    lo, hi = int(values.min()), int(values.max())
    return str(lo) if lo == hi else f"{lo}-{hi}"


def unit_of_analysis(table: pd.DataFrame | None) -> str:
    """The sentence every chapter prints on what a respondent is, from the ``respondents`` table."""
    if table is None or table.empty:
        return ("A respondent is one administration condition (persona x instruction wording x option order x "
                "seed) of a model.")
    pop = table.drop_duplicates(["personas", "shaped", "no_persona"])
    r = table.iloc[0]
    n, shaped = int(r["personas"]), int(r["shaped"])
    if len(pop) > 1:
        people = f"populations of {_count(table['personas'])} persona(s) (the instruments differ)"
    elif n:
        people = f"a population of {n} persona(s)" + (f" ({shaped} trait-shaped, {n - shaped} other)" if shaped else "")
        if bool(r["no_persona"]):
            people += " plus the no-persona condition"
    else:
        people = "no persona (the model as it is)"
    by_inst = table["instrument"].nunique() > 1 and table["conditions_per_persona"].nunique() > 1
    return (f"The respondents are {people}, each answering under {_count(table['conditions_per_persona'])} "
            f"administration condition(s) (instruction wording x option order x labels x seed"
            f"{'; the number depends on the instrument' if by_inst else ''}): {_count(table['respondents'])} "
            f"respondents per model and instrument, all of them conditions of the same model; there are "
            f"{table['model'].nunique()} independent model(s).")


def compute(ctx: Context) -> None:
    """Provenance tables: run info, instruments, models, design factors, personas, cell counts, versions."""
    from ... import __version__

    st, m, df = ctx.stats, ctx.manifest, ctx.all_responses
    info = [("study id", m.get("study_id")), ("study hash (sha256 of the normalised study file)", m.get("study_hash")),
            ("data hash (sha256 of all answers)", data_hash(df)), ("seed", m.get("seed")),
            ("created", m.get("created")), ("updated", m.get("updated")),
            ("planned responses", m.get("planned_rows")), ("stored responses", m.get("stored_rows")),
            ("complete", m.get("complete")), ("mode", ", ".join(sorted(set(df.get("mode", pd.Series(["?"])))))),
            ("scores from", "option probabilities (expected value)" if ctx.source == "expected"
             else "the chosen / parsed answer"),
            ("python", (m.get("platform") or {}).get("python")), ("platform", (m.get("platform") or {}).get("system")),
            ("machine", (m.get("platform") or {}).get("machine")),
            ("psychometrika (report build)", __version__)]
    st.add("run_info", pd.DataFrame(info, columns=["field", "value"]).astype({"value": str}), "study", "meta",
           ids=["field"])
    rows = []
    for rec in m.get("instruments", []):
        ins = ctx.instruments.get(rec.get("id"))
        cits = rec.get("citation") or []
        lic = rec.get("licence") or {}
        rows.append({"instrument": rec.get("id"), "name": rec.get("name"), "version": rec.get("version"),
                     "family": ins.family if ins is not None else None,
                     "format": ins.response_format.type if ins is not None else None,
                     "items": rec.get("n_items"), "citation": " ".join(c.get("text", "") for c in cits),
                     "doi": "; ".join(c["doi"] for c in cits if c.get("doi")),
                     "licence": lic.get("id"), "research use only": bool(lic.get("research_use_only")),
                     "terms": lic.get("redistribution"), "sha256": rec.get("sha256"),
                     "sha256 matches": (ins is not None and ins.sha256 == rec.get("sha256"))})
    st.add("instruments", pd.DataFrame(rows), "study", "meta", ids=["instrument"])
    mods = []
    for mid, rec in (m.get("models") or {}).items():
        mods.append({"model": mid, "backend": rec.get("backend"), "model file / id": rec.get("model_id")
                     or rec.get("model"), "weights sha256": rec.get("weights_sha256"), "dtype": rec.get("dtype"),
                     "device": rec.get("device"), "settings": json.dumps(rec.get("settings") or {}, sort_keys=True)})
    st.add("models", pd.DataFrame(mods), "study", "meta", ids=["model"])
    cells = m.get("design_cells") or {}
    factors = pd.DataFrame([(k, int(v)) for k, v in cells.items()], columns=["factor", "levels"])
    st.add("design_factors", factors, "study", "meta", ids=["factor"])
    persona_text = {p["id"]: p.get("text", "") for p in ((m.get("study") or {}).get("personas") or {}).get("items", [])}
    personas = sorted(set(df["persona"]))
    st.add("personas", pd.DataFrame({"persona": personas,
                                     "system prompt": [persona_text.get(p, "(no persona)" if p == "none" else "")
                                                       for p in personas]}), "study", "meta", ids=["persona"])
    rid = df.groupby(ctx.resp_cols, sort=False, dropna=False).ngroup().rename("_respondent")
    g = df.assign(_respondent=rid, _ok=df["status"].eq("ok")).groupby(["model", "instrument", "persona"], sort=True)
    counts = g.agg(responses=("cell_key", "size"), ok=("_ok", "sum"), items=("item", "nunique"),
                   respondents=("_respondent", "nunique")).reset_index()
    counts["ok"] = counts["ok"].astype(int)
    st.add("cell_counts", counts, "study", "stat", ids=["model", "instrument", "persona"])
    st.add("respondents", respondents(df, ctx.resp_cols), "study", "stat", ids=["model", "instrument"])
    st.add("versions", pd.DataFrame(sorted((m.get("versions") or {}).items()), columns=["package", "version"]),
           "study", "meta", ids=["package"])
