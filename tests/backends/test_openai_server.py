"""The openai backend against a real local HTTP server serving the embedded SmolLM2 (`psychometrika serve`)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

import psychometrika as pm
from psychometrika.backends import make_backend
from psychometrika.backends.serve import Faults, start_server
from psychometrika.engine import run_study

from .common import bfi_rows, generate_requests, normalised, score_requests

pytestmark = pytest.mark.slow
pytest.importorskip("torch")


@pytest.fixture(scope="module")
def server():
    srv = start_server("embedded")
    yield srv
    srv.shutdown()


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    return bfi_rows(tmp_path_factory.mktemp("plan"), 12)


def test_scores_over_http_equal_the_transformers_backend(server, rows):
    client = make_backend("openai", base_url=server.url)
    assert client.info.model_id == "smollm2-135m-instruct"  # from GET /v1/models
    http = client.score(score_requests(rows))
    local = server.backend.score(score_requests(rows))
    n_close = 0
    for h, loc in zip(http, local):
        assert h.error is None, h.error
        assert int(np.argmax(h.logprobs)) == int(np.argmax(loc.logprobs))
        # options in the server's top-20 carry their exact log-probability; the others an upper bound
        top = np.asarray(h.logprobs) > min(h.logprobs) + 1e-9
        assert np.allclose(np.asarray(h.logprobs)[top], np.asarray(loc.logprobs)[top], atol=2e-3)
        assert (np.asarray(h.logprobs) >= np.asarray(loc.logprobs) - 2e-3).all()
        n_close += int(np.allclose(normalised(h.logprobs), normalised(loc.logprobs), atol=2e-3))
    assert n_close >= len(rows) // 2  # with " 1".." 5" after "Answer:" most items have every option in the top-20


def test_greedy_generation_over_http_equals_local_generation(server, rows):
    client = make_backend("openai", base_url=server.url, max_concurrency=4)
    http = client.generate(generate_requests(rows[:6]))
    local = server.backend.generate(generate_requests(rows[:6]))
    assert [h.text for h in http] == [loc.text for loc in local]
    assert all(h.error is None and h.n_prompt_tokens > 100 and 0 < h.n_completion_tokens <= 6 for h in http)


def test_retries_ride_out_503_429_and_dropped_connections(rows):
    srv = start_server("embedded", faults=Faults(fail_every=3, rate_limit_every=4, drop_every=5, retry_after_s=0.05))
    try:
        client = make_backend("openai", model="smol", base_url=srv.url, backoff_s=0.01, max_retries=6,
                              max_concurrency=3)
        res = client.score(score_requests(rows[:8]))
        assert all(r.error is None for r in res)
        assert client.retries >= 4 and srv.n_posts == srv.n_answered + client.retries
        # no retries left: the failures surface as errors (never as answers)
        strict = make_backend("openai", model="smol", base_url=srv.url, backoff_s=0.01, max_retries=0)
        res = strict.score(score_requests(rows[:8]))
        errors = [r.error for r in res if r.error]
        expected = ("HTTP 503", "HTTP 429", "RemoteDisconnected", "ConnectionReset")
        assert errors and all(any(x in e for x in expected) for e in errors), errors
        assert all(len(r.logprobs) == 5 for r in res if not r.error)
    finally:
        srv.shutdown()


def test_study_through_the_cli_server_with_an_api_key(tmp_path):
    key = "sk-test-" + os.urandom(8).hex()
    env = {**os.environ, "PM_TEST_KEY": key}
    proc = subprocess.Popen([sys.executable, "-m", "psychometrika.backends.serve", "--port", "0",
                             "--api-key-env", "PM_TEST_KEY"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "serving" in line, line
        url = line.split(" at ")[1].strip()
        with pytest.raises(urllib.error.HTTPError) as err:  # no key, no answer
            urllib.request.urlopen(url + "/models", timeout=30)
        assert err.value.code == 401
        study = tmp_path / "s.yaml"
        study.write_text("id: http\ninstruments: [{id: bfi-44, items: [bfi01, bfi02, bfi03]}]\n"
                         f"models: [{{id: api, backend: openai, model: smol, settings: {{base_url: '{url}', "
                         "api_key_env: PM_TEST_KEY}}]\noption_orders: [original, reversed]\n"
                         "template: {answer_prefix: 'Answer:'}\n")
        os.environ["PM_TEST_KEY"] = key
        try:
            report = run_study(study, tmp_path / "run", progress=False)
        finally:
            del os.environ["PM_TEST_KEY"]
        df = pm.read_run(tmp_path / "run")
        assert report.failed == 0 and len(df) == 6 and (df["status"] == "ok").all()
        assert set(df["backend"]) == {"openai"}
        assert np.allclose(df["probs"].apply(sum), 1.0)
        for f in (tmp_path / "run").rglob("*"):  # the key is never written anywhere
            if f.is_file():
                assert key.encode() not in f.read_bytes(), f
    finally:
        proc.terminate()
        proc.wait(timeout=30)
