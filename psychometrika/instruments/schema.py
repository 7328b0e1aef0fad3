"""The instrument format: one YAML file per instrument, validated by these pydantic models.

``psychometrika instruments schema`` prints the JSON Schema of :class:`Instrument` so editors
(VS Code's YAML extension, PyCharm) can validate a file while it is typed.

A minimal Likert instrument::

    id: my-scale
    name: My Scale
    version: "1.0"
    citation: {text: "Doe, J. (2024). My scale. Journal, 1, 1-2.", doi: "10.0000/xyz"}
    licence: {id: CC-BY-4.0, redistribution: "Free to share with attribution."}
    instructions:
      - {id: i1, text: "How well does each statement describe you?"}
    response_format:
      type: likert
      values: [1, 2, 3, 4, 5]
      labels: [Disagree strongly, Disagree a little, Neither agree nor disagree, Agree a little, Agree strongly]
    items:
      - {id: q1, text: "I am the life of the party.", scale: E}
      - {id: q2, text: "I don't talk a lot.", scale: E, keyed: -1}
    scales:
      - {id: E, name: Extraversion}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_ID_RE = re.compile(ID_PATTERN)

Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64,
                                  description="Letters, digits, '_', '.', '-'; no spaces or slashes.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


class Citation(_Strict):
    """Where the instrument comes from."""

    text: str = Field(min_length=1, description="Full reference, APA style.")
    doi: str | None = Field(default=None, description="DOI without the https://doi.org/ prefix.")
    url: str | None = None
    page: str | None = Field(default=None, description="Page(s) where the item wordings are printed.")


class Licence(_Strict):
    """Terms under which the item texts are shipped."""

    id: str = Field(min_length=1, description="SPDX id (CC-BY-4.0, CC0-1.0), 'public-domain', or 'research-only'.")
    redistribution: str = Field(min_length=1, description="What the copyright holder allows, in words.")
    research_use_only: bool = Field(default=False, description="True when the items may only be used for "
                                                                "non-commercial research.")
    source_url: str | None = None


class Paraphrase(_Strict):
    """One wording of an instruction or an item stem."""

    id: Identifier
    text: str = Field(min_length=1)


class LikertFormat(_Strict):
    """Ordered agreement (or frequency) options scored by their values."""

    type: Literal["likert"]
    values: list[float] = Field(min_length=2)
    labels: list[str] = Field(min_length=2)

    @model_validator(mode="after")
    def _same_length(self) -> "LikertFormat":
        if len(self.values) != len(self.labels):
            raise ValueError(f"response_format has {len(self.values)} values but {len(self.labels)} labels; "
                             "give one label per value")
        if len(set(self.values)) != len(self.values):
            raise ValueError("response_format values must be distinct")
        return self


class ChoiceFormat(_Strict):
    """Each item brings its own options (SJTs, knowledge questions)."""

    type: Literal["multiple_choice"]


class NumericFormat(_Strict):
    """A free numeric answer in a range (economic games, estimates)."""

    type: Literal["numeric"]
    min: float
    max: float
    integer: bool = False
    unit: str | None = None

    @model_validator(mode="after")
    def _range(self) -> "NumericFormat":
        if not self.min < self.max:
            raise ValueError(f"numeric range needs min < max (got min={self.min}, max={self.max})")
        return self


class TextFormat(_Strict):
    """Free text (writing tasks); scored by a text scorer, not by options."""

    type: Literal["text"]
    max_words: int | None = None


ResponseFormat = Annotated[Union[LikertFormat, ChoiceFormat, NumericFormat, TextFormat], Field(discriminator="type")]


#: What kind of answer an item takes, decided once from its response format's ``type``: ``likert`` (a shared
#: agreement scale), ``choice`` (options of its own: SJTs, probes, lotteries), ``numeric`` (an amount in a
#: range: economic games, card tasks) or ``text`` (free text: writing tasks).
AnswerKind = Literal["likert", "choice", "numeric", "text"]
ANSWER_KINDS: dict[str, AnswerKind] = {"likert": "likert", "multiple_choice": "choice", "numeric": "numeric",
                                       "text": "text"}


@dataclass(frozen=True)
class ItemOptions:
    """The answer options of an item in their original order: what is shown (``texts``) and what each option
    scores (``values``). Empty for open (numeric, text) items."""

    texts: tuple[str, ...] = ()
    values: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.texts)


class Option(_Strict):
    """An answer option of a multiple-choice/SJT item, keyed to traits with weights."""

    id: Identifier | None = None
    text: str = Field(min_length=1)
    weights: dict[str, float] = Field(default_factory=dict,
                                      description="scale id -> weight, e.g. {A: 1, M: -1}")
    value: float | None = Field(default=None, description="Optional scoring value of the option itself.")


class Turn(_Strict):
    """A scripted conversation turn shown before the item (e.g. a prior answer and a user's pushback)."""

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class Item(_Strict):
    """One item. Likert items have ``text``; SJT items have ``scenario`` and ``options``."""

    id: Identifier
    text: str | None = Field(default=None, description="Item text (Likert/numeric/text items) or the question "
                                                        "after an SJT scenario.")
    scenario: str | None = Field(default=None, description="SJT situation description.")
    options: list[Option] | None = Field(default=None, description="SJT / multiple-choice options (3-5).")
    paraphrases: list[Paraphrase] | None = Field(default=None, description="Alternative wordings of the stem.")
    scale: str | None = Field(default=None, description="Scale (domain) the item is keyed on.")
    facet: str | None = None
    keyed: Literal[1, -1] = 1
    weights: dict[str, float] | None = Field(default=None, description="For numeric/text items: scale id -> "
                                                                        "weight of the item score on that trait.")
    response_format: ResponseFormat | None = Field(default=None, description="Overrides the instrument's format.")
    turns: list[Turn] | None = Field(default=None, description="Scripted conversation inserted before the "
                                                                "item's prompt, which is the next user turn (e.g. a "
                                                                "question, an answer, then the pushback as the item).")
    pair: str | None = Field(default=None, description="Id of a paired item (e.g. the self-prediction of a game "
                                                        "choice) for belief-behaviour consistency.")

    @field_validator("paraphrases")
    @classmethod
    def _non_empty(cls, v: list[Paraphrase] | None) -> list[Paraphrase] | None:
        if v is not None and len(v) == 0:
            raise ValueError("paraphrases is empty; remove the key or give at least one paraphrase")
        return v


class Scale(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    items: list[str] | None = Field(default=None, description="Item ids; derived from items' scale/facet if omitted.")
    description: str | None = None
    parent: str | None = Field(default=None, description="Domain scale this facet belongs to.")


class ScaleNorm(_Strict):
    scale: str
    mean: float
    sd: float = Field(gt=0)
    n: int = Field(gt=0)
    source: str = Field(min_length=1)
    population: str | None = None


class Norms(_Strict):
    """Published (or computed) human reference values."""

    scales: list[ScaleNorm] = Field(default_factory=list)
    loadings: dict[str, dict[str, float]] | None = Field(
        default=None, description="Human factor loadings: item id -> {factor: loading}.")
    loadings_source: str | None = None
    items: dict[str, dict[str, float]] | None = Field(
        default=None, description="Human item statistics: item id -> {mean, sd, n}.")


class Instrument(_Strict):
    """A psychological instrument: items, scales, response format, provenance and licence."""

    schema_version: Literal[1] = 1
    id: Identifier
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    aliases: list[Identifier] = Field(default_factory=list)
    alias_note: str | None = Field(default=None, description="Shown when the instrument is loaded by an alias.")
    family: str | None = Field(default=None, description="big-five, 16pf, dark-triad, sjt, behaviour, ...")
    description: str | None = None
    citation: Citation | list[Citation]
    licence: Licence
    language: str = "en"
    instructions: list[Paraphrase] = Field(min_length=1, description="One or more paraphrases of the instructions.")
    stem: str = Field(default="{text}", description="How an item is shown, e.g. 'I see myself as someone who "
                                                     "{text}.' The placeholder {text} is the item (paraphrase).")
    question: str | None = Field(default=None, description="Default question after an SJT scenario.")
    response_format: ResponseFormat
    items: list[Item] = Field(min_length=1)
    scales: list[Scale] = Field(min_length=1)
    scoring: Literal["mean", "sum"] = "mean"
    norms: Norms | None = None

    _source: str | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    # ------------------------------------------------------------------ validation
    @field_validator("stem")
    @classmethod
    def _stem_has_placeholder(cls, v: str) -> str:
        if "{text}" not in v:
            raise ValueError("stem must contain the placeholder {text}")
        return v

    @model_validator(mode="after")
    def _consistency(self) -> "Instrument":
        problems: list[str] = []
        ids = [it.id for it in self.items]
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise ValueError(f"duplicate item id {i!r}")
            seen.add(i)
        scale_ids = [s.id for s in self.scales]
        if len(set(scale_ids)) != len(scale_ids):
            dup = sorted({s for s in scale_ids if scale_ids.count(s) > 1})
            raise ValueError(f"duplicate scale id(s) {dup}")
        known_scales = set(scale_ids)
        for it in self.items:
            fmt = it.response_format or self.response_format
            for ref in (it.scale, it.facet):
                if ref is not None and ref not in known_scales:
                    raise ValueError(f"item {it.id!r} refers to unknown scale {ref!r}; known: {sorted(known_scales)}")
            if it.keyed == -1 and fmt.type != "likert":
                raise ValueError(f"item {it.id!r} is reverse keyed (keyed: -1) but its response format is "
                                 f"{fmt.type!r}; reverse keys apply to Likert items only")
            if fmt.type == "multiple_choice":
                if not it.options or not (2 <= len(it.options) <= 10):
                    raise ValueError(f"item {it.id!r} needs 2-10 options for a multiple_choice format")
                for opt in it.options:
                    for s in opt.weights:
                        if s not in known_scales:
                            raise ValueError(f"item {it.id!r} option {opt.text[:30]!r} weights unknown scale {s!r}")
            elif it.options:
                raise ValueError(f"item {it.id!r} has options but the response format is {fmt.type!r}; "
                                 "use response_format: {type: multiple_choice}")
            if fmt.type != "multiple_choice" and not it.text:
                raise ValueError(f"item {it.id!r} has no text")
            if fmt.type == "multiple_choice" and not (it.scenario or it.text):
                raise ValueError(f"item {it.id!r} needs a scenario or text")
            if it.turns:
                if it.turns[0].role != "user":
                    raise ValueError(f"item {it.id!r}: scripted turns start with a user turn")
                if it.turns[-1].role != "assistant":
                    raise ValueError(f"item {it.id!r}: scripted turns end with an assistant turn (the item is the "
                                     "next user turn)")
            if it.pair is not None and it.pair not in {x.id for x in self.items}:
                raise ValueError(f"item {it.id!r} pairs with unknown item {it.pair!r}")
            for s in (it.weights or {}):
                if s not in known_scales:
                    raise ValueError(f"item {it.id!r} weights unknown scale {s!r}")
        for sc in self.scales:
            for i in sc.items or []:
                if i not in seen:
                    raise ValueError(f"scale {sc.id!r} lists unknown item {i!r}")
            if sc.parent is not None and sc.parent not in known_scales:
                raise ValueError(f"scale {sc.id!r} has unknown parent {sc.parent!r}")
        members = self.scale_items()
        in_some_scale = {i for items in members.values() for i in items}
        orphans = [i for i in ids if i not in in_some_scale]
        if orphans:
            raise ValueError(f"item(s) {orphans[:5]} belong to no scale; give them a scale, list them in a "
                             "scale's items, or give weights")
        empty = [s for s, items in members.items() if not items]
        if empty:
            raise ValueError(f"scale(s) {empty} have no items")
        if self.norms:
            for n in self.norms.scales:
                if n.scale not in known_scales:
                    problems.append(f"norms refer to unknown scale {n.scale!r}")
            for item_id in (self.norms.loadings or {}):
                if item_id not in seen:
                    problems.append(f"norm loadings refer to unknown item {item_id!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ------------------------------------------------------------------ helpers
    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def format_of(self, item: Item | str) -> LikertFormat | ChoiceFormat | NumericFormat | TextFormat:
        it = self.item(item) if isinstance(item, str) else item
        return it.response_format or self.response_format

    def item_kind(self, item: Item | str) -> AnswerKind:
        """The answer kind of an item (its own response format, else the instrument's); see :data:`ANSWER_KINDS`."""
        return ANSWER_KINDS[self.format_of(item).type]

    @property
    def kind(self) -> AnswerKind:
        """The answer kind of the instrument's response format (``likert``, ``choice``, ``numeric``, ``text``);
        single items may override it (:meth:`item_kind`)."""
        return ANSWER_KINDS[self.response_format.type]

    @property
    def is_behaviour(self) -> bool:
        """True unless every item is a Likert item: SJTs, probes, economic games (numeric amounts), risk tasks
        and writing tasks are behaviour; questionnaires are self-report. This is the split
        :func:`psychometrika.scoring.behaviour_scores` and the report use."""
        return any(self.item_kind(it) != "likert" for it in self.items)

    def options_of(self, item: Item | str) -> ItemOptions:
        """The options of an item, in original order: a Likert item's scale labels and values, a choice item's
        option texts and values (an option without ``value`` scores its index), nothing for open items."""
        it = self.item(item) if isinstance(item, str) else item
        fmt = self.format_of(it)
        if fmt.type == "likert":
            return ItemOptions(tuple(fmt.labels), tuple(float(v) for v in fmt.values))
        if fmt.type == "multiple_choice":
            opts = it.options or []
            return ItemOptions(tuple(o.text for o in opts),
                               tuple(float(o.value) if o.value is not None else float(i) for i, o in enumerate(opts)))
        return ItemOptions()

    def scale_items(self) -> dict[str, list[str]]:
        """Scale id -> item ids (explicit ``items`` lists, else items naming the scale as scale/facet,
        else items whose option/item weights mention the scale)."""
        out: dict[str, list[str]] = {}
        for sc in self.scales:
            if sc.items is not None:
                out[sc.id] = list(sc.items)
                continue
            members = []
            for it in self.items:
                weighted = set(it.weights or {})
                for opt in it.options or []:
                    weighted |= {k for k, w in opt.weights.items() if w != 0}
                if sc.id in (it.scale, it.facet) or sc.id in weighted:
                    members.append(it.id)
            out[sc.id] = members
        return out

    def item_keys(self) -> dict[str, int]:
        return {it.id: it.keyed for it in self.items}

    @property
    def citations(self) -> list[Citation]:
        return self.citation if isinstance(self.citation, list) else [self.citation]

    @property
    def source(self) -> str | None:
        """Path of the file the instrument was loaded from (None when built in memory)."""
        return self._source

    @property
    def sha256(self) -> str | None:
        """sha256 of the file's bytes (None when built in memory)."""
        return self._sha256


def json_schema() -> dict:
    """JSON Schema of the instrument format (for editors)."""
    schema = Instrument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "psychometrika instrument"
    return schema
