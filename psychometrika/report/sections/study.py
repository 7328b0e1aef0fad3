"""Section ``study`` (chapter 00): what was run — the manifest's instruments, models, design factors, personas,
cell counts and package versions, and the hashes that identify the study and its answers."""

from __future__ import annotations

import json

import pandas as pd

from ..run_data import data_hash
from .context import Context


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
    st.add("versions", pd.DataFrame(sorted((m.get("versions") or {}).items()), columns=["package", "version"]),
           "study", "meta", ids=["package"])
