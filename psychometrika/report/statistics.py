"""Every statistic a report shows, computed once from a run folder as named tidy tables.

:func:`compute_statistics` is the single place where a run becomes numbers: ``psychometrika report`` writes its
tables for the book's chapters (which only display and plot them) and ``psychometrika reproduce`` computes it for
the original run and the re-run and diffs :func:`flatten_statistics` of both (:func:`diff_statistics`).

Sections (the chapters of the book):

``study``      manifest: instruments, models, design factors, cell counts, versions, data hash
``quality``    refusal/unparseable rates, chosen answer positions, ``pm.response_quality``, ``pm.positional_bias``,
               ``pm.order_sensitivity``, ``pm.paraphrase_sensitivity``
``reliability`` ``pm.alpha`` (Feldt CI), ``pm.omega``, ``pm.split_half`` per instrument x scale x model, item
               statistics, scale descriptives against human norms (``pm.compare_norms``)
``factor``     ``pm.fa_parallel``, ``pm.fa`` (oblimin), ``pm.congruence`` with human loadings or the scoring key,
               ``pm.cfa`` of the intended structure
``behaviour``  questionnaire versus SJT/behavioural scale scores (``pm.cor_ci``), ``pm.mtmm``
``effects``    ``pm.compare_groups`` between personas, models and conditions
``gstudy``     ``pm.g_study`` variance components by facet

Statistics that cannot be computed for a cell (too few respondents, a function not available in this version)
become a *note* of their section instead of an error, so a report always builds and says what is missing.
Everything random is seeded with the study's seed, so the same responses always give the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PsychometrikaError
from ..instruments.schema import Instrument
from .errors import ReportError

SECTIONS = ("study", "quality", "reliability", "factor", "behaviour", "effects", "gstudy", "comparability")

#: respondent columns (``psychometrika.scoring.RESPONDENT_COLUMNS``)
RESPONDENT = ("model", "persona", "instruction_id", "stem_id", "order_id", "label_scheme", "seed", "repetition")
#: design conditions compared in the effect-size chapter (besides models and personas)
CONDITIONS = ("instruction_id", "order_id", "label_scheme", "stem_id")
#: facets offered to the G study when they vary
GFACETS = ("persona", "item", "instruction_id", "order_id", "label_scheme", "stem_id", "repetition")

Progress = Callable[[str], None]


# ============================================================================================ containers
@dataclass
class ReportStatistics:
    """The statistics of one run.

    Attributes
    ----------
    tables : name -> tidy DataFrame (written as ``name.csv`` for the book and its downloads).
    kinds : name -> ``"stat"`` (a reported statistic, compared by ``reproduce``), ``"meta"`` (provenance:
        versions, times, hashes) or ``"data"`` (item-level data, covered by the data hash).
    ids : name -> the columns that identify a row (the others are values).
    section : name -> the chapter that shows it.
    notes : section -> sentences on what could not be computed and why.
    texts : name -> preformatted ``.summary()`` text.
    manifest : the run's manifest.
    seconds : section -> computing time.
    responses : the tidy response table the statistics were computed from (not written by
        :func:`write_statistics`).
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)
    section: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    texts: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    responses: pd.DataFrame | None = field(default=None, repr=False)
    _warnings: list[dict[str, str]] = field(default_factory=list)

    def add(self, name: str, df: pd.DataFrame, section: str, kind: str = "stat",
            ids: Sequence[str] | None = None) -> pd.DataFrame:
        df = _numeric_columns(df.reset_index(drop=True), exclude=ids or ())
        self.tables[name] = df
        self.kinds[name] = kind
        self.section[name] = section
        self.ids[name] = list(ids) if ids is not None else [c for c in df.columns if not _is_numeric(df[c])]
        return df

    def note(self, section: str, text: str) -> None:
        if text not in self.notes.setdefault(section, []):
            self.notes[section].append(text)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def index(self) -> pd.DataFrame:
        """One row per table: name, section, kind, rows, columns."""
        return pd.DataFrame([{"table": n, "section": self.section[n], "kind": self.kinds[n], "rows": len(df),
                              "columns": len(df.columns)} for n, df in self.tables.items()])


