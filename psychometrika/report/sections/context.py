"""What every report section works from (:class:`Context`) and the few helpers they share.

A statistic that cannot be computed for a documented reason — a :class:`~psychometrika.errors.PsychometrikaError`
such as :class:`~psychometrika.errors.DataError` (too few respondents, no variance, ...) or a singular matrix
(:class:`numpy.linalg.LinAlgError`) — becomes a note of its section, in plain words (:func:`attempt`). Any other
exception is a bug and propagates: a renamed argument or a changed result fails the report build (and its tests)
instead of silently dropping a table.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ...errors import PsychometrikaError
from ...instruments.schema import Instrument
from ...answers.columns import RESPONDENT_COLUMNS
from ...scoring import item_scores, scale_scores, sjt_trait_scores
from ...stats.screening import exclude_invalid, screen
from ..results import ReportStatistics

T = TypeVar("T")

#: Why a statistic failed on a singular matrix, for readers.
SINGULAR = ("a correlation or covariance matrix of these answers is singular (some items or scores are constant "
            "or perfectly related)")


def instrument_kind(ins: Instrument) -> str:
    """``"behaviour"`` when :attr:`Instrument.is_behaviour <psychometrika.instruments.schema.Instrument.is_behaviour>`
    (situational judgement tests, probes, economic games, risk and writing tasks), else ``"questionnaire"``
    (self-report: every item a Likert item) — the split of :func:`psychometrika.scoring.behaviour_scores`."""
    return "behaviour" if ins.is_behaviour else "questionnaire"


class Context:
    """The responses of a run, its manifest and instruments, and the scores every section uses.

    Attributes
    ----------
    responses : the answers that passed response-validity screening (:func:`psychometrika.stats.screen`; the
        cells classified invalid are left out of every trait statistic unless ``keep_invalid``).
    all_responses : every answer of the run (the response-quality and study chapters describe them all).
    screening : the screening table (one row per model x instrument x persona, and per model x instrument).
    manifest, instruments : as :func:`psychometrika.report.load_run` returns them.
    stats : the :class:`~psychometrika.report.ReportStatistics` the sections fill.
    seed : the study's seed (everything random in the report is seeded with it).
    source : ``"expected"`` (scores from option probabilities, score mode) or ``"chosen"``.
    resp_cols : the respondent columns of the response table.
    likert_ids, sjt_ids : questionnaire and behavioural instruments of the run.
    item_scores : keyed item scores of the questionnaires (:func:`psychometrika.scoring.item_scores`).
    scale_scores : scale scores of every instrument per respondent (:func:`psychometrika.scoring.scale_scores`).
    item_long : respondent x instrument x scale x item scores (questionnaire items and SJT trait scores).
    g_results : the G studies of the ``gstudy`` section by (instrument, scale, model), reused by ``comparability``.
    """

    def __init__(self, responses: pd.DataFrame, manifest: dict[str, Any], instruments: dict[str, Instrument],
                 stats: ReportStatistics, keep_invalid: bool = False):
        self.all_responses = responses
        self.screening = screen(responses)
        self.keep_invalid = keep_invalid
        responses = exclude_invalid(responses, self.screening, keep=keep_invalid)
        self.responses = responses
        self.manifest = manifest
        self.instruments = instruments
        self.stats = stats
        self.seed = int(manifest.get("seed") or 0)
        modes = set(responses["mode"]) if "mode" in responses else {"score"}
        self.source = "expected" if modes == {"score"} else "chosen"
        self.resp_cols = [c for c in RESPONDENT_COLUMNS if c in responses.columns]
        present = sorted(set(responses["instrument"]))
        self.likert_ids = [i for i in present if instrument_kind(instruments[i]) == "questionnaire"]
        self.sjt_ids = [i for i in present if instrument_kind(instruments[i]) == "behaviour"]
        lik = responses[responses["instrument"].isin(self.likert_ids)]
        self.item_scores = (item_scores(lik, {i: instruments[i] for i in self.likert_ids}, source=self.source)
                            if len(lik) else lik.assign(value=np.nan, score=np.nan))
        self.scale_scores = (scale_scores(responses, instruments, source=self.source, by=self.resp_cols)
                             if len(responses) else pd.DataFrame(columns=[*self.resp_cols, "instrument", "scale",
                                                                          "score", "n_items", "n_missing"]))
        self.item_long = self._item_long()
        self.g_results: dict[tuple[str, str, str], Any] = {}

    def kind(self, iid: str) -> str:
        """The kind of instrument ``iid`` (:func:`instrument_kind`)."""
        return instrument_kind(self.instruments[iid])

    def _item_long(self) -> pd.DataFrame:
        """Respondent x instrument x scale x item scores (Likert keyed scores; SJT option-weighted trait scores)."""
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


def reason(exc: BaseException) -> str:
    """Why a statistic was not computed, in words (the error's own message; never an exception class name)."""
    if isinstance(exc, np.linalg.LinAlgError):
        return SINGULAR
    msg = exc.message if isinstance(exc, PsychometrikaError) else str(exc)
    return msg.strip().splitlines()[0] if msg.strip() else "the data do not allow it"


def attempt(stats: ReportStatistics, section: str, context: str, fn: Callable[[], T]) -> T | None:
    """``fn()``; a documented data problem (:class:`~psychometrika.errors.PsychometrikaError`, a singular matrix)
    becomes the note "``context``: not computed (reason)." of ``section`` and ``None``; warnings are recorded in
    ``stats.warnings``. Every other exception propagates."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return fn()
        except (PsychometrikaError, np.linalg.LinAlgError) as exc:
            stats.note(section, f"{context}: not computed ({reason(exc)}).")
            return None
        finally:
            for w in caught:
                stats.warnings.append({"section": section, "context": context, "warning": str(w.message)})


def wide(long: pd.DataFrame, keys: Sequence[str], value: str) -> pd.DataFrame:
    """Respondents (``keys``) x items of ``value``; all-missing rows and columns dropped."""
    w = long.pivot_table(index=list(keys), columns="item", values=value, aggfunc="first", dropna=False)
    w.columns.name = None
    return w.dropna(axis=1, how="all").dropna(axis=0, how="all")


def ordered_items(ins: Instrument, cols: Iterable[str]) -> list[str]:
    """``cols`` in the instrument's item order."""
    pos = {it.id: k for k, it in enumerate(ins.items)}
    return sorted(cols, key=lambda c: pos.get(c, 10 ** 6))


def domains(ins: Instrument, items: Iterable[str]) -> dict[str, list[str]]:
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


def item_text(ins: Instrument, item_id: str) -> str:
    """The item's text (or its SJT scenario); empty for an unknown item."""
    try:
        it = ins.item(item_id)
    except KeyError:
        return ""
    return it.text or it.scenario or ""


def scale_name(ins: Instrument, scale: str) -> str:
    """The scale's name (its id when the instrument does not define it)."""
    return next((sc.name for sc in ins.scales if sc.id == scale), scale)


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """A result table with its index (e.g. the ``by`` groups of a statistic) as ordinary columns."""
    return df if isinstance(df.index, pd.RangeIndex) else df.reset_index()


def label(x: Any) -> str:
    """A matrix row/column label as text (tuples joined by " / ")."""
    return " / ".join(str(v) for v in x) if isinstance(x, tuple) else str(x)


def as_float(v: Any) -> float:
    """A number (NaN when ``v`` is not one, e.g. a text fit measure)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


__all__ = ["Context", "SINGULAR", "as_float", "attempt", "domains", "instrument_kind", "item_text", "label",
           "ordered_items", "reason", "scale_name", "tidy", "wide"]
