"""The prompt plan: one row per prompt to administer, with every design factor and the rendered messages.

``build_plan(study)`` is a pure function of the study file and the instrument files. Each row carries:

* the design identity (model, instrument, item, persona, paraphrase ids, option order, labels, seed,
  repetition) — the columns of the response table, see ``docs/response-table.md``;
* ``messages`` and ``continuations`` (what the backend sees);
* ``cell_key``: a hash of the design identity and the exact prompt — a row's identity in the store.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd

from ..design.factors import Factors, expand_factors, framed_stems, plan_size
from ..design.orders import expand_orders
from ..design.study import ModelSpec, Study, study_hash
from ..instruments.schema import Instrument, Item, ItemOptions, NumericFormat, TextFormat
from .prompts import render


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


def prompt_hash(messages: tuple[dict[str, str], ...] | list[dict[str, str]]) -> str:
    return _sha(list(messages))


#: tokens per English word of a free-text answer, and the slack added, for a text item's ``max_tokens``
TOKENS_PER_WORD = 1.5
TOKEN_SLACK = 16
#: ``max_tokens`` of a free-text item without ``max_words``
DEFAULT_TEXT_TOKENS = 256
#: the prompt layout (:func:`psychometrika.plan.prompts.render`) of each answer kind
_LAYOUT = {"likert": "likert", "choice": "choice", "numeric": "open", "text": "open"}


def _open_prompt(fmt: NumericFormat | TextFormat) -> str:
    if isinstance(fmt, NumericFormat):
        kind = "a whole number" if fmt.integer else "a number"
        unit = f" ({fmt.unit})" if fmt.unit else ""
        return f"Answer with {kind} from {fmt.min:g} to {fmt.max:g}{unit} only."
    return "Write your answer" + (f" in at most {fmt.max_words} words." if fmt.max_words else ".")


def _open_max_tokens(fmt: Any) -> int | None:
    """Tokens a free-text answer may need (about 1.5 tokens per English word, plus slack); None otherwise."""
    if isinstance(fmt, TextFormat):
        return int(fmt.max_words * TOKENS_PER_WORD) + TOKEN_SLACK if fmt.max_words else DEFAULT_TEXT_TOKENS
    return None


def _item_text(inst: Instrument, item: Item, stem_text: str) -> str:
    if inst.item_kind(item) == "choice":
        question = stem_text or inst.question or "What would you do?"
        return f"{item.scenario}\n\n{question}" if item.scenario else question
    return inst.stem.replace("{text}", stem_text)


@dataclass(frozen=True)
class _ItemSetup:
    """What one item of one administration contributes to the plan before its prompts are rendered."""

    inst: Instrument
    item: Item
    instructions: tuple[Any, ...]
    options: ItemOptions
    layout: str
    orders: list[tuple[str, tuple[int, ...]]]
    schemes: list[str]
    mode: str


def _setup(study: Study, factors: Factors, adm: Any, item: Item) -> _ItemSetup:
    inst = adm.instrument
    options = inst.options_of(item)
    k = len(options)
    return _ItemSetup(inst=inst, item=item, instructions=tuple(adm.instructions), options=options,
                      layout=_LAYOUT[inst.item_kind(item)],
                      orders=expand_orders(factors.order_specs, k) if k else [("original", ())],
                      schemes=list(factors.label_schemes) if k else ["none"], mode=study.mode if k else "generate")


def _prompts(study: Study, factors: Factors, s: _ItemSetup,
             personas: Sequence[Any] | None = None) -> Iterator[tuple[dict[str, Any], Any, tuple[int, ...]]]:
    """Every rendered prompt of an item: (design identity without model/seed/repetition, prompt, permutation),
    in the order stem → persona → instruction → option order → label scheme (``personas``: only these)."""
    fmt = s.inst.format_of(s.item)
    open_prompt = _open_prompt(fmt) if s.layout == "open" else ""
    turns = [t.model_dump() for t in s.item.turns or []]
    stems = framed_stems(study, s.inst, s.item)  # stem variants x item frames (preambles/postambles)
    for (stem_id, stem_text, frame), persona, instr, (order_id, perm), scheme in itertools.product(
            stems, factors.personas if personas is None else personas, s.instructions, s.orders, s.schemes):
        item_text = frame.replace("{item}", _item_text(s.inst, s.item, stem_text))
        rp = render(system_template=study.template.system, user_template=study.template.user,
                    persona_text="" if persona.id == "none" else persona.text, instructions=instr.text,
                    item_text=item_text, option_texts=[s.options.texts[j] for j in perm],
                    scheme=scheme, kind=s.layout, open_answer_prompt=open_prompt, turns=turns,
                    answer_prefix=study.template.answer_prefix)
        ident = {"persona": persona.id, "instruction_id": instr.id, "stem_id": stem_id, "order_id": order_id,
                 "label_scheme": scheme}
        yield ident, rp, perm


def _plan_row(s_hash: str, s: _ItemSetup, ident: dict[str, Any], rp: Any, p_hash: str,
              perm: tuple[int, ...]) -> dict[str, Any]:
    fmt = s.inst.format_of(s.item)
    return {
        "cell_key": _sha({**ident, "prompt": p_hash, "continuations": list(rp.continuations), "mode": s.mode}),
        "study_hash": s_hash,
        **ident,
        "instrument_version": s.inst.version,
        "instrument_sha256": s.inst.sha256 or "",
        "scale": s.item.scale or _first_scale(s.inst, s.item.id),
        "keyed": s.item.keyed,
        "permutation": list(perm),
        "n_options": len(s.options),
        "option_values": list(s.options.values),
        "option_texts": list(s.options.texts),
        "prompt_hash": p_hash,
        "mode": s.mode,
        "messages": list(rp.messages),
        "continuations": list(rp.continuations),
        "prefix_chars": rp.prefix_chars,
        "numeric_min": getattr(fmt, "min", None),
        "numeric_max": getattr(fmt, "max", None),
        "numeric_integer": bool(getattr(fmt, "integer", False)),
        "response_type": fmt.type,
        "max_tokens": _open_max_tokens(fmt),
    }


def _item_rows(s_hash: str, study: Study, factors: Factors, model: ModelSpec, setup: _ItemSetup,
               personas: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
    for design, rp, perm in _prompts(study, factors, setup, personas):
        p_hash = prompt_hash(rp.messages)
        for seed, rep in itertools.product(factors.seeds, range(factors.repetitions)):
            ident = {"model": model.id, "instrument": setup.inst.id, "item": setup.item.id, **design,
                     "seed": seed, "repetition": rep}
            yield _plan_row(s_hash, setup, ident, rp, p_hash, perm)


def _iter_rows(study: Study, factors: Factors, models: list[ModelSpec]) -> Iterator[dict[str, Any]]:
    s_hash = study_hash(study)
    for model, adm in itertools.product(models, factors.instruments):
        for item in adm.items:
            yield from _item_rows(s_hash, study, factors, model, _setup(study, factors, adm, item))


def prefix_text(messages: list[dict[str, str]], n: int) -> str:
    """The part of a prompt shared with other items of its condition: every message before the item's user
    message plus the first ``n`` characters of it (an answer prefill after it is not part of the prefix)."""
    u = max(i for i, m in enumerate(messages) if m["role"] == "user")
    return json.dumps(messages[:u]) + messages[u]["content"][:n]


def _first_scale(inst: Instrument, item_id: str) -> str:
    for sc, items in inst.scale_items().items():
        if item_id in items:
            return sc
    return ""


def build_plan(study: Study, models: list[ModelSpec] | None = None) -> pd.DataFrame:
    """All prompts of the study as one DataFrame (one row per prompt), in a deterministic order.

    Rows are ordered model → instrument → item → stem → persona → instruction → order → labels → seed;
    the engine re-orders for speed (shared prefixes together) but stores rows by ``cell_key``.
    """
    factors = expand_factors(study)
    rows = list(_iter_rows(study, factors, models if models is not None else list(study.models)))
    df = pd.DataFrame(rows)
    return df


#: rows per chunk of :func:`iter_plan` (about 3.5 KB of memory each while a chunk is held)
DEFAULT_CHUNK_ROWS = 50_000


def iter_plan(study: Study, models: list[ModelSpec] | None = None, *,
              chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The study's plan in chunks of about ``chunk_rows`` prompts, persona-major: each chunk holds every prompt
    of a block of whole personas for one model (model → persona block → instrument → item → stem → persona →
    instruction → order → labels → seed), so that memory stays bounded by the chunk whatever the population
    size, and the prompts sharing a persona's prefix arrive together (the engine sorts each chunk by prefix).

    The chunks together hold exactly the rows of :func:`build_plan` (in another order); a block is never smaller
    than one persona.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    factors = expand_factors(study)
    models = list(study.models) if models is None else models
    if not models:
        return
    s_hash = study_hash(study)
    setups = [_setup(study, factors, adm, item) for adm in factors.instruments for item in adm.items]
    per_persona = plan_size(study, factors) // max(1, len(factors.personas) * len(study.models))
    block = max(1, chunk_rows // max(1, per_persona))
    for model in models:
        for start in range(0, len(factors.personas), block):
            personas = factors.personas[start:start + block]
            rows = [row for setup in setups for row in _item_rows(s_hash, study, factors, model, setup, personas)]
            if rows:
                yield pd.DataFrame(rows)


def plan_summary(study: Study, plan: pd.DataFrame | Iterable[pd.DataFrame]) -> dict[str, Any]:
    """Factorial sizes, prompt count, and the share of prompt characters that are shared prefixes.

    ``plan`` is the whole plan (:func:`build_plan`) or its chunks (:func:`iter_plan`, summarised one chunk at a
    time; distinct prefixes are remembered by hash). ``per_model`` counts the prompts of each model.
    """
    factors = expand_factors(study)
    sizes = factors.sizes()
    sizes["models"] = len(study.models)
    chunks = [plan] if isinstance(plan, pd.DataFrame) else plan
    n = total_chars = reused = orders = stems = 0
    seen: set[bytes] = set()
    by_inst: dict[str, int] = {}
    by_mode: dict[str, int] = {}
    per_model: dict[str, int] = {}

    def add(into: dict[str, int], counts: pd.Series) -> None:
        for k, v in counts.items():
            into[k] = into.get(k, 0) + int(v)

    for chunk in chunks:
        if not len(chunk):
            continue
        n += len(chunk)
        orders = max(orders, int(chunk.groupby("item")["order_id"].nunique().max()))
        stems = max(stems, int(chunk.groupby("item")["stem_id"].nunique().max()))
        add(by_inst, chunk.groupby("instrument").size())
        add(by_mode, chunk.groupby("mode").size())
        add(per_model, chunk.groupby("model").size())
        total_chars += int(chunk["messages"].map(lambda ms: sum(len(m["content"]) for m in ms)).sum())
        for ms, k in zip(chunk["messages"], chunk["prefix_chars"]):
            text = prefix_text(ms, k)  # a prefix is computed once per distinct text: later copies are reused
            h = hashlib.blake2b(text.encode(), digest_size=16).digest()
            if h in seen:
                reused += len(text)
            else:
                seen.add(h)
    sizes["option orders (max)"] = orders
    sizes["stem variants (max)"] = stems
    return {
        "factors": sizes,
        "prompts": int(n),
        "by_instrument": dict(sorted(by_inst.items())),
        "by_mode": dict(sorted(by_mode.items())),
        "per_model": per_model,
        "shared_prefix_share": (reused / total_chars) if total_chars else 0.0,
        "approx_prompt_tokens": int(total_chars / 4),
    }