def _numeric_columns(df: pd.DataFrame, exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Object columns holding only numbers and missing values (e.g. after a left merge) become float."""
    skip = set(exclude)
    for c in df.columns:
        s = df[c]
        if c in skip or _is_numeric(s) or pd.api.types.is_bool_dtype(s):
            continue
        if s.isna().all():
            df[c] = s.astype(float) if len(s) else s
            continue
        v = s.dropna()
        if v.map(lambda x: isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)).all():
            df[c] = pd.to_numeric(s, errors="coerce").astype(float)
    return df


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


class _Missing(Exception):
    """A statistics function of psychometrika is not available in this version."""


def _api(name: str) -> Callable[..., Any]:
    """``pm.<name>`` or :class:`_Missing` (statistics are imported lazily, some arrive in later versions)."""
    import psychometrika as pm

    try:
        return getattr(pm, name)
    except AttributeError:
        raise _Missing(f"`pm.{name}` is not available in this version of psychometrika") from None


class _Ctx:
    """What every section needs: responses, instruments, scores."""

    def __init__(self, responses: pd.DataFrame, manifest: dict[str, Any], instruments: dict[str, Instrument],
                 stats: ReportStatistics):
        from ..scoring import item_scores, scale_scores

        self.responses = responses
        self.manifest = manifest
        self.instruments = instruments
        self.stats = stats
        self.seed = int(manifest.get("seed") or 0)
        modes = set(responses["mode"]) if "mode" in responses else {"score"}
        self.source = "expected" if modes == {"score"} else "chosen"
        self.resp_cols = [c for c in RESPONDENT if c in responses.columns]
        self.likert_ids = [i for i in sorted(set(responses["instrument"])) if _kind(instruments[i]) == "questionnaire"]
        self.sjt_ids = [i for i in sorted(set(responses["instrument"])) if _kind(instruments[i]) == "behaviour"]
        lik = responses[responses["instrument"].isin(self.likert_ids)]
        self.item_scores = (item_scores(lik, {i: instruments[i] for i in self.likert_ids}, source=self.source)
                            if len(lik) else lik.assign(value=np.nan, score=np.nan))
        self.scale_scores = scale_scores(responses, instruments, source=self.source, by=self.resp_cols)
        self.item_long = self._item_long()
        self.g_results: dict[tuple[str, str, str], Any] = {}   # G studies of the gstudy section, reused

    def _item_long(self) -> pd.DataFrame:
        """Respondent x instrument x scale x item scores (Likert keyed scores; SJT option-weighted trait scores)."""
        from ..scoring import sjt_trait_scores

        keep = [*self.resp_cols, "instrument", "item", "value", "score", "status"]
        parts = []
        for iid in self.likert_ids:
            ins = self.instruments[iid]
            sub = self.item_scores[self.item_scores["instrument"] == iid][keep]
            members = pd.DataFrame([(s, i) for s, items in ins.scale_items().items() for i in items],
                                   columns=["scale", "item"])
            parts.append(sub.merge(members, on="item", how="inner"))
        for iid in self.sjt_ids:
            sub = self.responses[self.responses["instrument"] == iid]
            t = sjt_trait_scores(sub, self.instruments[iid], source=self.source, by=self.resp_cols)
            t.insert(len(self.resp_cols), "instrument", iid)
            t["value"] = t["score"]
            parts.append(t)
        if not parts:
            return pd.DataFrame(columns=[*keep, "scale"])
        out = pd.concat(parts, ignore_index=True)
        return out[[*self.resp_cols, "instrument", "scale", "item", "value", "score", "status"]]


def _kind(ins: Instrument) -> str:
    t = ins.response_format.type
    if t == "multiple_choice":
        return "behaviour"
    if t in ("likert", "numeric"):
        return "questionnaire"
    return "other"


def _domains(ins: Instrument, items: Iterable[str]) -> dict[str, list[str]]:
    """Top-level scales (no parent) -> their administered items, in instrument order."""
    have = set(items)
    members = ins.scale_items()
    out = {}
    for sc in ins.scales:
        if sc.parent is None:
            its = [i for i in members.get(sc.id, []) if i in have]
            if its:
                out[sc.id] = its
    return out


def _item_text(ins: Instrument, item_id: str) -> str:
    try:
        it = ins.item(item_id)
    except KeyError:
        return ""
    return it.text or it.scenario or ""


def _fmt_exc(exc: BaseException) -> str:
    msg = exc.message if isinstance(exc, PsychometrikaError) else str(exc)
    msg = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return msg if isinstance(exc, (PsychometrikaError, _Missing)) else f"{type(exc).__name__}: {msg}"


def _call(stats: ReportStatistics, section: str, context: str, fn: Callable[[], Any]) -> Any:
    """Run one statistic; failures become a note of the section, warnings are recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return fn()
        except _Missing as exc:
            stats.note(section, f"{exc}; this part of the chapter is left out.")
            return None
        except (PsychometrikaError, ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError,
                KeyError, IndexError, TypeError, RuntimeError) as exc:
            stats.note(section, f"{context}: not computed ({_fmt_exc(exc)}).")
            return None
        finally:
            for w in caught:
                stats._warnings.append({"section": section, "context": context, "warning": str(w.message)})


def _wide(long: pd.DataFrame, keys: Sequence[str], value: str) -> pd.DataFrame:
    w = long.pivot_table(index=list(keys), columns="item", values=value, aggfunc="first", dropna=False)
    w.columns.name = None
    w = w.dropna(axis=1, how="all").dropna(axis=0, how="all")
    return w


def _ordered_items(ins: Instrument, cols: Iterable[str]) -> list[str]:
    pos = {it.id: k for k, it in enumerate(ins.items)}
    return sorted(cols, key=lambda c: pos.get(c, 10 ** 6))


# ============================================================================================ loading
def load_run(run_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Instrument]]:
    """The response table, manifest and instruments (matched by id; file hashes checked) of a run folder."""
    from ..instruments import load_instrument
    from ..store.store import read_manifest, read_run

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    df = read_run(run_dir)
    if df.empty:
        raise ReportError(f"{run_dir} holds no responses yet", hint="run the study first: psychometrika run ...")
    wanted = sorted(set(df["instrument"]))
    found: dict[str, Instrument] = {}
    candidates: list[str] = []
    study = manifest.get("study") or {}
    for choice in study.get("instruments", []):
        candidates.append(choice if isinstance(choice, str) else choice.get("id"))
    study_file = run_dir / "study.yaml"
    for c in candidates:
        for ref in (c, str((study_file.parent / c))) if c else ():
            try:
                ins = load_instrument(ref)
            except (PsychometrikaError, KeyError, OSError):
                continue
            found.setdefault(ins.id, ins)
            break
    for iid in wanted:
        if iid not in found:
            try:
                found[iid] = load_instrument(iid)
            except (PsychometrikaError, KeyError) as exc:
                raise ReportError(f"instrument {iid!r} of this run cannot be loaded ({_fmt_exc(exc)})",
                                  hint="install the plugin that provides it, or run from the folder the "
                                       "study file's instrument paths are relative to") from None
    return df, manifest, {i: found[i] for i in wanted}


def data_hash(responses: pd.DataFrame) -> str:
    """sha256 of the answers of a run (cell keys, statuses, option probabilities, values, texts), row-order free.

    Two runs with the same hash gave the same answer to every prompt.
    """
    cols = [c for c in ("cell_key", "status", "chosen_option", "chosen_value", "expected_value", "parsed_value",
                        "probs", "raw_text") if c in responses.columns]
    df = responses[cols].sort_values("cell_key", kind="stable")
    h = hashlib.sha256()
    for row in df.itertuples(index=False):
        h.update(json.dumps([_canon(v) for v in row], separators=(",", ":")).encode())
        h.update(b"\n")
    return h.hexdigest()


