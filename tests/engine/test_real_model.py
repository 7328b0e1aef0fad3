"""The engine with the embedded SmolLM2-135M-Instruct (real model, CPU): score vs generate, personas, orders."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wilcoxon

import psychometrika as pm
from psychometrika.backends import GenerateRequest, ScoreRequest, make_backend
from psychometrika.engine import run_study

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")

ITEMS = ["bfi01", "bfi02", "bfi06", "bfi07", "bfi12", "bfi17", "bfi21", "bfi22", "bfi27", "bfi32", "bfi36",
         "bfi37", "bfi42", "bfi03", "bfi08", "bfi13"]


def _study(tmp_path, name: str, body: str):
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"id: {name}\ninstruments: [{{id: bfi-44, items: [{', '.join(ITEMS)}]}}]\n"
                 "models: [{id: smol, backend: transformers, model: embedded}]\n" + body)
    return p


@pytest.fixture(scope="module")
def backend():
    return make_backend("transformers", model="embedded")


def _by_hand(backend, messages, cont_ids: list[int]) -> float:
    """Log-probability of ``cont_ids`` after the rendered prompt, from one full forward pass."""
    prompt_ids = backend._encode(backend.render(messages))
    with torch.inference_mode():
        lp = torch.log_softmax(backend.model(input_ids=torch.tensor([prompt_ids + cont_ids])).logits.float(), -1)[0]
    return sum(float(lp[len(prompt_ids) - 1 + j, t]) for j, t in enumerate(cont_ids))


def test_backend_scores_are_batch_invariant_and_sum_multi_token_continuations(backend):
    msgs = [({"role": "user", "content": f"Rate 1-5 how much you like item number {i}{'!' * i}. Answer:"},)
            for i in range(6)]
    conts = ("1", "2", "3", "4", "5")
    batch = backend.score([ScoreRequest(f"k{i}", m, conts) for i, m in enumerate(msgs)])
    single = [backend.score([ScoreRequest(f"s{i}", m, conts)])[0] for i, m in enumerate(msgs)]
    for b, s in zip(batch, single):
        assert b.error is None and len(b.logprobs) == 5
        assert np.allclose(b.logprobs, s.logprobs, atol=1e-4)  # right padding does not change the answer
        assert all(lp < 0 for lp in b.logprobs)
    # a multi-token continuation equals the sum of its token log-probs computed by hand, alone or batched
    # with other requests' (one row per continuation, the rows of one prompt sharing its prefix cache)
    text = ("Agree strongly", "Disagree strongly", "Neither")
    res = backend.score([ScoreRequest("m", msgs[0], text)])[0]
    for cont, got in zip(text, res.logprobs):
        assert got == pytest.approx(_by_hand(backend, msgs[0], backend._encode(cont)), abs=1e-4)
    mixed = backend.score([ScoreRequest(f"m{i}", m, text) for i, m in enumerate(msgs[:3])]
                          + [ScoreRequest("d", msgs[1], conts)])
    assert mixed[0].logprobs == pytest.approx(res.logprobs, abs=1e-4)
    assert mixed[3].logprobs == pytest.approx(batch[1].logprobs, abs=1e-4)
    assert mixed[2].logprobs[2] == pytest.approx(_by_hand(backend, msgs[2], backend._encode("Neither")), abs=1e-4)
    assert mixed[0].n_prompt_tokens == len(backend._encode(backend.render(msgs[0])))
    assert backend.info.weights_sha256 and len(backend.info.weights_sha256) == 64
    assert backend.info.extra["n_parameters"] == pytest.approx(134.5e6, rel=0.01)


def test_generate_is_deterministic_when_greedy(backend):
    msgs = ({"role": "user", "content": "Say hello in one word."},)
    a = backend.generate([GenerateRequest("a", msgs, max_tokens=8)])[0]
    b = backend.generate([GenerateRequest("b", msgs, max_tokens=8), GenerateRequest("c", msgs[:1], max_tokens=4)])[0]
    assert a.error is None and a.text and a.text == b.text and a.n_completion_tokens <= 8
    # a request that cannot fit the context with its max_tokens fails alone; the others in its call still run
    long, ok = backend.generate([GenerateRequest("long", msgs, max_tokens=backend.max_length),
                                 GenerateRequest("ok", msgs, max_tokens=8)])
    assert long.error and "new tokens exceeds the model's context" in long.error and long.text == ""
    assert ok.error is None and ok.text == a.text


def test_score_and_generate_modes_agree_on_most_items(backend, tmp_path):
    # the 135M model answers in prose unless its answer is opened for it: both modes share the prefill
    prefix = "template: {answer_prefix: 'Answer:'}\n"
    score = _study(tmp_path, "s", "mode: score\n" + prefix)
    gen = _study(tmp_path, "g", "mode: generate\ndecoding: {temperature: 0, max_tokens: 12}\n" + prefix)
    run_study(score, tmp_path / "rs", progress=False)
    run_study(gen, tmp_path / "rg", progress=False)
    s, g = pm.read_run(tmp_path / "rs"), pm.read_run(tmp_path / "rg")
    m = s.merge(g, on=["item", "persona", "instruction_id", "order_id"], suffixes=("_s", "_g"))
    assert len(m) == len(ITEMS)
    ok = m[m["status_g"] == "ok"]
    assert len(ok) >= 0.75 * len(m), g[["item", "raw_text", "status"]]
    agreement = float((ok["chosen_option_s"] == ok["chosen_option_g"]).mean())
    print(f"\nscore/generate agreement on {len(ok)} parsed items: {agreement:.2f}")
    assert agreement > 0.5
    assert (g["raw_text"].str.len() > 0).all()


def test_persona_changes_answer_distribution_and_reversal_maps_back(tmp_path):
    body = """\
