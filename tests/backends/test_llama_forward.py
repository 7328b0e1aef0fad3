"""psychometrika's lean Llama-layout forward (backends/llama_forward.py) against the transformers forward it
replaces: tiny random Llama, Qwen2 (q/k/v biases) and Mistral models in float32, every way it is called (whole
left-padded rows, one shared prefix, per-row right-padded prefixes), then the backend and the real embedded
model."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from psychometrika.backends.llama_forward import LlamaForward, supports  # noqa: E402

DIMS = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            vocab_size=300, max_position_embeddings=256)


def _model(kind: str, **extra):
    cfg = {"llama": transformers.LlamaConfig, "qwen2": transformers.Qwen2Config,
           "mistral": transformers.MistralConfig}[kind](**{**DIMS, **extra})
    torch.manual_seed(3)
    cls = {"llama": transformers.LlamaForCausalLM, "qwen2": transformers.Qwen2ForCausalLM,
           "mistral": transformers.MistralForCausalLM}[kind]
    model = cls(cfg).eval()
    if kind == "qwen2":  # random biases: the default init leaves them at zero, which would test nothing
        with torch.no_grad():
            for layer in model.model.layers:
                for m in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                    m.bias.normal_(0, 0.5)
    return model


def _reference(model, seq: list[int], keep: int):
    with torch.inference_mode():
        return model(input_ids=torch.tensor([seq])).logits[0, -keep:]


def _left_padded(suffixes: list[list[int]], starts: list[int]):
    width = max(map(len, suffixes))
    ids = torch.zeros((len(suffixes), width), dtype=torch.long)
    pos = torch.zeros_like(ids)
    valid = torch.zeros((len(suffixes), width), dtype=torch.bool)
    for j, (x, s) in enumerate(zip(suffixes, starts)):
        ids[j, width - len(x):] = torch.tensor(x)
        pos[j, width - len(x):] = torch.arange(s, s + len(x))
        valid[j, width - len(x):] = True
    return ids, pos, valid


@pytest.mark.parametrize("attention", LlamaForward.ATTENTION)
@pytest.mark.parametrize("kind", ["llama", "qwen2", "mistral"])
def test_lean_forward_equals_transformers(kind, attention):
    model = _model(kind)
    assert supports(model) is None
    fwd = LlamaForward(model, attention=attention)
    rng = np.random.default_rng(0)
    seq = lambda n: rng.integers(1, 300, n).tolist()  # noqa: E731
    prefixes = [seq(6), seq(9)]
    suffixes = [seq(4), seq(7), seq(5)]
    rows = [0, 1, 1]
    keep = 2
    with torch.inference_mode():
        # whole rows of different lengths, left-padded, no cache
        whole = [prefixes[r] + s for r, s in zip(rows, suffixes)]
        ids, pos, valid = _left_padded(whole, [0, 0, 0])
        got = fwd(ids, pos, valid, keep=keep)
        for j, w in enumerate(whole):
            assert (got[j] - _reference(model, w, keep)).abs().max() < 1e-4
        # prefix caches computed by the lean forward itself, right-padded to the longest prefix
        width = max(map(len, prefixes))
        p_ids = torch.tensor([p + [0] * (width - len(p)) for p in prefixes])
        p_valid = torch.tensor([[i < len(p) for i in range(width)] for p in prefixes])
        _, cache = fwd(p_ids, torch.arange(width).expand(2, -1), p_valid, want_cache=True)
        lengths = torch.tensor([len(p) for p in prefixes])
        ids, pos, valid = _left_padded(suffixes, [len(prefixes[r]) for r in rows])
        got = fwd(ids, pos, valid, past=(cache, lengths, torch.tensor(rows)), keep=keep)
        for j, w in enumerate(whole):
            assert (got[j] - _reference(model, w, keep)).abs().max() < 1e-4
        # one prefix shared by every row (no per-row copy of its cache)
        one = [(k[1:2], v[1:2]) for k, v in cache]
        ids, pos, valid = _left_padded(suffixes, [9, 9, 9])
        got = fwd(ids, pos, valid, past=(one, lengths[1:2], None), keep=keep)
        for j, s in enumerate(suffixes):
            assert (got[j] - _reference(model, prefixes[1] + s, keep)).abs().max() < 1e-4
        # and the transformers cache of the same prefix is interchangeable with the lean one
        hf = model(input_ids=torch.tensor([prefixes[1]]), use_cache=True)
        hf_cache = getattr(hf, "cache", None) or hf.past_key_values
        for (k, v), layer in zip(one, hf_cache.layers):
            assert (k[:, :, :9] - layer.keys).abs().max() < 1e-5
            assert (v[:, :, :9] - layer.values).abs().max() < 1e-5


def test_fused_projections_are_views_and_fused_once():
    model = _model("llama")
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.inference_mode():
        before = model(input_ids=ids).logits
    first = LlamaForward(model)
    att = model.model.layers[0].self_attn
    wqkv = first.layers[0][2]
    assert wqkv.shape[0] == att.q_proj.out_features + 2 * att.k_proj.out_features
    assert att.q_proj.weight.data_ptr() == wqkv.data_ptr()
    assert att.k_proj.weight.data_ptr() == wqkv[att.q_proj.out_features:].data_ptr()
    with torch.inference_mode():
        assert torch.equal(model(input_ids=ids).logits, before)
    assert LlamaForward(model).layers[0][2] is wqkv  # a second backend on the model adds no memory


def test_supports_names_what_it_cannot_run():
    assert "model_type 'gpt2'" in supports(transformers.GPT2LMHeadModel(transformers.GPT2Config(
        n_layer=1, n_embd=32, n_head=2, vocab_size=100)))
    assert "hidden_act" in supports(_model("llama", hidden_act="gelu"))
    assert "sliding_window" in supports(_model("mistral", sliding_window=8), max_length=256)
    assert supports(_model("mistral", sliding_window=4096), max_length=256) is None
    odd = _model("llama")
    del odd.model.layers[0].mlp.up_proj  # e.g. remote code with fused weights of its own
    assert "unexpected module layout" in supports(odd)
    with pytest.raises(ValueError, match="cannot run"):
        LlamaForward(_model("llama", hidden_act="gelu"))
    with pytest.raises(ValueError, match="attention must be one of"):
        LlamaForward(_model("llama"), attention="flash")


def _requests():
    from psychometrika.backends.base import ScoreRequest

    reqs = []
    for order in ("1. Disagree\n2. Neutral\n3. Agree", "1. Agree\n2. Neutral\n3. Disagree"):
        for item in ("is talkative", "worries a lot", "is full of ideas", "tends to be lazy", "is curious"):
            msgs = ({"role": "system", "content": "You are a careful accountant who plans every week in advance."},
                    {"role": "user", "content": f"Rate the statement with one option.\n\n{order}\n\n"
                                                f"I see myself as someone who {item}."},
                    {"role": "assistant", "content": "Answer:"})
            reqs.append(ScoreRequest(f"{order[:12]}|{item}", msgs, (" 1", " 2", " 3")))
    msgs = ({"role": "user", "content": "Pick one."},)
    reqs.append(ScoreRequest("multi", msgs, ("Agree strongly", "Disagree")))  # multi-token: a row per option
    return reqs


def test_backend_uses_the_lean_forward_with_the_same_scores():
    from psychometrika.tools.bench import make_random_llama
    from psychometrika.backends.hf import TransformersBackend
    from psychometrika.errors import BackendError

    model, tok = make_random_llama("cpu", "float32", shape="tiny")
    ref = TransformersBackend.from_model(model, tok, batch_size=4, forward="transformers")
    lean = TransformersBackend.from_model(model, tok, batch_size=4)
    assert lean.info.extra["forward"] == "psychometrika" and lean._fast is not None
    assert ref._fast is None and ref.info.extra["forward"].startswith("transformers")
    reqs = _requests()
    a, b = ref.score(reqs), lean.score(reqs)
    assert all(r.error is None for r in a + b)
    la, lb = np.array([r.logprobs for r in a[:-1]]), np.array([r.logprobs for r in b[:-1]])
    assert np.abs(la - lb).max() < 1e-4 and (la.argmax(1) == lb.argmax(1)).all()
    assert np.allclose(a[-1].logprobs, b[-1].logprobs, atol=1e-4)
    with pytest.raises(BackendError, match="forward must be"):
        TransformersBackend("embedded", forward="fast")
    with pytest.raises(BackendError, match="attention must be one of sdpa, matmul, not 'flash'"):
        TransformersBackend.from_model(model, tok, attention="flash")


@pytest.mark.slow
@pytest.mark.parametrize("attention", LlamaForward.ATTENTION)
def test_compiled_lean_forward_equals_eager(attention):
    model = _model("llama")
    eager = LlamaForward(model, attention=attention)
    compiled = LlamaForward(model, compile=True, attention=attention)
    rng = np.random.default_rng(1)
    suffixes = [rng.integers(1, 300, n).tolist() for n in (3, 6, 4, 6)]
    ids, pos, valid = _left_padded(suffixes, [0] * 4)
    with torch.inference_mode():
        a, b = eager(ids, pos, valid, keep=3), compiled(ids, pos, valid, keep=3)
        assert (a - b).abs().max() < 1e-4
        # on top of a shared prefix, and with no padding at all (the unpacked path)
        _, cache = eager(ids[1:2], pos[1:2], valid[1:2], want_cache=True)
        past = (cache, torch.tensor([6]), None)
        ids, pos, valid = _left_padded(suffixes[1:], [6] * 3)
        a, b = eager(ids, pos, valid, past=past, keep=2), compiled(ids, pos, valid, past=past, keep=2)
        assert (a - b).abs().max() < 1e-4
        full = torch.ones_like(valid)
        a, b = eager(ids, pos, full, past=past, keep=2), compiled(ids, pos, full, past=past, keep=2)
        assert (a - b).abs().max() < 1e-4


@pytest.mark.slow
def test_embedded_model_scores_equal_through_both_forwards():
    """The real SmolLM2 (float32 on CPU): the lean forward and transformers' agree on every BFI-style item."""
    from psychometrika.backends import make_backend

    lean = make_backend("transformers", model="embedded", batch_size=8)
    ref = make_backend("transformers", model="embedded", batch_size=8, forward="transformers")
    assert lean.model is ref.model and lean._fast is not None
    reqs = _requests()[:-1]
    a, b = ref.score(reqs), lean.score(reqs)
    la, lb = np.array([r.logprobs for r in a]), np.array([r.logprobs for r in b])
    assert np.abs(la - lb).max() < 1e-3
    assert (la.argmax(1) == lb.argmax(1)).all()
    assert np.ptp(np.exp(lb), axis=1).max() > 0.01  # the options do differ: the comparison is not of flat rows