def _canon(v: Any) -> Any:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_canon(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


# ============================================================================================ main entry
def compute_statistics(run_dir: str | Path, *, sections: Sequence[str] = SECTIONS,
                       progress: Progress | None = None) -> ReportStatistics:
    """Compute every statistic of the report of a run folder.

    Parameters
    ----------
    run_dir : a run folder written by ``psychometrika run`` (``manifest.json`` + response shards).
    sections : which chapters to compute (default: all of :data:`SECTIONS`).
    progress : called with the name of each step (for progress bars).

    Returns
    -------
    ReportStatistics with tidy tables such as ``reliability`` (alpha, Feldt CI, omega, split-half per
    instrument x scale x model), ``efa_loadings``, ``effect_sizes``, ``g_components``; see the module docstring.

    Example
    -------
    >>> st = compute_statistics("runs/quickstart")                     # doctest: +SKIP
    >>> st["reliability"][["instrument", "scale", "model", "alpha"]]   # doctest: +SKIP
    """
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ReportError(f"unknown report section(s) {unknown}", hint=f"choose from {list(SECTIONS)}")
    say = progress or (lambda _s: None)
    try:  # the matrices are small: one BLAS thread is several times faster than many competing ones
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return _compute(run_dir, sections, say)
    with threadpool_limits(limits=1):
        return _compute(run_dir, sections, say)


def _compute(run_dir: str | Path, sections: Sequence[str], say: Progress) -> ReportStatistics:
    stats = ReportStatistics()
    say("reading the run")
    t0 = time.perf_counter()
    responses, manifest, instruments = load_run(run_dir)
    stats.manifest = manifest
    stats.responses = responses
    say("scoring")
    ctx = _Ctx(responses, manifest, instruments, stats)
    stats.seconds["load"] = time.perf_counter() - t0
    steps = {"study": _study, "quality": _quality, "reliability": _reliability, "factor": _factor,
             "behaviour": _behaviour, "effects": _effects, "gstudy": _gstudy, "comparability": _comparability}
    for name in SECTIONS:
        if name not in sections:
            continue
        say(f"statistics: {name}")
        t = time.perf_counter()
        steps[name](ctx)
        stats.seconds[name] = time.perf_counter() - t
    stats.add("scale_scores", ctx.scale_scores, "effects", "stat", ids=[*ctx.resp_cols, "instrument", "scale"])
    stats.add("item_scores", ctx.item_long, "reliability", "data",
              ids=[*ctx.resp_cols, "instrument", "scale", "item", "status"])
    w = pd.DataFrame(stats._warnings, columns=["section", "context", "warning"]).drop_duplicates()
    stats.add("warnings", w, "study", kind="meta", ids=["section", "context", "warning"])
    return stats


# ============================================================================================ 00 study
def _study(ctx: _Ctx) -> None:
    from .. import __version__

    st, m, df = ctx.stats, ctx.manifest, ctx.responses
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


# ============================================================================================ 01 quality
def _quality(ctx: _Ctx) -> None:
    st, df = ctx.stats, ctx.responses
    keys = ["model", "persona", "instrument"]
    tab = pd.crosstab([df[k] for k in keys], df["status"])
    for s in ("ok", "refused", "unparseable", "error"):
        if s not in tab:
            tab[s] = 0
    tab = tab[["ok", "refused", "unparseable", "error"]]
    n = tab.sum(axis=1)
    rates = tab.div(n, axis=0).add_suffix("_rate")
    out = pd.concat([n.rename("n"), tab, rates], axis=1).reset_index()
    st.add("status_rates", out, "quality", ids=keys)
    if "raw_text" in df.columns:  # what the model said when its answer was not scored (shown escaped)
        bad = df[df["status"].isin(["refused", "unparseable"]) & df["raw_text"].fillna("").astype(str).ne("")]
        if len(bad):
            ex = bad.sort_values(["model", "instrument", "item", "cell_key"], kind="stable") \
                .groupby(["model", "instrument", "status"], sort=True).head(5)
            ex = ex[["model", "persona", "instrument", "item", "status", "raw_text"]].copy()
            ex["raw_text"] = ex["raw_text"].astype(str).map(lambda t: t if len(t) <= 300 else t[:299] + "…")
            st.add("unscored_answers", ex, "quality", "meta", ids=list(ex.columns))
    ok = df[(df["status"] == "ok") & (df["chosen_position"] >= 0) & (df["n_options"] > 0)]
    if len(ok):
        pc = ok.groupby(["model", "instrument", "n_options", "chosen_position"]).size().rename("n").reset_index()
        pc["share"] = pc["n"] / pc.groupby(["model", "instrument", "n_options"])["n"].transform("sum")
        pc = pc.rename(columns={"chosen_position": "position"})
        pc["position"] = pc["position"] + 1
        st.add("position_counts", pc, "quality", ids=["model", "instrument", "n_options", "position"])
    for name, kw in (("response_quality", {"by": ("model", "persona", "instrument")}),
                     ("positional_bias", {"by": ("model",)}), ("order_sensitivity", {"by": ("model",)}),
                     ("paraphrase_sensitivity", {"by": ("model",)})):
        res = _call(st, "quality", f"pm.{name}", lambda name=name, kw=kw: _flex_call(_api(name), df, **kw))
        if res is not None:
            st.add(name, _as_frame(res), "quality")


def _flex_call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Call with keyword arguments, dropping those the function does not take."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(*args, **kw)
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kw = {k: v for k, v in kw.items() if k in params}
    return fn(*args, **kw)


def _as_frame(res: Any) -> pd.DataFrame:
    if isinstance(res, pd.DataFrame):
        df = res
    elif isinstance(res, pd.Series):
        df = res.to_frame()
    elif hasattr(res, "table") and isinstance(res.table, pd.DataFrame):
        df = res.table
    else:
        raise TypeError(f"expected a DataFrame, got {type(res).__name__}")
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    return df


# ============================================================================================ 02 reliability
def _omega_factors(k: int) -> int:
    return 3 if k >= 6 else 1


def _reliability(ctx: _Ctx) -> None:
    st = ctx.stats
    rel_rows, item_rows = [], []
    alpha, omega, split_half = _api("alpha"), _api("omega"), _api("split_half")
    long = ctx.item_long
    for (iid, scale, model), sub in long.groupby(["instrument", "scale", "model"], sort=True):
        ins = ctx.instruments[iid]
        wide = _wide(sub, ctx.resp_cols, "score")
        wide = wide[_ordered_items(ins, wide.columns)]
        ctxt = f"{iid} {scale} ({model})"
        n, k = wide.shape
        row = {"instrument": iid, "scale": scale, "scale_name": _scale_name(ins, scale), "model": model,
               "kind": _kind(ins), "n": n, "items": k}
        if k < 2 or n < 3:
            st.note("reliability", f"{ctxt}: {k} item(s) and {n} respondent(s) — too few for reliability.")
            rel_rows.append(row)
            continue
        a = _call(st, "reliability", f"{ctxt}: alpha", lambda: alpha(wide, n_iter=0))
        if a is not None:
            feldt = a.ci.loc["Feldt"]
            row.update(alpha=float(a.total["raw_alpha"]), alpha_lower=float(feldt["lower"]),
                       alpha_upper=float(feldt["upper"]), std_alpha=float(a.total["std_alpha"]),
                       G6=float(a.total["G6"]), average_r=float(a.total["average_r"]),
                       mean=float(a.total["mean"]), sd=float(a.total["sd"]))
            drop = a.alpha_drop["raw_alpha"]
            for lab, r in a.item_stats.iterrows():
                item = str(lab).rstrip("-")
                item_rows.append({"instrument": iid, "scale": scale, "model": model, "item": item,
                                  "text": _item_text(ins, item),
                                  "keyed": int(ins.item(item).keyed) if _kind(ins) == "questionnaire" else 1,
                                  "n": float(r["n"]) if "n" in r else float(n), "mean": float(r.get("mean", np.nan)),
                                  "sd": float(r.get("sd", np.nan)), "r_cor": float(r["r_cor"]),
                                  "r_drop": float(r["r_drop"]), "alpha_if_dropped": float(drop.loc[lab])})
        if k >= 3:
            nf = min(_omega_factors(k), k - 1)
            o = _call(st, "reliability", f"{ctxt}: omega", lambda: omega(wide, nfactors=nf))
            if o is not None:
                row.update(omega_h=float(o.omega_h) if nf > 1 else np.nan, omega_t=float(o.omega_tot),
                           omega_factors=nf)
        s = _call(st, "reliability", f"{ctxt}: split half", lambda: split_half(wide, seed=ctx.seed))
        if s is not None:
            row.update(split_half_mean=float(s.meanr), lambda4=float(s.maxrb), beta=float(s.minrb))
        rel_rows.append(row)
    cols = ["instrument", "scale", "scale_name", "model", "kind", "n", "items", "alpha", "alpha_lower",
            "alpha_upper", "std_alpha", "G6", "average_r", "omega_h", "omega_t", "omega_factors", "split_half_mean",
            "lambda4", "beta", "mean", "sd"]
    rel = pd.DataFrame(rel_rows).reindex(columns=cols)
    st.add("reliability", rel, "reliability", ids=["instrument", "scale", "scale_name", "model", "kind"])
    items = pd.DataFrame(item_rows, columns=["instrument", "scale", "model", "item", "text", "keyed", "n", "mean",
                                             "sd", "r_cor", "r_drop", "alpha_if_dropped"])
    items = _add_item_norms(items, ctx.instruments)
    st.add("item_stats", items, "reliability", ids=["instrument", "scale", "model", "item", "text"])
    _norms(ctx)


def _scale_name(ins: Instrument, scale: str) -> str:
    for sc in ins.scales:
        if sc.id == scale:
            return sc.name
    return scale


def _add_item_norms(items: pd.DataFrame, instruments: dict[str, Instrument]) -> pd.DataFrame:
    rows = []
    for iid, ins in instruments.items():
        if ins.norms is not None and ins.norms.items:
            for item, vals in ins.norms.items.items():
                rows.append({"instrument": iid, "item": item, "human_mean": vals.get("mean"),
                             "human_sd": vals.get("sd"), "human_n": vals.get("n")})
    if not rows:
        return items
    return items.merge(pd.DataFrame(rows), on=["instrument", "item"], how="left")


def _norms(ctx: _Ctx) -> None:
    st, sc = ctx.stats, ctx.scale_scores
    desc = (sc.groupby(["instrument", "scale", "model"], sort=True)["score"]
            .agg(n="count", mean="mean", sd="std", min="min", max="max").reset_index())
    norm_rows = []
    for iid, ins in ctx.instruments.items():
        if ins.norms is not None:
            for nm in ins.norms.scales:
                norm_rows.append({"instrument": iid, "scale": nm.scale, "human_mean": nm.mean, "human_sd": nm.sd,
                                  "human_n": nm.n, "norm_source": nm.source, "population": nm.population})
    if norm_rows:
        desc = desc.merge(pd.DataFrame(norm_rows), on=["instrument", "scale"], how="left")
    desc.insert(2, "scale_name", [_scale_name(ctx.instruments[i], s) for i, s in zip(desc["instrument"],
                                                                                      desc["scale"])])
    st.add("scale_descriptives", desc, "reliability")
    normed = [i for i, ins in ctx.instruments.items() if ins.norms is not None and ins.norms.scales]
    if not normed:
        st.note("reliability", "No instrument of this study carries published human norms, so no comparison "
                               "with human values is made.")
        return
    compare_norms = _call(st, "reliability", "pm.compare_norms", lambda: _api("compare_norms"))
    if compare_norms is None:
        return
    parts = []
    for iid in normed:
        ins = ctx.instruments[iid]
        sub = sc[sc["instrument"] == iid]
        for model, msub in sub.groupby("model", sort=True):
            res = _call(st, "reliability", f"{iid} ({model}): pm.compare_norms",
                        lambda: _flex_call(compare_norms, msub, ins.norms))
            if res is not None:
                f = _as_frame(res)
                for c, v in (("model", model), ("instrument", iid)):
                    if c not in f:
                        f.insert(0, c, v)
                parts.append(f)
    if parts:
        st.add("norm_comparison", pd.concat(parts, ignore_index=True), "reliability")


# ============================================================================================ 03 factor
def _factor(ctx: _Ctx) -> None:
    st = ctx.stats
    fa, fa_parallel, congruence = _api("fa"), _api("fa_parallel"), _api("congruence")
    par, par_sum, loads, fits, cong, cong_sum, cfa_fit, cfa_load = [], [], [], [], [], [], [], []
    cfa = _call(st, "factor", "pm.cfa", lambda: _api("cfa"))
    for iid in ctx.likert_ids:
        ins = ctx.instruments[iid]
        sub_all = ctx.item_scores[ctx.item_scores["instrument"] == iid]
        for model, sub in sub_all.groupby("model", sort=True):
            wide = _wide(sub, ctx.resp_cols, "value")
            wide = wide[_ordered_items(ins, wide.columns)]
            n, k = wide.shape
            ctxt = f"{iid} ({model})"
            doms = _domains(ins, wide.columns)
            if k < 3 or n < 4:
                st.note("factor", f"{ctxt}: {k} item(s), {n} respondent(s) — too few for factor analysis.")
                continue
            if n < k:
                st.note("factor", f"{ctxt}: only {n} respondents for {k} items; the correlation matrix is singular "
                                  "and was smoothed, so the factor solutions are unstable.")
            p = _call(st, "factor", f"{ctxt}: parallel analysis",
                      lambda: fa_parallel(wide, n_iter=20, seed=ctx.seed))
            if p is not None:
                for j in range(len(p.pc_values)):
                    par.append({"instrument": iid, "model": model, "factor": j + 1,
                                "fa_observed": float(p.fa_values[j]), "fa_simulated": float(p.fa_sim[j]),
                                "pc_observed": float(p.pc_values[j]), "pc_simulated": float(p.pc_sim[j])})
                par_sum.append({"instrument": iid, "model": model, "n": n, "items": k, "intended_factors": len(doms),
                                "suggested_factors": int(p.nfact), "suggested_components": int(p.ncomp)})
            nf = max(1, min(len(doms), k - 1))
            f = _call(st, "factor", f"{ctxt}: EFA", lambda: fa(wide, nfactors=nf, rotate="oblimin"))
            if f is not None:
                L = f.loadings
                for item in L.index:
                    for fac in L.columns:
                        loads.append({"instrument": iid, "model": model, "item": item,
                                      "text": _item_text(ins, item), "intended": _intended(ins, item, doms),
                                      "factor": fac, "loading": float(L.loc[item, fac])})
                ft = f.fit
                fits.append({"instrument": iid, "model": model, "n": n, "items": k, "factors": nf,
                             **{c: float(ft[c]) for c in ("rms", "crms", "TLI", "RMSEA", "RMSEA_lower",
                                                           "RMSEA_upper", "BIC", "fit_off") if c in ft}})
                target, tname = _target(ins, L.index, doms)
                if target is not None:
                    _congruence(st, congruence, f.loadings.loc[target.index], target, iid, model, tname, cong,
                                cong_sum)
            if cfa is not None and doms:
                syntax = "\n".join(f"{s} =~ " + " + ".join(its) for s, its in doms.items() if len(its) >= 2)
                if syntax:
                    items = [i for s, its in doms.items() if len(its) >= 2 for i in its]
                    res = _call(st, "factor", f"{ctxt}: CFA", lambda: cfa(syntax, wide[items]))
                    if res is not None:
                        fm = _call(st, "factor", f"{ctxt}: CFA fit", lambda: res.fit_measures())
                        if fm is not None:
                            fm = pd.Series(fm)   # lavaan's names only, not their underscore aliases
                            fm = fm[[c for c in fm.index if c.replace("_", ".") == c or c.replace("_", ".") not in fm]]
                            cfa_fit.append({"instrument": iid, "model": model, "n": n, "items": len(items),
                                            **{str(c): _num(v) for c, v in fm.items()}})
                        ss = _call(st, "factor", f"{ctxt}: CFA loadings", lambda: res.standardized_solution())
                        if ss is not None:
                            ss = _as_frame(ss)
                            if "op" in ss:
                                ss = ss[ss["op"] == "=~"]
                            ss.insert(0, "model", model)
                            ss.insert(0, "instrument", iid)
                            cfa_load.append(ss)
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


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _intended(ins: Instrument, item: str, doms: dict[str, list[str]]) -> str:
    for s, its in doms.items():
        if item in its:
            return s
    return ""


def _target(ins: Instrument, items: Iterable[str], doms: dict[str, list[str]]
            ) -> tuple[pd.DataFrame | None, str]:
    """The human loading pattern of the norms (preferred) or the scoring key (+1/-1 on the intended scale)."""
    items = list(items)
    if ins.norms is not None and ins.norms.loadings:
        rows = {i: ins.norms.loadings[i] for i in items if i in ins.norms.loadings}
        if len(rows) >= 3:
            t = pd.DataFrame.from_dict(rows, orient="index").fillna(0.0)
            src = ins.norms.loadings_source or "instrument norms"
            return t, f"human loadings ({src})"
    if len(doms) < 1:
        return None, ""
    t = pd.DataFrame(0.0, index=items, columns=list(doms))
    for s, its in doms.items():
        for i in its:
            t.loc[i, s] = float(ins.item(i).keyed)
    return t, "scoring key"


def _congruence(st: ReportStatistics, congruence: Callable[..., Any], L: pd.DataFrame, target: pd.DataFrame,
                iid: str, model: str, tname: str, cong: list, cong_sum: list) -> None:
    c = _call(st, "factor", f"{iid} ({model}): congruence", lambda: congruence(L, target))
    if c is None:
        return
    for ef in c.index:
        for tf in c.columns:
            cong.append({"instrument": iid, "model": model, "target": tname, "efa_factor": str(ef),
                         "target_factor": str(tf), "phi": float(c.loc[ef, tf])})
    proc = None
    if L.shape[1] == target.shape[1] and L.shape[1] > 1:
        proc = _call(st, "factor", f"{iid} ({model}): Procrustes congruence",
                     lambda: congruence(L, target, procrustes=True))
    for j, tf in enumerate(c.columns):
        col = c[tf].abs()
        best = col.idxmax() if col.notna().any() else None
        cong_sum.append({"instrument": iid, "model": model, "target": tname, "target_factor": str(tf),
                         "best_efa_factor": str(best), "phi": float(c.loc[best, tf]) if best is not None else np.nan,
                         "phi_procrustes": float(proc.iloc[j, j]) if proc is not None else np.nan})


# ============================================================================================ 04 behaviour
def _behaviour(ctx: _Ctx) -> None:
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
    wide = sc.pivot_table(index=keys, columns="measure", values="score", aggfunc="mean")
    kind = {m: ("questionnaire" if m.split(":", 1)[0] in ctx.likert_ids else "behaviour") for m in wide.columns}
    cor_ci = _call(st, "behaviour", "pm.cor_ci", lambda: _api("cor_ci"))
    rows = []
    tr = dict(zip(sc["measure"], sc["trait"]))
    models = wide.index.get_level_values("model").unique() if "model" in keys else [None]
    for model in models:
        w = wide.xs(model, level="model") if model is not None else wide
        for q in [m for m in w.columns if kind[m] == "questionnaire"]:
            for b in [m for m in w.columns if kind[m] == "behaviour"]:
                pair = w[[q, b]].dropna()
                row = {"model": model, "questionnaire": q, "behaviour": b, "trait_q": tr[q], "trait_b": tr[b],
                       "same_trait": tr[q] == tr[b], "n": len(pair)}
                if len(pair) >= 4 and pair[q].std() > 0 and pair[b].std() > 0 and cor_ci is not None:
                    res = _call(st, "behaviour", f"{q} vs {b} ({model})",
                                lambda: cor_ci(pair[q].to_numpy(), pair[b].to_numpy()))
                    row.update(_cor_values(res))
                rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=["model", "questionnaire", "behaviour", "trait_q", "trait_b",
                                              "same_trait", "n", "r", "ci_low", "ci_high", "p"])
    st.add("self_behaviour", out, "behaviour",
           ids=["model", "questionnaire", "behaviour", "trait_q", "trait_b", "same_trait"])
    mtmm = _call(st, "behaviour", "pm.mtmm", lambda: _api("mtmm"))
    if mtmm is None:
        return
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
        res = _call(st, "behaviour", f"MTMM ({model})",
                    lambda: mtmm(long, trait="trait", method="method", value="score"))
        if res is None:
            continue
        m = res.matrix.copy()
        m.index = [_label(i) for i in m.index]
        m.columns = [_label(c) for c in m.columns]
        m = m.reset_index(names="measure")
        m.insert(0, "model", model)
        mats.append(m)
        s = _call(st, "behaviour", f"MTMM summary ({model})", lambda: res.summary())
        if s is not None:
            st.texts[f"mtmm_summary_{model}"] = str(s)
    if mats:
        st.add("mtmm", pd.concat(mats, ignore_index=True), "behaviour", ids=["model", "measure"])


