"""The study file: which instruments, models, personas, paraphrases, option orders, labels and decoding.

Example (``analyses/quickstart.yaml``)::

    id: quickstart
    seed: 20261124
    instruments:
      - bfi-44
      - {id: ipip-16pf, scales: [A, C, E]}
    models:
      - {id: smollm2, backend: transformers, model: embedded}
    personas:
      include_none: true
      items:
        - {id: organised, text: "You are a very organised, punctual and careful person."}
    paraphrases: {instructions: 2, stems: original}
    option_orders: [original, reversed]
    label_schemes: [numeric]
    mode: score
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..errors import StudyError
from ..instruments.schema import Identifier
from ..secrets import env_name_problem, is_secret_name
from ..yamlio import load_model
from .personas import Persona, Personas, materialise  # noqa: F401 - Persona re-exported (old import path)

#: the largest seed (seeds are stored as 64-bit integers)
MAX_SEED = 2**63 - 1
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description="A seed: an integer from 0 to 2**63 - 1.")]

#: backend settings that change only how fast answers come, never what they are: left out of the study's
#: identity, so changing them between runs resumes the same folder
SPEED_SETTINGS = frozenset({"delay_s", "timeout_s", "max_concurrency", "batch_size", "max_retries", "backoff_s",
                            "max_backoff_s", "threads", "omp_wait_policy", "weights_cache"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class InstrumentChoice(_Strict):
    """An instrument and optionally a subset of its scales or items."""

    id: str = Field(min_length=1, description="Instrument id or alias, or a path to a YAML file (a relative "
                                              "path is relative to the study file's folder).")
    scales: list[str] | None = None
    items: list[str] | None = None


class ModelSpec(_Strict):
    id: Identifier = Field(description="Name of the model in the results.")
    backend: Literal["transformers", "vllm", "openai", "dummy", "simulated"] = "transformers"
    model: str = Field(default="embedded", description="'embedded', a local folder, a hub id, or the "
                                                       "server's model name for openai.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Backend settings (dtype, device, "
                                                                       "batch_size, base_url, ...).")

    @field_validator("settings")
    @classmethod
    def _no_secrets(cls, v: dict[str, Any]) -> dict[str, Any]:
        """Refuse credentials in a study file. Whether the backend takes each setting is checked where the
        backends are known: :func:`psychometrika.engine.session.load_checked_study` (``plan`` and ``run``)."""
        for k, val in v.items():
            if is_secret_name(k):
                raise ValueError(f"settings.{k}: never put API keys or tokens in a study file; name the "
                                 "environment variable that holds it with api_key_env instead")
            if str(k).lower().endswith("_env") and (problem := env_name_problem(val)):
                raise ValueError(f"settings.{k}: {problem}")
        return v


class Sample(_Strict):
    sample: int = Field(ge=1)
    seed: Seed = 0


class First(_Strict):
    first: int = Field(ge=1)


ParaphraseChoice = Union[Literal["all", "original"], int, First, Sample]


class ItemFrame(_Strict):
    """An item preamble/postamble variant (PsyBORGS' item instructions): ``text`` around ``{item}``."""

    id: Identifier
    text: str = Field(min_length=1, description="The item as shown, with {item} for the item sentence, e.g. "
                                                "'Thinking about the statement \"{item}\", ...'.")

    @field_validator("text")
    @classmethod
    def _has_item(cls, v: str) -> str:
        if "{item}" not in v:
            raise ValueError("an item frame must contain {item}")
        return v


class Paraphrases(_Strict):
    instructions: ParaphraseChoice = Field(default=1, description="'all', first k (an integer or {first: k}), "
                                                                   "or {sample: k, seed: s}.")
    stems: ParaphraseChoice = Field(default="original", description="'original' (the item text only), 'all', "
                                                                    "first k, or {sample: k}.")
    item_frames: list[ItemFrame] = Field(default_factory=list, description="Preamble/postamble variants of "
                                         "every Likert item, a factor of the study independent of the "
                                         "instrument's instruction paraphrases; frame id 'original' = {item} "
                                         "unchanged. The stem_id of a framed item is '<stem>~<frame id>'.")

    @field_validator("item_frames")
    @classmethod
    def _unique_frames(cls, v: list[ItemFrame]) -> list[ItemFrame]:
        ids = [f.id for f in v]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate item frame id(s) {sorted({i for i in ids if ids.count(i) > 1})}")
        return v


class RandomOrders(_Strict):
    random: int = Field(ge=1, le=1_000_000)
    seed: Seed = 0


OrderSpec = Union[str, RandomOrders]


class Decoding(_Strict):
    temperature: float = Field(default=0.0, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    max_tokens: int = Field(default=16, ge=1, le=4096)
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)
    repetitions: int = Field(default=1, ge=1, le=2**31 - 1)


class Template(_Strict):
    system: str = Field(default="{persona}", description="System prompt; {persona} is the persona text. "
                                                         "When it renders empty, no system message is sent.")
    user: str | None = Field(default=None, description="User message with placeholders {instructions} "
                                                        "{options} {item} {answer_prompt}; default: the response "
                                                        "scale before the item (Likert), options after it (SJT).")
    answer_prefix: str | None = Field(default=None, description="Start of the assistant's answer, prefilled in "
                                                                 "both modes (e.g. 'Answer:'); option labels are "
                                                                 "scored / generated after it. Small models that "
                                                                 "answer in prose follow the format with it.")

    @field_validator("user")
    @classmethod
    def _placeholders(cls, v: str | None) -> str | None:
        for ph in ("{item}", "{options}", "{answer_prompt}"):
            if v is not None and ph not in v:
                raise ValueError(f"template.user must contain {ph}")
        return v


class Study(_Strict):
    """A study design: the full factorial of the listed factors."""

    id: Identifier
    description: str | None = None
    seed: Seed = 0
    instruments: list[Union[str, InstrumentChoice]] = Field(min_length=1)
    models: list[ModelSpec] = Field(min_length=1)
    personas: Personas = Field(default_factory=Personas)
    paraphrases: Paraphrases = Field(default_factory=Paraphrases)
    option_orders: list[OrderSpec] = Field(default_factory=lambda: ["original"], min_length=1)
    label_schemes: list[Literal["numeric", "letters", "text"]] = Field(default_factory=lambda: ["numeric"],
                                                                       min_length=1)
    mode: Literal["score", "generate"] = "score"
    decoding: Decoding = Field(default_factory=Decoding)
    template: Template = Field(default_factory=Template)
    executor: Literal["local", "ray"] = "local"

    _source: str | None = PrivateAttr(default=None)
    _base_dir: str | None = PrivateAttr(default=None)
    _inputs: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> "Study":
        ids = [m.id for m in self.models]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate model id(s) {sorted({i for i in ids if ids.count(i) > 1})}")
        pids = [p.id for p in self.personas.items]
        if "none" in pids:
            raise ValueError("persona id 'none' is reserved for 'no persona' (include_none)")
        if len(set(pids)) != len(pids):
            raise ValueError(f"duplicate persona id(s) {sorted({i for i in pids if pids.count(i) > 1})}")
        if not self.personas.include_none and not self.personas.has_sources():
            raise ValueError("no personas: set include_none: true or list personas")
        return self

    def instrument_choices(self) -> list[InstrumentChoice]:
        return [InstrumentChoice(id=c) if isinstance(c, str) else c for c in self.instruments]

    @property
    def source(self) -> str | None:
        """Path of the study file (None when built in memory)."""
        return self._source

    @property
    def base_dir(self) -> Path | None:
        """The folder relative paths of the study file are resolved against: the study file's folder, or the
        folder given to :func:`load_study` (a re-run of a copied study file resolves against the original
        study's folder, recorded in the run manifest as ``study_dir``); None for a study built in memory."""
        if self._base_dir is not None:
            return Path(self._base_dir)
        return Path(self._source).parent if self._source is not None else None

    def resolve(self, name: str | Path) -> Path:
        """A relative path written in the study file, resolved by THE rule: against the study file's folder
        (:attr:`base_dir`; the current folder for a study built in memory). Absolute paths are kept."""
        p = Path(name).expanduser()
        base = self.base_dir
        if p.is_absolute() or base is None:
            return p
        return base / p


def is_path_like(name: str) -> bool:
    """True when an instrument choice names a file rather than an id or alias."""
    return name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name


def identity(study: Study) -> dict[str, Any]:
    """What makes two studies the same study (the input of :func:`study_hash`).

    The normalised study (independent of YAML formatting and comments) plus the content hash of every
    instrument file as loaded (persona files are merged into ``personas`` when the study is loaded). Not part
    of it: ``executor`` (a run begun in one process can be resumed on Ray and back) and the speed-only backend
    settings of :data:`SPEED_SETTINGS` (``delay_s``, ``timeout_s``, ``max_concurrency``, ``batch_size``...).
    """
    from .factors import instrument_digests

    data = study.model_dump(mode="json")
    data["executor"] = "local"
    for m in data["models"]:
        m["settings"] = {k: v for k, v in m["settings"].items() if k not in SPEED_SETTINGS}
    data["instrument_sha256"] = instrument_digests(study)
    return data


def study_hash(study: Study) -> str:
    """sha256 of the study's :func:`identity`: its normalised design and its instruments' content."""
    payload = json.dumps(identity(study), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def study_inputs(study: Study) -> dict[str, str]:
    """Every file the study read besides itself (instrument and persona files) with its sha256, so that a
    resume after an edit can name the file that changed."""
    from .factors import instrument_digests

    out = dict(study._inputs)
    out.update(instrument_digests(study, by_file=True))
    # absolute paths: the manifest's record must name the same file whatever folder a later command runs in
    return {(os.path.abspath(k) if Path(k).exists() else k): v for k, v in out.items()}


def load_study(path: str | Path, base_dir: str | Path | None = None) -> Study:
    """Load and validate a study YAML file; errors name file, line, column and field.

    Relative paths in it (instrument and persona files) are resolved against the file's folder, or against
    ``base_dir`` when given (``psychometrika reproduce`` loads a run folder's copy of the study file against the
    original study's folder)."""
    study, _ = load_model(path, Study, StudyError, what="study file")
    study._source = str(path)
    base = Path(base_dir) if base_dir is not None else Path(path).parent
    if base_dir is not None:
        study._base_dir = str(base_dir)
    if study.personas.needs_resolving():  # files, bank, generator, shaping -> items (design/personas.py)
        inputs: dict[str, str] = {}
        try:
            block = materialise(study.personas, base, inputs)
        except StudyError as exc:
            if exc.file is None:  # name the study file; "personas.x.y: problem" -> field personas.x.y
                where, sep, rest = exc.message.partition(": ")
                named = exc.field is None and sep and where.startswith("personas")
                exc = StudyError(rest if named else exc.message, file=str(path),
                                 field=where if named else (exc.field or "personas"), hint=exc.hint)
            raise exc from None
        study = study.model_copy(update={"personas": block})
        study._source = str(path)
        study._base_dir = None if base_dir is None else str(base_dir)
        study._inputs = inputs
    return study
