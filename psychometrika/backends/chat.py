"""Chat rendering shared by the backends that tokenize locally (transformers, vLLM, the local server)."""

from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

from .base import GenerateRequest, GenerateResult, Message

_FALLBACK_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}


def has_prefill(messages: Sequence[Message]) -> bool:
    """True when the last message is an assistant *prefill* that the answer continues."""
    return bool(messages) and messages[-1]["role"] == "assistant"


_STARTS: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


def special_start(tokenizer: Any) -> str:
    """The text of the special tokens the model expects at the start of every input -- a base model's ``<bos>``
    (Llama, Gemma, Mistral) -- or ``""`` when it expects none (Qwen2, SmolLM2).

    Read from the tokenizer itself: the tokens it puts before a text encoded with its special tokens that are
    not there without them (its post-processor), or its ``bos_token`` when it is configured to add one
    (``add_bos_token``) without a post-processor that does. Cached per tokenizer.
    """
    try:
        return _STARTS[tokenizer]
    except (KeyError, TypeError):
        pass
    head = ""
    try:
        with_sp = list(tokenizer("a", add_special_tokens=True)["input_ids"])
        without = list(tokenizer("a", add_special_tokens=False)["input_ids"])
        n = len(with_sp) - len(without)
        if n > 0 and with_sp[n:] == without:
            head = "".join(tokenizer.convert_ids_to_tokens(with_sp[:n]))
    except Exception:  # noqa: BLE001 - a tokenizer without the usual call: fall back to its settings
        pass
    bos = getattr(tokenizer, "bos_token", None)
    if not head and bos and getattr(tokenizer, "add_bos_token", False):
        head = str(bos)
    try:
        _STARTS[tokenizer] = head
    except TypeError:  # not weak-referenceable: computed each time
        pass
    return head


def with_special_start(tokenizer: Any, text: str) -> str:
    """``text`` beginning with the model's :func:`special_start` (added only when the text does not already
    begin with it: a chat template that emits ``<bos>`` itself never gets a second one)."""
    head = special_start(tokenizer)
    return text if not head or text.startswith(head) else head + text


def render_chat(tokenizer: Any, messages: Sequence[Message]) -> str:
    """The chat-templated prompt text with the assistant turn opened, starting with the special tokens the
    model expects (:func:`with_special_start`); the backends encode it with ``add_special_tokens=False``.

    A final assistant message is a prefill: the answer continues it (``continue_final_message``). Tokenizers
    without a chat template (base models) get a plain ``Role: text`` transcript ending in ``Assistant:``, after
    the tokenizer's ``<bos>`` where it adds one.
    """
    msgs = [dict(m) for m in messages]
    prefill = has_prefill(msgs)
    if getattr(tokenizer, "chat_template", None):
        if prefill:
            text = tokenizer.apply_chat_template(msgs, continue_final_message=True, tokenize=False)
        else:
            text = tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    else:
        body = "".join(f"{_FALLBACK_ROLES.get(m['role'], m['role'])}: {m['content']}\n" for m in msgs)
        text = body.rstrip("\n") if prefill else body + "Assistant:"
    return with_special_start(tokenizer, text)


def common_head(conts: list[list[int]]) -> list[int]:
    """Tokens shared at the start of every continuation, leaving at least one token of each."""
    head = []
    for j in range(min(len(c) for c in conts) - 1):
        t = conts[0][j]
        if all(c[j] == t for c in conts):
            head.append(t)
        else:
            break
    return head


def encode_score_request(encode: Callable[[str], list[int]], prompt_text: str, continuations: Sequence[str],
                         max_length: int) -> tuple[list[int], list[list[int]]]:
    """Token ids of a score request's prompt and of each continuation.

    Raises ValueError for an empty continuation or a prompt that does not fit the context, so that the
    backend can fail that request alone.
    """
    prompt = encode(prompt_text)
    conts = [encode(c) for c in continuations]
    if not conts or any(len(c) == 0 for c in conts):
        raise ValueError("empty continuation")
    if len(prompt) + max(len(c) for c in conts) > max_length:
        raise ValueError(f"prompt of {len(prompt)} tokens exceeds the model's context ({max_length})")
    return prompt, conts


def encode_generate_requests(encode: Callable[[str], list[int]], render: Callable[[Sequence[Message]], str],
                             requests: Sequence[GenerateRequest], max_length: int
                             ) -> tuple[list[tuple[GenerateRequest, list[int]]], dict[str, GenerateResult]]:
    """Prompt token ids of generation requests: ``(request, ids)`` pairs for those that fit the context with
    their ``max_tokens``, and an error result for each that does not or cannot be rendered (it fails alone)."""
    ok: list[tuple[GenerateRequest, list[int]]] = []
    failed: dict[str, GenerateResult] = {}
    for r in requests:
        try:
            prompt = encode(render(r.messages))
            if len(prompt) + r.max_tokens > max_length:
                raise ValueError(f"prompt of {len(prompt)} tokens + {r.max_tokens} new tokens exceeds the "
                                 f"model's context ({max_length})")
            ok.append((r, prompt))
        except Exception as exc:
            failed[r.key] = GenerateResult(r.key, "", 0, 0, 0.0, error=f"{type(exc).__name__}: {exc}")
    return ok, failed