def _label(x: Any) -> str:
    if isinstance(x, tuple):
        return " / ".join(str(v) for v in x)
    return str(x)


def _cor_values(res: Any) -> dict[str, float]:
    if res is None:
        return {}
    if isinstance(res, pd.DataFrame) and len(res) >= 1:
        res = res.iloc[0]
    if isinstance(res, (pd.Series, dict)):
        d = dict(res)
        alias = {"r": ("r", "estimate", "cor"), "ci_low": ("ci_low", "lower", "CI_low", "ci_lower"),
                 "ci_high": ("ci_high", "upper", "CI_high", "ci_upper"), "p": ("p", "p_val", "p-val", "pvalue")}
        return {k: _num(next((d[a] for a in names if a in d), np.nan)) for k, names in alias.items()}
    if isinstance(res, tuple):
        vals = [_num(v) for v in res]
        return dict(zip(("r", "ci_low", "ci_high", "p"), vals))
    out = {}
    for k, names in {"r": ("r", "estimate"), "ci_low": ("ci_low", "lower"), "ci_high": ("ci_high", "upper"),
                     "p": ("p", "pvalue")}.items():
        out[k] = _num(next((getattr(res, a) for a in names if hasattr(res, a)), np.nan))
    return out


def _pairing(sc: pd.DataFrame, ctx: _Ctx) -> tuple[list[str], str]:
    """Respondent keys on which questionnaire and behavioural scores are paired."""
    full = list(ctx.resp_cols)
    q = sc[sc["instrument"].isin(ctx.likert_ids)][full].drop_duplicates()
    b = sc[sc["instrument"].isin(ctx.sjt_ids)][full].drop_duplicates()
    matched = len(q.merge(b, on=full))
    if matched >= 4:
        return full, ("Questionnaire and behavioural scores are paired per administration condition (same model, "
                      "persona, instruction id, option order, labels, seed and repetition).")
    coarse = [c for c in ("model", "persona", "label_scheme", "seed", "repetition") if c in full]
    return coarse, ("The instruments were given under conditions that do not match one to one, so each "
                    "instrument's scores are averaged over its conditions and paired per model, persona, labels, "
                    "seed and repetition.")


