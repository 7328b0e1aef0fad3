"""Expanding a study into its factor levels (instruments × items, personas, paraphrases, orders, labels, seeds)."""

from __future__ import annotations

import random
from pathlib import Path
from dataclasses import dataclass, field

from ..errors import InstrumentError, StudyError
from ..instruments.registry import load_instrument
from ..instruments.schema import Instrument, Item, Paraphrase
from .personas import resolve_personas
from .study import First, Persona, Sample, Study

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
    base = Path(study.source).parent if study.source else None
    return resolve_personas(study.personas, base)


def expand_factors(study: Study) -> Factors:
    """Load the study's instruments and pick their items and paraphrases."""
    admin: list[AdministeredInstrument] = []
    seen: set[str] = set()
    for choice in study.instrument_choices():
        try:
            inst = load_instrument(choice.id)
        except InstrumentError as exc:
            raise StudyError(f"instrument {choice.id!r}: {exc}", file=study.source, field="instruments") from None
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
    return Factors(admin, personas, seeds, study.decoding.repetitions, list(study.label_schemes),
                   list(study.option_orders))
