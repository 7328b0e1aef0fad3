"""Section ``factor`` (chapter 03): parallel analysis (:func:`psychometrika.stats.fa_parallel`), an oblimin EFA
with as many factors as the instrument has domains (:func:`~psychometrika.stats.fa`), its congruence with the
human loading pattern of the norms or with the scoring key (:func:`~psychometrika.stats.congruence`), and a CFA of
the intended structure (:func:`~psychometrika.stats.cfa`)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ...instruments.schema import Instrument
from ...stats import cfa, congruence, fa, fa_parallel
from ...stats.guards import guard
from ..results import ReportStatistics
from .context import Context, as_float, attempt, domains, item_text, ordered_items, wide

#: Fewest items and respondents for a factor analysis at all.
MIN_ITEMS, MIN_RESPONDENTS = 3, 4
#: Simulated data sets of the parallel analysis.
PARALLEL_ITERATIONS = 20
#: Fewest items with human loadings for the norms' pattern to be the congruence target.
MIN_TARGET_ITEMS = 3
#: EFA fit statistics reported (those :func:`~psychometrika.stats.fa` gives).
EFA_FIT = ("rms", "crms", "TLI", "RMSEA", "RMSEA_lower", "RMSEA_upper", "BIC", "fit_off")


def compute(ctx: Context) -> None:
    """The ``parallel``, ``parallel_summary``, ``efa_loadings``, ``efa_fit``, ``congruence``,
    ``congruence_summary``, ``cfa_fit`` and ``cfa_loadings`` tables."""
    st = ctx.stats
    par, par_sum, loads, fits, cong, cong_sum, cfa_fit, cfa_load = [], [], [], [], [], [], [], []
    for iid in ctx.likert_ids:
        ins = ctx.instruments[iid]
        sub_all = ctx.item_scores[ctx.item_scores["instrument"] == iid]
        for model, sub in sub_all.groupby("model", sort=True):
            data = wide(sub, ctx.resp_cols, "value")
            data = data[ordered_items(ins, data.columns)]
            n, k = data.shape
            where = f"{iid} ({model})"
            doms = domains(ins, data.columns)
            if k < MIN_ITEMS or n < MIN_RESPONDENTS:
                st.note("factor", f"{where}: {k} item(s), {n} respondent(s) — too few for factor analysis.")
                continue
            rule = guard("efa", n, items=k, warn=False)  # n <= items: a singular correlation matrix
            if not rule.estimable:
                st.note("factor", f"{where}: parallel analysis, EFA and CFA {rule.text()}; no factor solution "
                                  "is shown.")
                continue
            if not rule.adequate:
                st.note("factor", f"{where}: caution: too little information for a stable factor solution "
                                  f"({rule.reason}).")
            p = attempt(st, "factor", f"{where}: parallel analysis",
                        lambda: fa_parallel(data, n_iter=PARALLEL_ITERATIONS, seed=ctx.seed))
            if p is not None:
                for j in range(len(p.pc_values)):
                    par.append({"instrument": iid, "model": model, "factor": j + 1,
                                "fa_observed": float(p.fa_values[j]), "fa_simulated": float(p.fa_sim[j]),
                                "pc_observed": float(p.pc_values[j]), "pc_simulated": float(p.pc_sim[j])})
                par_sum.append({"instrument": iid, "model": model, "n": n, "items": k, "intended_factors": len(doms),
                                "suggested_factors": int(p.nfact), "suggested_components": int(p.ncomp)})
            nf = max(1, min(len(doms), k - 1))
            f = attempt(st, "factor", f"{where}: EFA", lambda: fa(data, nfactors=nf, rotate="oblimin"))
            if f is not None:
                L = f.loadings
                for item in L.index:
                    for fac in L.columns:
                        loads.append({"instrument": iid, "model": model, "item": item,
                                      "text": item_text(ins, item), "intended": _intended(item, doms),
                                      "factor": fac, "loading": float(L.loc[item, fac])})
                fits.append({"instrument": iid, "model": model, "n": n, "items": k, "factors": nf,
                             **{c: float(f.fit[c]) for c in EFA_FIT if c in f.fit}})
                target, tname = _target(ins, L.index, doms)
                if target is not None:
                    _congruence(st, L.loc[target.index], target, iid, model, tname, cong, cong_sum)
            if doms:
                _cfa(st, data, doms, iid, model, n, cfa_fit, cfa_load)
    if not ctx.likert_ids:
        st.note("factor", "No questionnaire (Likert) instrument in this study: no factor analysis.")
    st.add("parallel", pd.DataFrame(par, columns=["instrument", "model", "factor", "fa_observed", "fa_simulated",
                                                  "pc_observed", "pc_simulated"]), "factor",
           ids=["instrument", "model", "factor"])
    st.add("parallel_summary", pd.DataFrame(par_sum, columns=["instrument", "model", "n", "items",
                                                              "intended_factors", "suggested_factors",
                                                              "suggested_components"]), "factor",
           ids=["instrument", "model"])
    st.add("efa_loadings", pd.DataFrame(loads, columns=["instrument", "model", "item", "text", "intended", "factor",
                                                        "loading"]), "factor")
    st.add("efa_fit", pd.DataFrame(fits), "factor", ids=["instrument", "model"])
    st.add("congruence", pd.DataFrame(cong, columns=["instrument", "model", "target", "efa_factor", "target_factor",
                                                     "phi"]), "factor")
    st.add("congruence_summary", pd.DataFrame(cong_sum, columns=["instrument", "model", "target", "target_factor",
                                                                 "best_efa_factor", "phi", "phi_procrustes"]),
           "factor", ids=["instrument", "model", "target", "target_factor", "best_efa_factor"])
    if cfa_fit:
        st.add("cfa_fit", pd.DataFrame(cfa_fit), "factor", ids=["instrument", "model"])
    if cfa_load:
        st.add("cfa_loadings", pd.concat(cfa_load, ignore_index=True), "factor")


def _cfa(st: ReportStatistics, data: pd.DataFrame, doms: dict[str, list[str]], iid: str, model: str, n: int,
         cfa_fit: list, cfa_load: list) -> None:
    """CFA of the intended structure: each domain with at least two items loads on its own factor."""
    syntax = "\n".join(f"{s} =~ " + " + ".join(its) for s, its in doms.items() if len(its) >= 2)
    if not syntax:
        return
    where = f"{iid} ({model})"
    items = [i for its in doms.values() if len(its) >= 2 for i in its]
    res = attempt(st, "factor", f"{where}: CFA", lambda: cfa(syntax, data[items]))
    if res is None:
        return
    fm = attempt(st, "factor", f"{where}: CFA fit", lambda: res.fit_measures())
    if fm is not None:
        fm = pd.Series(fm)  # lavaan's names only, not their underscore aliases
        fm = fm[[c for c in fm.index if c.replace("_", ".") == c or c.replace("_", ".") not in fm]]
        cfa_fit.append({"instrument": iid, "model": model, "n": n, "items": len(items),
                        **{str(c): as_float(v) for c, v in fm.items()}})
    ss = attempt(st, "factor", f"{where}: CFA loadings", lambda: res.standardized_solution())
    if ss is not None:
        ss = ss[ss["op"] == "=~"].reset_index(drop=True)
        ss.insert(0, "model", model)
        ss.insert(0, "instrument", iid)
        cfa_load.append(ss)


def _intended(item: str, doms: dict[str, list[str]]) -> str:
    return next((s for s, its in doms.items() if item in its), "")


def _target(ins: Instrument, items: Iterable[str], doms: dict[str, list[str]]
            ) -> tuple[pd.DataFrame | None, str]:
    """The human loading pattern of the norms (preferred) or the scoring key (+1/-1 on the intended scale)."""
    items = list(items)
    if ins.norms is not None and ins.norms.loadings:
        rows = {i: ins.norms.loadings[i] for i in items if i in ins.norms.loadings}
        if len(rows) >= MIN_TARGET_ITEMS:
            t = pd.DataFrame.from_dict(rows, orient="index").fillna(0.0)
            return t, f"human loadings ({ins.norms.loadings_source or 'instrument norms'})"
    if not doms:
        return None, ""
    t = pd.DataFrame(0.0, index=items, columns=list(doms))
    for s, its in doms.items():
        for i in its:
            t.loc[i, s] = float(ins.item(i).keyed)
    return t, "scoring key"


def _congruence(st: ReportStatistics, L: pd.DataFrame, target: pd.DataFrame, iid: str, model: str, tname: str,
                cong: list, cong_sum: list) -> None:
    c = attempt(st, "factor", f"{iid} ({model}): congruence", lambda: congruence(L, target))
    if c is None:
        return
    for ef in c.index:
        for tf in c.columns:
            cong.append({"instrument": iid, "model": model, "target": tname, "efa_factor": str(ef),
                         "target_factor": str(tf), "phi": float(c.loc[ef, tf])})
    proc = None
    if L.shape[1] == target.shape[1] and L.shape[1] > 1:
        proc = attempt(st, "factor", f"{iid} ({model}): Procrustes congruence",
                       lambda: congruence(L, target, procrustes=True))
    for j, tf in enumerate(c.columns):
        col = c[tf].abs()
        best = col.idxmax() if col.notna().any() else None
        cong_sum.append({"instrument": iid, "model": model, "target": tname, "target_factor": str(tf),
                         "best_efa_factor": str(best), "phi": float(c.loc[best, tf]) if best is not None else np.nan,
                         "phi_procrustes": float(proc.iloc[j, j]) if proc is not None else np.nan})
