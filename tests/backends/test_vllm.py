"""The vLLM backend, for real, on the embedded SmolLM2 (bf16 safetensors converted from the shipped GGUF).

Runs in its own environment (``.ci/setup-vllm.sh`` builds ``.venv-vllm`` with ``vllm-cpu``); ``.ci/run`` calls
``OMP_NUM_THREADS=2 VLLM_ENABLE_V1_MULTIPROCESSING=0 VLLM_CPU_KVCACHE_SPACE=2 .venv-vllm/bin/python -m pytest -m vllm
tests/backends``. Elsewhere these tests are skipped (vLLM is not importable). One engine is started per session
(start-up with compilation takes 1.5-3 minutes on 2 cores) and one vLLM OpenAI server for the HTTP test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytestmark = pytest.mark.vllm
vllm = pytest.importorskip("vllm")

import psychometrika as pm  # noqa: E402
from psychometrika.backends import make_backend  # noqa: E402
from psychometrika.engine import run_study  # noqa: E402
from psychometrika.plan.parsing import parse_answer  # noqa: E402

from .common import bfi_rows, generate_requests, normalised, score_requests  # noqa: E402


@pytest.fixture(scope="session")
def llm():
    be = make_backend("vllm", model="embedded", max_model_len=2048)
    yield be
    be.close()


@pytest.fixture(scope="session")
def hf():
    return make_backend("transformers", model="embedded")


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    return bfi_rows(tmp_path_factory.mktemp("plan"), 44)


def test_option_scores_match_transformers_on_bfi44(llm, hf, rows):
    v = llm.score(score_requests(rows))
    h = hf.score(score_requests(rows))
    assert all(r.error is None and len(r.logprobs) == 5 for r in v)
    same = sum(int(np.argmax(a.logprobs) == np.argmax(b.logprobs)) for a, b in zip(v, h))
    diff = max(float(np.abs(normalised(a.logprobs) - normalised(b.logprobs)).max()) for a, b in zip(v, h))
    raw = max(float(np.abs(np.subtract(a.logprobs, b.logprobs)).max()) for a, b in zip(v, h))
    print(f"\nvLLM bf16 vs transformers fp32 on 44 BFI items: same answer {same}/44, "
          f"max |Δ normalised log-prob| {diff:.3f}, max |Δ raw log-prob| {raw:.3f}")
    assert same >= 41
    assert diff < 0.3 and raw < 0.3
    assert llm.info.weights_sha256 == hf.info.weights_sha256  # same source bytes, same identity


def test_multi_token_option_texts_are_summed(llm, hf, tmp_path):
    rows = bfi_rows(tmp_path, 8, labels="text")
    assert all(len(r["continuations"]) == 5 for r in rows)
    v = llm.score(score_requests(rows))
    h = hf.score(score_requests(rows))
    for a, b in zip(v, h):
        assert a.error is None
        assert np.allclose(a.logprobs, b.logprobs, atol=0.4), (a.logprobs, b.logprobs)
        assert min(a.logprobs) < -3  # multi-token sums are far below single-token scores


def test_greedy_generation_is_deterministic_and_agrees_with_scoring(llm, rows):
    sub = rows[:16]
    a = llm.generate(generate_requests(sub))
    b = llm.generate(generate_requests(sub))
    assert [x.text for x in a] == [x.text for x in b]
    scores = llm.score(score_requests(sub))
    parsed = [parse_answer(g.text, options=[], labels=list(r["continuations"])) for g, r in zip(a, sub)]
    ok = [(pos, s) for (status, pos), s in zip(parsed, scores) if status == "ok"]
    assert len(ok) >= 12, [g.text for g in a]
    agree = sum(int(pos == int(np.argmax(s.logprobs))) for pos, s in ok) / len(ok)
    print(f"\nvLLM score/generate agreement: {agree:.2f} on {len(ok)} parsed answers")
    assert agree >= 0.75


class _Shared:
    """The session's engine, lent to run_study (which closes the backends it is given when it is done)."""

    def __init__(self, backend):
        self._backend, self.info = backend, backend.info

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def close(self) -> None:
        pass


def test_study_runs_and_resumes_on_vllm(llm, tmp_path):
    study = tmp_path / "s.yaml"
    study.write_text("id: vllm-run\ninstruments: [{id: bfi-44, items: [bfi01, bfi02, bfi03, bfi04, bfi05]}]\n"
                     "models: [{id: v, backend: vllm, model: embedded}]\noption_orders: [original, reversed]\n"
                     "template: {answer_prefix: 'Answer:'}\n")
    first = run_study(study, tmp_path / "run", progress=False, backend_factory=lambda spec: _Shared(llm), max_rows=4)
    rest = run_study(study, tmp_path / "run", progress=False, backend_factory=lambda spec: _Shared(llm))
    df = pm.read_run(tmp_path / "run")
    assert first.failed == rest.failed == 0
    assert len(df) == 10 and df["request_key"].is_unique and (df["status"] == "ok").all()
    assert set(df["backend"]) == {"vllm"}
    # the chosen display position maps back through each row's permutation to the stored original option
    for _, r in df.iterrows():
        assert int(r["chosen_option"]) == list(r["permutation"])[int(r["chosen_position"])]
        assert abs(sum(r["probs"]) - 1) < 1e-9
    rev = df[df["order_id"] == "reversed"]
    assert (rev["permutation"].apply(list) == [[4, 3, 2, 1, 0]] * len(rev)).all()


#: Server and in-process vLLM run bf16 logits in different batch shapes; on the 2-core CI machine of 2026-12-02
#: their option log-probs differed by up to one bf16 rounding step of a logit in [16, 32) (0.125), also at the
#: commit before that session (measured: 0.06-0.14, argmax always equal). The argmax check above stays exact.
BF16_LOGIT_STEP = 0.25  # up to 0.158 seen; two steps


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_openai_backend_against_the_vllm_server(llm, rows, tmp_path):
    folder = llm.info.extra["source"]
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", folder,
                             "--served-model-name", "smol", "--host", "127.0.0.1", "--port", str(port),
                             "--max-model-len", "2048", "--dtype", "bfloat16", "--max-logprobs", "20"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 600
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(url + "/models", timeout=5)
                break
            except OSError:
                assert time.time() < deadline, "vLLM server did not start in 10 minutes"
                time.sleep(3)
        client = make_backend("openai", base_url=url)
        assert client.info.model_id == "smol"
        sub = rows[:12]
        http = client.score(score_requests(sub))
        local = llm.score(score_requests(sub))
        for h, loc in zip(http, local):
            assert h.error is None and loc.error is None, (h.error, loc.error)
            assert int(np.argmax(h.logprobs)) == int(np.argmax(loc.logprobs))
            top = np.asarray(h.logprobs) > min(h.logprobs) + 1e-9
            assert np.allclose(np.asarray(h.logprobs)[top], np.asarray(loc.logprobs)[top], atol=BF16_LOGIT_STEP)
        gen = client.generate(generate_requests(sub[:4]))
        assert all(g.error is None and g.text for g in gen)
        assert [g.text for g in gen] == [g.text for g in llm.generate(generate_requests(sub[:4]))]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
