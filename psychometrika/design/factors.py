"""Expanding a study into its factor levels (instruments × items, personas, paraphrases, orders, labels, seeds)."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InstrumentError, StudyError
from ..instruments.registry import load_instrument
from ..instruments.schema import Instrument, Item, Paraphrase
from .orders import expand_orders
from .personas import resolve_personas
from .study import First, Persona, Sample, Study, is_path_like

#: default largest number of prompts a study may plan (``--max-prompts`` or $PSYCHOMETRIKA_MAX_PROMPTS
#: change it); the size is computed arithmetically, before anything is expanded
DEFAULT_MAX_PROMPTS = 5_000_000
_limit: dict[str, int | None] = {"max_prompts": None}


def set_max_prompts(n: int | None) -> None:
    """Set the largest plan this process will build (None: $PSYCHOMETRIKA_MAX_PROMPTS or the default)."""
    if n is not None and n < 1:
        raise StudyError(f"--max-prompts must be at least 1, not {n}")
    _limit["max_prompts"] = n


def max_prompts() -> int:
    """The plan-size limit in force."""
    if _limit["max_prompts"] is not None:
        return int(_limit["max_prompts"])
    env = os.environ.get("PSYCHOMETRIKA_MAX_PROMPTS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise StudyError(f"PSYCHOMETRIKA_MAX_PROMPTS must be an integer, not {env!r}") from None
    return DEFAULT_MAX_PROMPTS

NO_PERSONA = Persona(id="none", text="x")  # text unused: 'none' renders no system prompt


@dataclass
class AdministeredInstrument:
    instrument: Instrument
    items: list[Item]
    instructions: list[Paraphrase]


@dataclass
class Factors:
    instruments: list[AdministeredInstrument]
    personas: list[Persona]
    seeds: list[int]
    repetitions: int
    label_schemes: list[str]
    order_specs: list = field(default_factory=list)

    def sizes(self) -> dict[str, int]:
        return {
            "models": 0,  # filled by the caller (models are not part of the factors here)
            "items": sum(len(a.items) for a in self.instruments),
            "personas": len(self.personas),
            "instruction paraphrases": max((len(a.instructions) for a in self.instruments), default=0),
            "label schemes": len(self.label_schemes),
            "seeds": len(self.seeds),
            "repetitions": self.repetitions,
        }


def _choose(options: list, choice, seed: int, what: str) -> list:
    if choice == "all":
        return list(options)
    if choice == "original":
        return options[:1]
    if isinstance(choice, int):
        k = choice
    elif isinstance(choice, First):
        k = choice.first
    elif isinstance(choice, Sample):
        if choice.sample > len(options):
            raise StudyError(f"cannot sample {choice.sample} {what} from {len(options)}")
        rng = random.Random(choice.seed * 7919 + seed)
        picked = set(rng.sample(range(len(options)), choice.sample))
        return [o for i, o in enumerate(options) if i in picked]
    else:  # pragma: no cover - pydantic restricts the types
        raise StudyError(f"bad paraphrase choice {choice!r}")
    if k > len(options):
        raise StudyError(f"asked for the first {k} {what} but only {len(options)} exist")
    return options[:k]


def stems_of(inst: Instrument, item: Item, choice, seed: int) -> list[tuple[str, str]]:
    """(stem id, stem text) pairs for an item: the original wording first, then its paraphrases."""
    base = item.text if item.text else ""
    variants = [("original", base)] + [(p.id, p.text) for p in (item.paraphrases or [])]
    if choice == "original":
        return variants[:1]
    return _choose(variants, choice, seed, f"stem variants of item {item.id!r}")


def study_personas(study: Study) -> list[Persona]:
    """The study's personas (without 'none'): its items, or every source expanded when built in memory
    (files relative to the study file, else to the working folder)."""
    if not study.personas.needs_resolving():
        return list(study.personas.items)
    return resolve_personas(study.personas, study.base_dir)


def _load_choice(study: Study, name: str) -> Instrument:
    """Load an instrument choice: a file path (relative to the study file's folder) or an id/alias."""
    target = str(study.resolve(name)) if is_path_like(name) else name
    try:
        return load_instrument(target)
    except InstrumentError as exc:
        hint = None
        if is_path_like(name) and not Path(target).exists() and Path(name).exists():
            hint = (f"relative instrument paths are relative to the study file's folder "
                    f"({study.base_dir or Path('.')}); {name} exists relative to the current folder: "
                    "write the path relative to the study file, or give an absolute path")
        raise StudyError(f"instrument {name!r}: {exc}", file=study.source, field="instruments",
                         hint=hint) from None


def instrument_digests(study: Study, by_file: bool = False) -> dict[str, str]:
    """Content hash of each instrument of the study as loaded, by instrument id (``by_file``: by file path,
    for messages that name the changed file)."""
    out: dict[str, str] = {}
    for choice in study.instrument_choices():
        inst = _load_choice(study, choice.id)
        digest = inst.sha256 or hashlib.sha256(inst.model_dump_json().encode()).hexdigest()
        out[(inst.source or f"instrument {inst.id}") if by_file else inst.id] = digest
    return out


def item_frames(study: Study, inst: Instrument, item: Item) -> list[tuple[str, str]]:
    """(frame id, frame text with ``{item}``) of an item: the study's item frames for Likert items, else the
    item unchanged (``("original", "{item}")``)."""
    if study.paraphrases.item_frames and inst.item_kind(item) == "likert":
        return [(f.id, f.text) for f in study.paraphrases.item_frames]
    return [("original", "{item}")]


def framed_stems(study: Study, inst: Instrument, item: Item) -> list[tuple[str, str, str]]:
    """(stem id, stem text, frame text) of an item: each stem variant under each item frame, stem → frame; the
    stem id of a framed variant is ``<stem id>~<frame id>`` (unchanged under the frame ``original``)."""
    return [(sid if fid == "original" else f"{sid}~{fid}", text, frame)
            for sid, text in stems_of(inst, item, study.paraphrases.stems, study.seed)
            for fid, frame in item_frames(study, inst, item)]


def plan_size(study: Study, factors: "Factors") -> int:
    """The number of prompts the study's plan will hold, computed without expanding it."""
    per_model = 0
    for adm in factors.instruments:
        inst = adm.instrument
        n_instr = len(adm.instructions)
        for item in adm.items:
            fmt = inst.format_of(item)
            k = len(fmt.labels) if fmt.type == "likert" else len(item.options or []) \
                if fmt.type == "multiple_choice" else 0
            n_orders = len(expand_orders(factors.order_specs, k)) if k else 1
            n_schemes = len(factors.label_schemes) if k else 1
            n_stems = len(framed_stems(study, inst, item))
            per_model += n_stems * n_orders * n_schemes * n_instr
    return per_model * len(factors.personas) * len(factors.seeds) * factors.repetitions * len(study.models)


def check_plan_size(study: Study, factors: "Factors", limit: int | None = None) -> int:
    """Refuse a study whose plan would exceed ``limit`` prompts (default :func:`max_prompts`), naming its size
    and its factors; return the size."""
    n = plan_size(study, factors)
    limit = max_prompts() if limit is None else limit
    if n > limit:
        sizes = factors.sizes()
        sizes["models"] = len(study.models)
        parts = ", ".join(f"{v:,} {k}" for k, v in sizes.items())
        raise StudyError(f"the study plans {n:,} prompts ({parts}); the limit is {limit:,}", file=study.source,
                         hint="make the design smaller (fewer repetitions, seeds, personas or orders), or raise "
                              "the limit with --max-prompts N (or $PSYCHOMETRIKA_MAX_PROMPTS)")
    return n


def expand_factors(study: Study) -> Factors:
    """Load the study's instruments and pick their items and paraphrases; refuse a plan above the size limit
    (see :func:`check_plan_size`) before anything is expanded."""
    admin: list[AdministeredInstrument] = []
    seen: set[str] = set()
    for choice in study.instrument_choices():
        inst = _load_choice(study, choice.id)
        if inst.id in seen:
            raise StudyError(f"instrument {inst.id!r} is listed twice", file=study.source, field="instruments")
        seen.add(inst.id)
        members = inst.scale_items()
        wanted: set[str] | None = None
        if choice.scales is not None:
            unknown = [s for s in choice.scales if s not in members]
            if unknown:
                raise StudyError(f"instrument {inst.id!r} has no scale(s) {unknown}; it has {sorted(members)}",
                                 file=study.source, field="instruments")
            wanted = {i for s in choice.scales for i in members[s]}
        if choice.items is not None:
            ids = {it.id for it in inst.items}
            unknown = [i for i in choice.items if i not in ids]
            if unknown:
                raise StudyError(f"instrument {inst.id!r} has no item(s) {unknown[:5]}", file=study.source,
                                 field="instruments")
            wanted = (wanted or set()) | set(choice.items)
        items = [it for it in inst.items if wanted is None or it.id in wanted]
        instructions = _choose(list(inst.instructions), study.paraphrases.instructions, study.seed,
                               f"instruction paraphrases of {inst.id!r}") \
            if study.paraphrases.instructions != "original" else list(inst.instructions[:1])
        admin.append(AdministeredInstrument(inst, items, instructions))
    personas = ([NO_PERSONA] if study.personas.include_none else []) + study_personas(study)
    seeds = list(study.decoding.seeds)
    factors = Factors(admin, personas, seeds, study.decoding.repetitions, list(study.label_schemes),
                      list(study.option_orders))
    check_plan_size(study, factors)
    return factors
