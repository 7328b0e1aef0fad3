"""Rendering prompts: instruction, response options (in display order with labels), item, answer prompt.

The default user message puts what is shared first (instructions and the response scale) and the item
last, so that every item of one condition shares a long token prefix (fast shared-prefix scoring). For
multiple-choice items (SJTs) the options belong to the item and follow it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Sequence

LIKERT_TEMPLATE = "{instructions}\n\nResponse options:\n{options}\n\n{item}\n\n{answer_prompt}"
CHOICE_TEMPLATE = "{instructions}\n\n{item}\n\nOptions:\n{options}\n\n{answer_prompt}"
OPEN_TEMPLATE = "{instructions}\n\n{item}\n\n{answer_prompt}"

ANSWER_PROMPTS = {
    "numeric": "Answer with the number of one option only.",
    "letters": "Answer with the letter of one option only.",
    "text": "Answer with the exact text of one option only.",
}


def labels_for(scheme: str, option_texts: Sequence[str]) -> list[str]:
    """Labels shown before the options in display order (``1``…, ``A``…, or the option text itself)."""
    k = len(option_texts)
    if scheme == "numeric":
        return [str(i + 1) for i in range(k)]
    if scheme == "letters":
        if k > 26:
            raise ValueError("letter labels support at most 26 options")
        return list(string.ascii_uppercase[:k])
    if scheme == "text":
        return list(option_texts)
    raise ValueError(f"unknown label scheme {scheme!r}")


def options_block(scheme: str, option_texts: Sequence[str]) -> str:
    if scheme == "text":
        return "\n".join(f"- {t}" for t in option_texts)
    return "\n".join(f"{lab}. {t}" for lab, t in zip(labels_for(scheme, option_texts), option_texts))


def _fill(template: str, **parts: str) -> str:
    """Substitute {placeholders} without str.format, so braces in item texts are never interpreted."""
    out = template
    for name, value in parts.items():
        out = out.replace("{" + name + "}", value)
    return out.strip()


@dataclass(frozen=True)
class RenderedPrompt:
    messages: tuple[dict[str, str], ...]
    continuations: tuple[str, ...]  # empty for open (numeric/text) answers
    prefix_chars: int  # length of the user message's start shared with other items of the same condition


def render(*, system_template: str, user_template: str | None, persona_text: str, instructions: str,
           item_text: str, option_texts: Sequence[str], scheme: str, kind: str,
           open_answer_prompt: str = "", turns: Sequence[dict[str, str]] = (),
           answer_prefix: str | None = None) -> RenderedPrompt:
    """Render one prompt.

    ``kind`` is ``likert`` (shared response scale), ``choice`` (item-specific options) or ``open``
    (numeric or text answers: no options, ``open_answer_prompt`` says what to write). ``turns`` is a
    scripted conversation placed before the rendered user message. ``answer_prefix`` opens the assistant's
    answer (a final assistant message the model continues); the continuations then start with a space.
    """
    if kind == "open":
        template = user_template or OPEN_TEMPLATE
        opts, answer, continuations = "", open_answer_prompt, ()
    else:
        template = user_template or (LIKERT_TEMPLATE if kind == "likert" else CHOICE_TEMPLATE)
        opts = options_block(scheme, option_texts)
        answer = ANSWER_PROMPTS[scheme]
        continuations = tuple(labels_for(scheme, option_texts))
    user = _fill(template, instructions=instructions, options=opts, item=item_text, answer_prompt=answer)
    system = _fill(system_template, persona=persona_text)
    messages: tuple[dict[str, str], ...] = (*({"role": t["role"], "content": t["content"]} for t in turns),
                                            {"role": "user", "content": user})
    if system:
        messages = ({"role": "system", "content": system},) + messages
    if answer_prefix:
        prefix = answer_prefix.rstrip()
        messages = messages + ({"role": "assistant", "content": prefix},)
        continuations = tuple(" " + c for c in continuations)
    cut = user.find(item_text) if item_text else -1
    shared = 0 if turns else max(cut, 0)  # shared part of the user message; scripted turns differ per item
    return RenderedPrompt(messages, continuations, prefix_chars=shared)