# ============================================================================================ 05 effects
def _effects(ctx: _Ctx) -> None:
    st = ctx.stats
    sc = ctx.scale_scores.dropna(subset=["score"])
    means = (sc.groupby(["instrument", "scale", "model", "persona"], sort=True)["score"]
             .agg(n="count", mean="mean", sd="std").reset_index())
    st.add("scale_means", means, "effects", ids=["instrument", "scale", "model", "persona"])
    compare = _call(st, "effects", "pm.compare_groups", lambda: _api("compare_groups"))
    if compare is None:
        return
    parts = []
    models = sorted(sc["model"].unique())

    def run(sub: pd.DataFrame, factor: str, model: str, ref: str | None, iid: str, scale: str) -> None:
        if sub[factor].nunique() < 2:
            return
        res = _call(st, "effects", f"{iid} {scale}: {factor} ({model})",
                    lambda: _flex_call(compare, sub, dv="score", group=factor, ref=ref))
        if res is not None:
            f = _as_frame(res)
            f.insert(0, "scale", scale)
            f.insert(0, "instrument", iid)
            f.insert(0, "model", model)
            f.insert(0, "factor", factor)
            parts.append(f)

    for (iid, scale), sub in sc.groupby(["instrument", "scale"], sort=True):
        for model in models:
            msub = sub[sub["model"] == model]
            personas = sorted(msub["persona"].unique())
            run(msub, "persona", model, "none" if "none" in personas else None, iid, scale)
            for cond in CONDITIONS:
                if cond in msub:
                    levels = sorted(msub[cond].astype(str).unique())
                    ref = "original" if "original" in levels else levels[0]
                    run(msub.assign(**{cond: msub[cond].astype(str)}), cond, model, ref, iid, scale)
        if len(models) > 1:
            run(sub, "model", "all", models[0], iid, scale)
    if parts:
        eff = pd.concat(parts, ignore_index=True)
        st.add("effect_sizes", eff, "effects")
    else:
        st.note("effects", "No factor of this design has two or more levels with scores, so there are no "
                           "group comparisons.")