def test_bf16_weights_with_float32_arithmetic_equal_the_widened_model():
    """``compute_dtype: float32`` over bfloat16 weights (what ``dtype: auto`` picks above 1 B parameters on a CPU)
    gives the scores of the same bf16-rounded weights widened to a float32 model, and records itself."""
    import copy

    from psychometrika.backends.hf import TransformersBackend, auto_dtype
    from psychometrika.tools.bench import make_random_llama

    model, tok = make_random_llama("cpu", "bfloat16", shape="tiny")
    widened = copy.deepcopy(model).float()
    mixed = TransformersBackend.from_model(model, tok, batch_size=4, compute_dtype="float32")
    ref = TransformersBackend.from_model(widened, tok, batch_size=4)
    pure = TransformersBackend.from_model(model, tok, batch_size=4)
    assert mixed.info.extra["compute_dtype"] == "float32" and mixed.dtype == "bfloat16"
    assert "compute_dtype" not in pure.info.extra
    assert next(model.parameters()).dtype == torch.bfloat16  # the weights stay stored in bf16
    reqs = _requests()
    a, b, c = mixed.score(reqs), ref.score(reqs), pure.score(reqs)
    la, lb, lc = (np.array([r.logprobs for r in x[:-1]]) for x in (a, b, c))
    assert np.abs(la - lb).max() < 1e-4
    assert np.abs(lc - lb).max() > 10 * np.abs(la - lb).max()  # bf16 arithmetic is measurably different
    assert np.allclose(a[-1].logprobs, b[-1].logprobs, atol=1e-4)
    assert auto_dtype("cpu", 1_540_000_000)[:2] == ("bfloat16", "float32")
    assert auto_dtype("cpu", 134_515_008)[:2] == ("float32", None)
    assert auto_dtype("cpu", None)[:2] == ("float32", None)
    assert auto_dtype("cuda", 134_515_008)[:2] == ("bfloat16", None)
