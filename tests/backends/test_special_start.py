"""The special tokens a model expects at the start (a base model's ``<bos>``) are in every prompt path -- with and
without a chat template -- and never doubled when the template emits them itself.

The base model is a tiny random Llama (float32) whose tokenizer is the embedded one turned into a base-model
tokenizer: no chat template, and a post-processor that puts ``<|endoftext|>`` (id 0) before every text the way
Llama's and Gemma's put ``<s>``/``<bos>``. Scores are checked against the model run by hand on the ids with and
without that token, so a missing (or doubled) BOS shows as a difference in log-probabilities.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from psychometrika.backends.base import GenerateRequest, ScoreRequest  # noqa: E402
from psychometrika.backends.chat import render_chat, special_start  # noqa: E402

BOS = "<|endoftext|>"
MSGS = ({"role": "system", "content": "You are a careful accountant."},
        {"role": "user", "content": "Rate: I am talkative.\n1. Disagree\n2. Neutral\n3. Agree"},
        {"role": "assistant", "content": "Answer:"})


@functools.lru_cache(maxsize=1)
def _embedded_tokenizer():
    from psychometrika.tools.bench import load_tokenizer

    return load_tokenizer()  # parsing the GGUF takes seconds: once, then copies


def _base_tokenizer(template: str | None = None):
    from tokenizers import processors

    tok = copy.deepcopy(_embedded_tokenizer())
    tok.chat_template = template
    tok.bos_token = BOS
    tok.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, 0)])
    return tok


def _by_hand(model, prompt: list[int], continuations: list[list[int]]) -> np.ndarray:
    """log P(continuation | prompt), summed over its tokens, from whole-sequence forward passes."""
    out = []
    for c in continuations:
        with torch.inference_mode():
            lp = model(input_ids=torch.tensor([prompt + c])).logits[0].float().log_softmax(-1)
        out.append(sum(float(lp[len(prompt) - 1 + j, t]) for j, t in enumerate(c)))
    return np.array(out)


def test_base_tokenizer_without_template_gets_its_bos():
    tok = _base_tokenizer()
    assert tok("a")["input_ids"][0] == 0 and tok("a", add_special_tokens=False)["input_ids"][0] != 0
    assert special_start(tok) == BOS
    text = render_chat(tok, MSGS)
    assert text.startswith(f"{BOS}System: You are a careful accountant.\nUser: Rate:")
    assert text.endswith("Assistant: Answer:")
    ids = tok(text, add_special_tokens=False)["input_ids"]
    bare = tok(text[len(BOS):], add_special_tokens=False)["input_ids"]
    assert ids[0] == 0 and ids[1] != 0 and ids[1:] == bare
    # the no-prefill transcript too
    assert render_chat(tok, MSGS[:2]).startswith(BOS + "System:")


def test_backend_scores_and_generates_after_the_bos():
    from psychometrika.backends.hf import TransformersBackend
    from psychometrika.tools.bench import make_random_llama

    model, _ = make_random_llama("cpu", "float32", shape="tiny")
    tok = _base_tokenizer()
    for forward in ("auto", "transformers"):  # the lean forward and the model's own
        be = TransformersBackend.from_model(model, tok, batch_size=4, forward=forward)
        assert be.info.extra["special_start"] == BOS and be.info.extra["chat_template"] is False
        res = be.score([ScoreRequest("k", MSGS, (" 1", " 2", " 3"))])[0]
        assert res.error is None
        text = render_chat(tok, MSGS)
        prompt = tok(text, add_special_tokens=False)["input_ids"]
        conts = [tok(f" {d}", add_special_tokens=False)["input_ids"] for d in "123"]
        with_bos = _by_hand(model, prompt, conts)
        without = _by_hand(model, prompt[1:], conts)
        got = np.asarray(res.logprobs)
        assert np.abs(got - with_bos).max() < 1e-4
        assert np.abs(with_bos - without).max() > 1e-3  # the BOS changes the answer: the check above can fail
        assert res.n_prompt_tokens == len(prompt) and prompt.count(0) == 1
        assert be.count_tokens(MSGS) == len(prompt)
        gen = be.generate([GenerateRequest("g", MSGS[:2], max_tokens=2)])[0]
        assert gen.error is None and gen.n_prompt_tokens == len(tok(render_chat(tok, MSGS[:2]),
                                                                    add_special_tokens=False)["input_ids"])


def test_template_that_emits_bos_gets_no_second_one():
    template = ("{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok = _base_tokenizer(template)
    text = render_chat(tok, MSGS[:2])
    assert text.startswith(BOS + "<|im_start|>system") and not text.startswith(BOS * 2)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids[0] == 0 and ids.count(0) == 1


def test_embedded_smollm2_no_double_bos():
    """SmolLM2's tokenizer adds nothing, and its ``bos_token`` is ``<|im_start|>``, which its template begins
    with: even when told to add its BOS, the rendered prompt keeps one ``<|im_start|>`` at the start."""
    from psychometrika.backends.hf import TransformersBackend

    be = TransformersBackend("embedded", batch_size=4)
    tok = be.tokenizer
    assert be.info.extra["special_start"] == "" and be.has_chat_template
    plain = render_chat(tok, MSGS)
    ids = tok(plain, add_special_tokens=False)["input_ids"]
    assert plain.startswith("<|im_start|>system\n") and ids[0] == tok.bos_token_id and ids[1] != tok.bos_token_id
    assert be.count_tokens(MSGS) == len(ids)
    res = be.score([ScoreRequest("k", MSGS, (" 1", " 2", " 3"))])[0]
    assert res.error is None and res.n_prompt_tokens == len(ids)
    forced = copy.deepcopy(_embedded_tokenizer())
    forced.add_bos_token = True  # a tokenizer that adds <|im_start|> before every text
    assert forced("a")["input_ids"][0] == forced.bos_token_id
    assert special_start(forced) == "<|im_start|>"
    assert tok(render_chat(forced, MSGS), add_special_tokens=False)["input_ids"] == ids