# ============================================================================================ 06 G study
def _gstudy(ctx: _Ctx) -> None:
    st = ctx.stats
    g_study = _call(st, "gstudy", "pm.g_study", lambda: _api("g_study"))
    if g_study is None:
        return
    long = ctx.item_long.dropna(subset=["score"])
    parts = []
    for (iid, scale, model), sub in long.groupby(["instrument", "scale", "model"], sort=True):
        facets = tuple(f for f in GFACETS if f in sub and sub[f].nunique() > 1)
        if "item" not in facets or len(facets) < 2:
            continue
        res = _call(st, "gstudy", f"{iid} {scale} ({model})",
                    lambda: g_study(sub[[*facets, "score"]], value="score", facets=facets))
        if res is None:
            continue
        ctx.g_results[(iid, scale, model)] = res
        comp = _as_frame(res.components)
        comp.insert(0, "model", model)
        comp.insert(0, "scale", scale)
        comp.insert(0, "instrument", iid)
        parts.append(comp)
    if parts:
        st.add("g_components", pd.concat(parts, ignore_index=True), "gstudy")
    else:
        st.note("gstudy", "No scale was administered under two or more levels of a facet besides its items, so "
                          "there are no variance components to estimate.")


# ============================================================================================ 07 comparability
#: grouping columns tried for measurement invariance, in order
INVARIANCE_GROUPS = ("model", "persona", "order_id", "instruction_id")
#: grouping columns (prompt conditions) tested for differential item functioning
DIF_GROUPS = ("order_id", "instruction_id")


