"""The prompt plan: one row per prompt to administer, with every design factor and the rendered messages.

``build_plan(study)`` is a pure function of the study file and the instrument files. Each row carries:

* the design identity (model, instrument, item, persona, paraphrase ids, option order, labels, seed,
  repetition) — the columns of the response table, see ``docs/response-table.md``;
* ``messages`` and ``continuations`` (what the backend sees);
* ``cell_key``: a hash of the design identity and the exact prompt — a row's identity in the store.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

import pandas as pd

from ..design.factors import Factors, expand_factors, stems_of
from ..design.orders import expand_orders
from ..design.study import ModelSpec, Study, study_hash
from ..instruments.schema import Instrument, Item
from .prompts import render


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


def prompt_hash(messages: tuple[dict[str, str], ...] | list[dict[str, str]]) -> str:
    return _sha(list(messages))


def _open_prompt(fmt) -> str:
    if fmt.type == "numeric":
        kind = "a whole number" if fmt.integer else "a number"
        unit = f" ({fmt.unit})" if fmt.unit else ""
        return f"Answer with {kind} from {fmt.min:g} to {fmt.max:g}{unit} only."
    return "Write your answer" + (f" in at most {fmt.max_words} words." if fmt.max_words else ".")


def _open_max_tokens(fmt) -> int | None:
    """Tokens a free-text answer may need (about 1.5 tokens per English word, plus slack); None otherwise."""
    if fmt.type == "text":
        return int(fmt.max_words * 1.5) + 16 if fmt.max_words else 256
    return None


def _item_text(inst: Instrument, item: Item, stem_text: str) -> str:
    fmt = inst.format_of(item)
    if fmt.type == "multiple_choice":
        question = stem_text or inst.question or "What would you do?"
        return f"{item.scenario}\n\n{question}" if item.scenario else question
    return inst.stem.replace("{text}", stem_text)


def _iter_rows(study: Study, factors: Factors, models: list[ModelSpec]) -> Iterator[dict[str, Any]]:
    s_hash = study_hash(study)
    for model in models:
        for adm in factors.instruments:
            inst = adm.instrument
            for item in adm.items:
                fmt = inst.format_of(item)
                if fmt.type == "likert":
                    option_texts, values, kind = list(fmt.labels), list(fmt.values), "likert"
                elif fmt.type == "multiple_choice":
                    option_texts = [o.text for o in item.options or []]
                    values = [o.value if o.value is not None else float(i) for i, o in enumerate(item.options or [])]
                    kind = "choice"
                else:
                    option_texts, values, kind = [], [], "open"
                k = len(option_texts)
                orders = expand_orders(factors.order_specs, k) if k else [("original", ())]
                schemes = factors.label_schemes if k else ["none"]
                mode = study.mode if k else "generate"
                for stem_id, stem_text in stems_of(inst, item, study.paraphrases.stems, study.seed):
                    item_text = _item_text(inst, item, stem_text)
                    for persona in factors.personas:
                        persona_text = "" if persona.id == "none" else persona.text
                        for instr in adm.instructions:
                            for order_id, perm in orders:
                                shown = [option_texts[j] for j in perm]
                                for scheme in schemes:
                                    rp = render(system_template=study.template.system,
                                                user_template=study.template.user,
                                                persona_text=persona_text, instructions=instr.text,
                                                item_text=item_text, option_texts=shown, scheme=scheme,
                                                kind=kind, open_answer_prompt=_open_prompt(fmt) if kind == "open"
                                                else "", turns=[t.model_dump() for t in item.turns or []],
                                                answer_prefix=study.template.answer_prefix)
                                    p_hash = prompt_hash(rp.messages)
                                    for seed in factors.seeds:
                                        for rep in range(factors.repetitions):
                                            ident = {
                                                "model": model.id, "instrument": inst.id, "item": item.id,
                                                "persona": persona.id, "instruction_id": instr.id,
                                                "stem_id": stem_id, "order_id": order_id,
                                                "label_scheme": scheme, "seed": seed, "repetition": rep,
                                            }
                                            yield {
                                                "cell_key": _sha({**ident, "prompt": p_hash,
                                                                  "continuations": list(rp.continuations),
                                                                  "mode": mode}),
                                                "study_hash": s_hash,
                                                **ident,
                                                "instrument_version": inst.version,
                                                "instrument_sha256": inst.sha256 or "",
                                                "scale": item.scale or _first_scale(inst, item.id),
                                                "keyed": item.keyed,
                                                "permutation": list(perm),
                                                "n_options": k,
                                                "option_values": values,
                                                "option_texts": option_texts,
                                                "prompt_hash": p_hash,
                                                "mode": mode,
                                                "messages": list(rp.messages),
                                                "continuations": list(rp.continuations),
                                                "prefix_chars": rp.prefix_chars,
                                                "numeric_min": getattr(fmt, "min", None),
                                                "numeric_max": getattr(fmt, "max", None),
                                                "numeric_integer": bool(getattr(fmt, "integer", False)),
                                                "response_type": fmt.type,
                                                "max_tokens": _open_max_tokens(fmt),
                                            }


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


def plan_summary(study: Study, plan: pd.DataFrame) -> dict[str, Any]:
    """Factorial sizes, prompt count, and the share of prompt characters that are shared prefixes."""
    factors = expand_factors(study)
    sizes = factors.sizes()
    sizes["models"] = len(study.models)
    sizes["option orders (max)"] = int(plan.groupby("item")["order_id"].nunique().max()) if len(plan) else 0
    sizes["stem variants (max)"] = int(plan.groupby("item")["stem_id"].nunique().max()) if len(plan) else 0
    total_chars = plan["messages"].map(lambda ms: sum(len(m["content"]) for m in ms)).sum() if len(plan) else 0
    # a prefix is computed once per distinct prefix text: share = characters that can be reused
    prefixes = plan.assign(_prefix=[
        prefix_text(ms, n) for ms, n in zip(plan["messages"], plan["prefix_chars"])
    ]) if len(plan) else plan
    reused = 0
    if len(plan):
        lens = prefixes["_prefix"].str.len()
        first = ~prefixes["_prefix"].duplicated()
        reused = int(lens[~first].sum())
    return {
        "factors": sizes,
        "prompts": int(len(plan)),
        "by_instrument": plan.groupby("instrument").size().to_dict() if len(plan) else {},
        "by_mode": plan.groupby("mode").size().to_dict() if len(plan) else {},
        "shared_prefix_share": (reused / total_chars) if total_chars else 0.0,
        "approx_prompt_tokens": int(total_chars / 4),
    }
