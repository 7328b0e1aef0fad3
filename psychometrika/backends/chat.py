"""Chat rendering shared by the backends that tokenize locally (transformers, vLLM, the local server)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .base import Message

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