def _comparability(ctx: _Ctx) -> None:
    """Invariance across models / personas / conditions, DIF across option orders and paraphrases, response
    styles, and the D-study plan for the next run."""
    st = ctx.stats
    long = ctx.item_long.dropna(subset=["score"])
    long = long[long["instrument"].isin(ctx.likert_ids)]
    inv_rows, part_rows = [], []
    invariance = _api("invariance")
    for (iid, scale), sub in long.groupby(["instrument", "scale"], sort=True):
        wide = _wide(sub, ctx.resp_cols, "score").dropna()
        items = _ordered_items(ctx.instruments[iid], wide.columns)
        k = len(items)
        ctxt = f"{iid} {scale}"
        if k < 3:
            continue
        frame = wide[items].reset_index()
        group = next((g for g in INVARIANCE_GROUPS if g in frame and frame[g].nunique() > 1
                      and frame.groupby(g).size().min() >= k + 2), None)
        if group is None:
            st.note("comparability", f"{ctxt}: no grouping (model, persona, option order, instructions) has two or "
                                     f"more groups with at least {k + 2} complete respondents each — "
                                     "measurement invariance not tested.")
            continue
        names = {it: f"v{j + 1}" for j, it in enumerate(items)}  # lavaan-safe names
        data = frame[[group, *items]].rename(columns=names)
        model = "F =~ " + " + ".join(names.values())
        res = _call(st, "comparability", f"{ctxt}: invariance by {group}",
                    lambda: invariance(model, data, group, partial=3))
        if res is None:
            continue
        back = {v: k_ for k_, v in names.items()}
        t = res.table.copy()
        t.insert(0, "groups", len(res.groups))
        t.insert(0, "group_by", group)
        t.insert(0, "scale", scale)
        t.insert(0, "instrument", iid)
        inv_rows.append(t.drop(columns=["group_equal"]))
        st.note("comparability", f"{ctxt} by {group}: highest invariance level that holds: "
                                 f"{res.highest or 'none (the configural model did not converge)'}.")
        for _, r in res.partial.head(3).iterrows():
            par = str(r["parameter"])
            var = par.split("=~")[1] if "=~" in par else par.split("~")[0]
            part_rows.append({"instrument": iid, "scale": scale, "group_by": group, "level": r["level"],
                              "item": back.get(var, var), "parameter": r["parameter"],
                              "chisq_drop": r["chisq_drop"], "delta_cfi": r["delta_cfi"]})
    if inv_rows:
        inv = pd.concat(inv_rows, ignore_index=True)
        inv["holds"] = inv["holds"].astype(bool)
        st.add("invariance", inv, "comparability", ids=["instrument", "scale", "group_by", "level"])
    if part_rows:
        st.add("invariance_partial", pd.DataFrame(part_rows), "comparability",
               ids=["instrument", "scale", "group_by", "level", "item", "parameter"])
    _dif_tables(ctx)
    _style_tables(ctx)
    _d_plan(ctx)


def _dif_tables(ctx: _Ctx) -> None:
    from ..scoring import item_scores

    st = ctx.stats
    dif = _api("dif")
    lik = ctx.responses[ctx.responses["instrument"].isin(ctx.likert_ids)]
    if not len(lik):
        return
    chosen = item_scores(lik, {i: ctx.instruments[i] for i in ctx.likert_ids}, source="chosen")
    chosen = chosen.dropna(subset=["score"])
    rows = []
    for (iid, scale, model), sub in chosen.groupby(["instrument", "scale", "model"], sort=True):
        wide = _wide(sub, ctx.resp_cols, "score").dropna()
        if wide.shape[1] < 2:
            continue
        frame = wide.reset_index()
        for group in DIF_GROUPS:
            if group not in frame or frame[group].nunique() < 2 or frame.groupby(group).size().min() < 4:
                continue
            items = list(wide.columns)
            res = _call(st, "comparability", f"{iid} {scale} ({model}): DIF by {group}",
                        lambda: dif(frame[[group, *items]], group=group, p_adjust="holm"))
            if res is None:
                continue
            out = _as_frame(res)
            out = out.reset_index(drop=True) if "item" in out.columns else \
                out.rename_axis("item").reset_index()
            out.insert(0, "group_by", group)
            out.insert(0, "model", model)
            out.insert(0, "scale", scale)
            out.insert(0, "instrument", iid)
            rows.append(out)
    if rows:
        d = pd.concat(rows, ignore_index=True)
        keep = [c for c in ("instrument", "scale", "model", "group_by", "item", "n", "chi2_total", "df_total",
                            "p_total", "delta_r2_total", "beta_group", "class", "flag") if c in d.columns]
        d = d[keep]
        if "flag" in d:
            d["flag"] = d["flag"].astype(bool)
        st.add("dif", d, "comparability", ids=["instrument", "scale", "model", "group_by", "item", "class"])
    else:
        st.note("comparability", "No scale was administered under two or more option orders or instruction "
                                 "paraphrases with at least 4 respondents each, so DIF was not tested.")


def _style_tables(ctx: _Ctx) -> None:
    st = ctx.stats
    lik = ctx.responses[ctx.responses["instrument"].isin(ctx.likert_ids)]
    if not len(lik):
        return
    styles = _call(st, "comparability", "response styles",
                   lambda: _api("response_styles")(lik, source="chosen", by=ctx.resp_cols))
    if styles is None or not len(styles):
        return
    styles = styles.reset_index()
    cols = [c for c in ("acquiescence", "acquiescence_all", "ers", "mrs", "ers_prob", "mrs_prob") if c in styles]
    keys = [c for c in ("model", "persona") if c in styles]
    summ = styles.groupby(keys, sort=True)[cols].mean().reset_index()
    summ.insert(len(keys), "respondents", styles.groupby(keys, sort=True).size().to_numpy())
    st.add("response_styles", summ, "comparability", ids=keys)


def _d_plan(ctx: _Ctx) -> None:
    st = ctx.stats
    g_study, plan = _api("g_study"), _api("d_study_plan")
    long = ctx.item_long.dropna(subset=["score"])
    rows = []
    for (iid, scale, model), sub in long.groupby(["instrument", "scale", "model"], sort=True):
        facets = tuple(f for f in GFACETS if f in sub and sub[f].nunique() > 1)
        design = [f for f in facets if f not in ("item", "persona")]
        if "item" not in facets or "persona" not in facets or not design:
            continue
        ctxt = f"{iid} {scale} ({model})"
        g = ctx.g_results.get((iid, scale, model)) or \
            _call(st, "comparability", f"{ctxt}: G study", lambda: g_study(sub[[*facets, "score"]], value="score",
                                                                         facets=facets, object="persona"))
        if g is None:
            continue
        p = _call(st, "comparability", f"{ctxt}: D-study plan", lambda: plan(g, target_g=0.80, facets=design))
        if p is None:
            continue
        p = p[p["varied"] == ("all" if len(design) > 1 else design[0])]
        for _, r in p.iterrows():
            rows.append({"instrument": iid, "scale": scale, "model": model, "g_now": g.g_coefficient,
                         **{f"n_{f}": int(r[f]) for f in design}, "administrations": int(r["administrations"]),
                         "g_planned": r["g_coefficient"], "reached": bool(r["reached"])})
    if rows:
        st.add("d_study_plan", pd.DataFrame(rows), "comparability", ids=["instrument", "scale", "model"])
    else:
        st.note("comparability", "A D-study plan needs personas (the object of measurement here) and at least one "
                                 "varied prompt facet (option order, instructions, seed).")


