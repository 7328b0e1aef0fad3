"""Activation steering in the transformers backend, on tiny random Llama models built in the test (the hook math):
the lean forward and the transformers fallback give the same steered logits, in score and generate mode; a
coefficient of 0 is bit-identical to no steering; a steered prefix is never reused unsteered; the other backends
refuse steered requests."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from psychometrika.backends.base import GenerateRequest, ScoreRequest, Steering  # noqa: E402
from psychometrika.backends.hf import TransformersBackend  # noqa: E402
from psychometrika.errors import BackendError  # noqa: E402
from psychometrika.models.steering import artefact_sha256, save_artefact  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    from psychometrika.tools.bench import make_random_llama

    return make_random_llama("cpu", "float32", shape="tiny")


@pytest.fixture(scope="module")
def artefact(tiny, tmp_path_factory):
    model, _ = tiny
    n, d = len(model.model.layers), model.config.hidden_size
    rng = np.random.default_rng(5)
    dirs = rng.normal(size=(n + 1, d))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    path = tmp_path_factory.mktemp("steer") / "tiny-trait"
    save_artefact(path, dirs, {"trait": "extraversion", "model_id": "tiny", "weights_sha256": "", "layer": 1,
                               "norm": "unit", "method": "random (test)"})
    return str(path.with_suffix(".safetensors")), artefact_sha256(path)


def _requests(steering=None, tag=""):
    reqs = []
    for order in ("1. Disagree\n2. Neutral\n3. Agree", "1. Agree\n2. Neutral\n3. Disagree"):
        for item in ("is talkative", "worries a lot", "is full of ideas", "tends to be lazy"):
            msgs = ({"role": "system", "content": "You are a careful accountant who plans every week in advance."},
                    {"role": "user", "content": f"Rate the statement with one option.\n\n{order}\n\n"
                                                f"I see myself as someone who {item}."},
                    {"role": "assistant", "content": "Answer:"})
            reqs.append(ScoreRequest(f"{tag}{order[:12]}|{item}", msgs, (" 1", " 2", " 3"), steering))
    reqs.append(ScoreRequest(f"{tag}multi", ({"role": "user", "content": "Pick one."},),
                             ("Agree strongly", "Disagree"), steering))  # multi-token: a row per option
    return reqs


def _lp(results):
    assert all(r.error is None for r in results), [r.error for r in results if r.error]
    return [np.array(r.logprobs) for r in results]


def _backends(tiny, **kw):
    model, tok = tiny
    return (TransformersBackend.from_model(model, tok, batch_size=4, forward="transformers", **kw),
            TransformersBackend.from_model(model, tok, batch_size=4, **kw))


@pytest.mark.parametrize("layers", [(1,), (1, 2)])
def test_lean_and_fallback_forward_give_the_same_steered_scores(tiny, artefact, layers):
    ref, lean = _backends(tiny)
    assert lean._fast is not None and ref._fast is None
    st = Steering(artefact[0], artefact[1], layers, 6.0)
    a, b = _lp(ref.score(_requests(st))), _lp(lean.score(_requests(st)))
    plain = _lp(lean.score(_requests()))
    for x, y, p in zip(a, b, plain):
        assert np.abs(x - y).max() < 1e-4
    # the steering does something (coefficient 6 on a unit vector against a residual of norm ~1)
    assert max(np.abs(x - p).max() for x, p in zip(b, plain)) > 1e-2
    # and equals whole-sequence scoring without any prefix cache
    _, unshared = _backends(tiny, prefix_sharing=False)
    for x, y in zip(_lp(unshared.score(_requests(st))), b):
        assert np.abs(x - y).max() < 1e-4


def test_steering_the_last_layer_adds_the_vector_before_the_final_norm(tiny, artefact):
    """Independent of both code paths: at the last layer the steered logits are lm_head(norm(h + c v))."""
    model, tok = tiny
    from safetensors.numpy import load_file

    n = len(model.model.layers)
    vec = torch.from_numpy(load_file(artefact[0])["directions"][n]) * 3.0
    _, lean = _backends(tiny)
    ids = torch.tensor([[5, 17, 42, 99, 7]])
    with torch.inference_mode():
        h = {}
        handle = model.model.layers[n - 1].register_forward_hook(lambda m, a, o: h.setdefault("x", o[0] if
                                                                                           isinstance(o, tuple)
                                                                                           else o))
        model(input_ids=ids)
        handle.remove()
        want = model.lm_head(model.model.norm(h["x"] + vec))[0, -1]
        got = lean._fast(ids, torch.arange(5)[None], torch.ones_like(ids, dtype=torch.bool),
                         steer={n - 1: vec})[0, -1]
    assert (want - got).abs().max() < 1e-4


def test_coefficient_zero_is_bit_identical_to_no_steering(tiny, artefact):
    for be in _backends(tiny):
        plain = _lp(be.score(_requests()))
        zero = _lp(be.score(_requests(Steering(artefact[0], artefact[1], (1,), 0.0))))
        assert all(np.array_equal(x, y) for x, y in zip(plain, zero))
        gen = [GenerateRequest("g", _requests()[0].messages, max_tokens=5)]
        gen0 = [GenerateRequest("g", _requests()[0].messages, max_tokens=5,
                                steering=Steering(artefact[0], artefact[1], (1,), 0.0))]
        assert be.generate(gen)[0].text == be.generate(gen0)[0].text


def test_a_steered_prefix_is_never_reused_unsteered(tiny, artefact):
    """Steered and unsteered requests in one call: the unsteered results are bit-identical to an unsteered-only
    call, and every suffix batch runs under the steering its prefix cache was built with."""
    _, lean = _backends(tiny)
    st = Steering(artefact[0], artefact[1], (1,), 6.0)
    alone = _lp(lean.score(_requests()))
    seen: list[tuple[str, object]] = []
    run_prefixes, suffix_logits = lean._run_prefixes, lean._suffix_logits

    def spy_prefix(seqs, past=None):
        seen.append(("prefix", lean._steer is not None))
        return run_prefixes(seqs, past)

    def spy_suffix(ids, mask, pos, keep, kv, sel):
        seen.append(("suffix" if kv is not None else "whole", lean._steer is not None))
        return suffix_logits(ids, mask, pos, keep, kv, sel)

    lean._run_prefixes, lean._suffix_logits = spy_prefix, spy_suffix
    mixed = lean.score(_requests(tag="u-") + _requests(st, tag="s-"))
    n = len(alone)
    assert all(np.array_equal(x, y) for x, y in zip(_lp(mixed[:n]), alone))
    steered = _lp(mixed[n:])
    assert max(np.abs(x - y).max() for x, y in zip(steered, alone)) > 1e-2
    # the calls come in runs of one steering each: prefixes, then the suffixes on top of them
    kinds = [k for k, _ in seen]
    assert "prefix" in kinds and "suffix" in kinds
    flags = [f for _, f in seen]
    switches = sum(a != b for a, b in zip(flags, flags[1:]))
    assert switches == 1 and flags.count(True) and flags.count(False)


def test_steered_generation_agrees_between_forwards_and_differs_from_unsteered(tiny, artefact):
    ref, lean = _backends(tiny)
    st = Steering(artefact[0], artefact[1], (1, 2), 12.0)
    msgs = _requests()[0].messages
    plain = ref.generate([GenerateRequest("g", msgs, max_tokens=8)])[0]
    a = ref.generate([GenerateRequest("g", msgs, max_tokens=8, steering=st)])[0]
    b = lean.generate([GenerateRequest("g", msgs, max_tokens=8, steering=st)])[0]
    assert a.error is None and a.text == b.text
    assert a.text != plain.text


def test_bad_artefacts_are_refused(tiny, artefact, tmp_path):
    _, lean = _backends(tiny)
    with pytest.raises(BackendError, match="outside 1..2"):
        lean.score(_requests(Steering(artefact[0], artefact[1], (3,), 1.0)))
    with pytest.raises(BackendError, match="changed since the study was planned"):
        lean.score(_requests(Steering(artefact[0], "0" * 64, (1,), 1.0)))
    other = tmp_path / "other"
    save_artefact(other, np.ones((3, 8)), {"trait": "x", "weights_sha256": "ab" * 32, "layer": 1, "norm": "raw"})
    with pytest.raises(BackendError, match="shape"):
        lean.score(_requests(Steering(str(other.with_suffix(".safetensors")), artefact_sha256(other), (1,), 1.0)))


def test_requests_sharing_a_key_are_refused_not_answered_alike(tiny):
    _, lean = _backends(tiny)
    msgs = ({"role": "user", "content": "Rate: I am talkative."}, {"role": "assistant", "content": "Answer:"})
    reqs = [ScoreRequest("k", msgs, (" 1", " 2")), ScoreRequest("k", msgs[:1] + msgs[1:], (" 3", " 4"))]
    with pytest.raises(BackendError, match="1 request\\(s\\) reuse the key of a different request in the same call"):
        lean.score(reqs)
    with pytest.raises(BackendError, match="reuse the key"):
        lean.generate([GenerateRequest("g", msgs, max_tokens=2), GenerateRequest("g", msgs, max_tokens=3)])
    # the same request twice under one key (score mode with repetitions) has one answer: allowed
    twice = lean.score([reqs[0], reqs[0], ScoreRequest("k2", msgs, (" 3", " 4"))])
    assert len(twice) == 3 and twice[0].logprobs == twice[1].logprobs
