"""Chat rendering shared by the backends that tokenize locally (transformers, vLLM, the local server)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .base import GenerateRequest, GenerateResult, Message

_FALLBACK_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}


def has_prefill(messages: Sequence[Message]) -> bool:
    """True when the last message is an assistant *prefill* that the answer continues."""
    return bool(messages) and messages[-1]["role"] == "assistant"


def render_chat(tokenizer: Any, messages: Sequence[Message]) -> str:
    """The chat-templated prompt text with the assistant turn opened.

    A final assistant message is a prefill: the answer continues it (``continue_final_message``). Tokenizers
    without a chat template get a plain ``Role: text`` transcript ending in ``Assistant:``.
    """
    msgs = [dict(m) for m in messages]
    prefill = has_prefill(msgs)
    if getattr(tokenizer, "chat_template", None):
        if prefill:
            return tokenizer.apply_chat_template(msgs, continue_final_message=True, tokenize=False)
        return tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    body = "".join(f"{_FALLBACK_ROLES.get(m['role'], m['role'])}: {m['content']}\n" for m in msgs)
    return body.rstrip("\n") if prefill else body + "Assistant:"


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
