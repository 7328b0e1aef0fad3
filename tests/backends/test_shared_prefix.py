"""Hierarchical prefix caching of the transformers backend, on a tiny random Llama in float32 (fast, exact enough
to compare caches): prefixes that share a root run the root once, and nothing changes but the work done."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module", params=["auto", "transformers"])
def backends(request):
    """(unshared, shared) backends; both forwards: psychometrika's lean one (auto) and transformers'."""
    from psychometrika.tools.bench import make_random_llama
    from psychometrika.backends.hf import TransformersBackend

    model, tok = make_random_llama("cpu", "float32", shape="tiny")
    make = lambda sharing: TransformersBackend.from_model(model, tok, batch_size=5,  # noqa: E731
                                                          prefix_sharing=sharing, forward=request.param)
    plain, shared = make(False), make(True)
    assert (shared._fast is not None) == (request.param == "auto")
    return plain, shared


def _requests():
    from psychometrika.backends.base import ScoreRequest

    reqs = []
    for persona in ("You are a careful accountant who plans every week of the year in advance and keeps lists.",
                    "You are an explorer who loves travelling to places nobody has mapped and telling stories."):
        for order in ("1. Disagree\n2. Neutral\n3. Agree", "1. Agree\n2. Neutral\n3. Disagree",
                      "1. Neutral\n2. Agree\n3. Disagree"):
            for item in ("is talkative", "worries a lot", "is full of ideas", "tends to be lazy"):
                msgs = ({"role": "system", "content": persona},
                        {"role": "user", "content": f"Rate the statement with one option.\n\n{order}\n\n"
                                                    f"I see myself as someone who {item}."},
                        {"role": "assistant", "content": "Answer:"})
                reqs.append(ScoreRequest(f"{persona[:12]}|{order[:12]}|{item}", msgs, (" 1", " 2", " 3")))
    return reqs


def test_shared_prefix_scores_equal_unshared_scores(backends):
    plain, shared = backends
    reqs = _requests()
    a, b = plain.score(reqs), shared.score(reqs)
    assert all(r.error is None for r in a + b)
    la, lb = np.array([r.logprobs for r in a]), np.array([r.logprobs for r in b])
    assert np.abs(la - lb).max() < 1e-4
    assert (la.argmax(1) == lb.argmax(1)).all()


def test_option_orders_run_their_persona_root_once(backends, monkeypatch):
    _, shared = backends
    encoded = [shared._encode(shared.render(r.messages)) for r in _requests()]
    # the six (persona, order) prefixes, cut where each order's items diverge
    from psychometrika.backends.hf import _lcp

    prefixes = [e[:_lcp(e, encoded[i + 1])] for i, e in enumerate(encoded) if i % 4 == 0]
    runs: list[tuple[int, int, int]] = []
    real = shared._run_prefixes

    def spy(seqs, past=None):
        runs.append((len(seqs), max(map(len, seqs)), past[1][0] if past is not None else 0))
        return real(seqs, past)

    monkeypatch.setattr(shared, "_run_prefixes", spy)
    layers, lengths = shared._prefix_cache(prefixes)
    assert lengths == [len(p) for p in prefixes]
    # two persona roots of one row each, then each persona's three orders on top of its root
    roots = [r for r in runs if r[2] == 0]
    assert len(roots) == 2 and all(n == 1 for n, _, _ in roots)
    assert sorted(n for n, _, base in runs if base) == [3, 3]
    tokens_run = sum(n * w for n, w, _ in runs)
    assert tokens_run < 0.6 * sum(map(len, prefixes))

    flat_layers, flat_lengths = real(prefixes)  # every prefix whole, one batch
    assert flat_lengths == lengths
    for (k, v), (fk, fv) in zip(layers, flat_layers):
        for i, n in enumerate(lengths):  # real positions only; padding is masked later
            assert torch.allclose(k[i, :, :n], fk[i, :, :n], atol=1e-5)
            assert torch.allclose(v[i, :, :n], fv[i, :, :n], atol=1e-5)