personas:
  include_none: false
  items:
    - {id: warm, text: "You are an extremely warm, kind, trusting and cooperative person who loves everyone."}
    - {id: cold, text: "You are a cold, rude, suspicious and quarrelsome person who dislikes everyone."}
option_orders: [original, reversed]
"""
    run_study(_study(tmp_path, "p", body), tmp_path / "rp", progress=False)
    df = pm.read_run(tmp_path / "rp")
    assert len(df) == len(ITEMS) * 2 * 2 and (df["status"] == "ok").all()
    # every chosen display position maps back through the permutation
    for _, r in df.iterrows():
        assert r["chosen_option"] == r["permutation"][r["chosen_position"]]
    probs = {k: np.vstack(g.sort_values(["item", "order_id"])["probs"]) for k, g in df.groupby("persona")}
    tv = 0.5 * np.abs(probs["warm"] - probs["cold"]).sum(axis=1)
    ev = df.pivot_table(index=["item", "order_id"], columns="persona", values="expected_value")
    diff = (ev["cold"] - ev["warm"]).to_numpy()
    p = wilcoxon(diff).pvalue
    print(f"\nmean total-variation distance warm vs cold: {tv.mean():.4f}; paired EV shift {diff.mean():+.4f}, "
          f"Wilcoxon p = {p:.2g}")
    # the 135M model moves little (TV ~.02, p ~.01-.02 over 32 paired cells), but far above the numerical noise
    # of re-scoring the same prompt (~1e-5, see test_shared_prefix_scoring_equals_unshared_scoring)
    assert tv.mean() > 0.005 and tv.min() > 1e-3
    # reversing the options changes the raw positions the model picks for the same original option
    o = df[df.order_id == "original"].set_index(["item", "persona"])
    r = df[df.order_id == "reversed"].set_index(["item", "persona"]).loc[o.index]
    same_option = (o["chosen_option"] == r["chosen_option"]).to_numpy()
    assert not np.all(o["chosen_position"].to_numpy()[same_option] == r["chosen_position"].to_numpy()[same_option])\
        or same_option.sum() == 0
    # probabilities are stored in ORIGINAL option order: reversed display probs map back
    for (_, a), (_, b) in zip(o.iterrows(), r.iterrows()):
        assert np.isclose(sum(a["probs"]), 1) and np.isclose(sum(b["probs"]), 1)


def test_shared_prefix_scoring_equals_unshared_scoring(backend):
    """Prefix KV-cache reuse (two personas x 8 items sharing instructions + scale) changes nothing but speed,
    including continuations that share a leading space token after an answer prefix."""
    scale = "Response options:\n1. Disagree strongly\n2. Disagree a little\n3. Neither\n4. Agree a little\n5. Agree strongly"
    items = ["is talkative", "is reserved", "worries a lot", "is inventive", "is <b>bold</b> & {loud}",
             "tends to be lazy", "is generally trusting", "can be moody"]
    reqs = []
    for persona in ("You are warm and kind.", "You are cold and rude to everyone you meet."):
        for j, it in enumerate(items):
            msgs = ({"role": "system", "content": persona},
                    {"role": "user", "content": f"Rate each statement.\n\n{scale}\n\nI see myself as someone who {it}."},
                    {"role": "assistant", "content": "Answer:"})
            reqs.append(ScoreRequest(f"{persona}{j}", msgs, tuple(f" {k}" for k in range(1, 6))))
    reqs.append(ScoreRequest("text", reqs[0].messages[:2], ("Agree strongly", "Disagree strongly")))
    plain = make_backend("transformers", model="embedded", prefix_sharing=False)
    shared = make_backend("transformers", model="embedded", prefix_sharing=True, batch_size=4)
    a, b = plain.score(reqs), shared.score(reqs)
    diff = max(abs(x - y) for p, q in zip(a, b) for x, y in zip(p.logprobs, q.logprobs))
    assert all(r.error is None for r in a + b) and diff < 1e-3
    assert [int(np.argmax(r.logprobs)) for r in a] == [int(np.argmax(r.logprobs)) for r in b]
    # the shared-space continuation equals the explicit two-token sum
    by_hand = [_by_hand(plain, reqs[0].messages, plain._encode(c)) for c in reqs[0].continuations]
    assert np.allclose(by_hand, a[0].logprobs, atol=1e-4)


def test_closing_the_last_backend_of_a_model_frees_its_weights():
    from psychometrika.backends import hf

    hf.clear_cache()          # start from a fresh load (backends still open keep their own references)
    hf.keep_weights(False)
    try:
        first = make_backend("transformers", model="embedded")
        second = make_backend("transformers", model="embedded")   # shares the loaded weights
        assert second.model is first.model and hf.cached_models() == 1
        second.close()
        second.close()                                             # closing twice is harmless
        assert hf.cached_models() == 1 and second.model is None    # the first backend still uses them
        first.close()
        assert hf.cached_models() == 0 and first.model is None     # nobody uses them: freed
    finally:
        hf.keep_weights(None)