# ============================================================================================ flatten / diff
def flatten_statistics(stats: ReportStatistics, kinds: Sequence[str] = ("stat",)) -> pd.DataFrame:
    """One row per reported number: ``table``, ``row`` (its identifying columns), ``column``, ``value``.

    Numeric cells go to ``value`` (float), others to ``text``. Rows with equal identifiers are numbered
    (``#2``, ``#3``...) in table order, which is deterministic.
    """
    out = []
    for name, df in stats.tables.items():
        if stats.kinds.get(name) not in kinds or df.empty:
            continue
        ids = [c for c in stats.ids.get(name, []) if c in df.columns]
        labels = (df[ids].astype(str).apply(lambda r: "|".join(f"{c}={v}" for c, v in r.items()), axis=1)
                  if ids else pd.Series([f"row{i}" for i in range(len(df))], index=df.index))
        occ = labels.groupby(labels).cumcount()
        labels = labels.where(occ == 0, labels + "#" + (occ + 1).astype(str))
        for col in df.columns:
            if col in ids:
                continue
            s = df[col]
            numeric = _is_numeric(s)
            out.append(pd.DataFrame({"table": name, "row": labels.values, "column": str(col),
                                     "value": pd.to_numeric(s, errors="coerce").astype(float).values
                                     if numeric else np.nan,
                                     "text": None if numeric else s.astype(str).values}))
    if not out:
        return pd.DataFrame(columns=["table", "row", "column", "value", "text"])
    return pd.concat(out, ignore_index=True)


def diff_statistics(a: pd.DataFrame | ReportStatistics, b: pd.DataFrame | ReportStatistics,
                    tol: float = 0.0) -> pd.DataFrame:
    """Compare two flattened statistics tables (or two :class:`ReportStatistics`).

    Returns one row per reported number with ``original``, ``reproduced``, ``abs_diff`` and ``status``:
    ``same`` (equal, both NaN, or ``|a − b| <= tol``), ``different``, ``only in original`` or
    ``only in reproduction``.
    """
    fa_ = flatten_statistics(a) if isinstance(a, ReportStatistics) else a
    fb_ = flatten_statistics(b) if isinstance(b, ReportStatistics) else b
    m = fa_.merge(fb_, on=["table", "row", "column"], how="outer", suffixes=("_a", "_b"), indicator=True)
    va, vb = m["value_a"].astype(float), m["value_b"].astype(float)
    ta, tb = m["text_a"], m["text_b"]
    numeric = va.notna() | vb.notna()
    diff = (va - vb).abs()
    same_num = (va.isna() & vb.isna()) | (diff <= tol)
    same_txt = (ta.astype(str) == tb.astype(str)) | (ta.isna() & tb.isna())
    same = np.where(numeric, same_num, same_txt)
    status = np.where(m["_merge"] == "left_only", "only in original",
                      np.where(m["_merge"] == "right_only", "only in reproduction",
                               np.where(same, "same", "different")))
    orig = np.where(numeric, va.astype(object), ta)
    repr_ = np.where(numeric, vb.astype(object), tb)
    return pd.DataFrame({"table": m["table"], "row": m["row"], "column": m["column"], "original": orig,
                         "reproduced": repr_, "abs_diff": np.where(numeric, diff, np.nan), "status": status})


# ============================================================================================ persistence
def write_statistics(stats: ReportStatistics, folder: str | Path) -> Path:
    """Write every table as ``name.csv``, plus ``statistics.csv`` (flattened), ``tables.json`` (index, kinds,
    ids), ``notes.json``, ``texts.json``, ``manifest.json`` and ``timings.json`` (seconds per section; the only
    file that differs between two computations on the same run), into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in stats.tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    flatten_statistics(stats).to_csv(folder / "statistics.csv", index=False)
    meta = {"tables": {n: {"section": stats.section[n], "kind": stats.kinds[n], "ids": stats.ids[n],
                           "rows": len(df), "columns": list(map(str, df.columns))}
                       for n, df in stats.tables.items()}}
    (folder / "tables.json").write_text(json.dumps(meta, indent=2))
    (folder / "timings.json").write_text(json.dumps(stats.seconds, indent=2))
    (folder / "notes.json").write_text(json.dumps(stats.notes, indent=2, ensure_ascii=False))
    (folder / "texts.json").write_text(json.dumps(stats.texts, indent=2, ensure_ascii=False))
    (folder / "manifest.json").write_text(json.dumps(stats.manifest, indent=2, sort_keys=True, default=str))
    return folder


def read_statistics(folder: str | Path) -> ReportStatistics:
    """Read what :func:`write_statistics` wrote."""
    folder = Path(folder)
    meta_path = folder / "tables.json"
    if not meta_path.exists():
        raise ReportError(f"{folder} holds no report statistics (tables.json missing)")
    meta = json.loads(meta_path.read_text())
    st = ReportStatistics()
    for name, info in meta["tables"].items():
        p = folder / f"{name}.csv"
        try:
            df = pd.read_csv(p, keep_default_na=True)
        except pd.errors.EmptyDataError:
            df = pd.DataFrame(columns=info.get("columns", []))
        st.add(name, df, info["section"], info["kind"], ids=info["ids"])
    st.notes = json.loads((folder / "notes.json").read_text()) if (folder / "notes.json").exists() else {}
    st.texts = json.loads((folder / "texts.json").read_text()) if (folder / "texts.json").exists() else {}
    if (folder / "manifest.json").exists():
        st.manifest = json.loads((folder / "manifest.json").read_text())
    if (folder / "timings.json").exists():
        st.seconds = json.loads((folder / "timings.json").read_text())
    return st


__all__ = ["ReportStatistics", "SECTIONS", "compute_statistics", "data_hash", "diff_statistics",
           "flatten_statistics", "load_run", "read_statistics", "write_statistics"]
