"""The engine's parts: collision-free generation seeds, and the model settings both drivers redact."""

from __future__ import annotations

import itertools

import pytest

from psychometrika.backends.base import ModelInfo
from psychometrika.design.study import ModelSpec
from psychometrika.engine.keys import SEED_SPACE, generation_seed
from psychometrika.engine.manifest import model_entry


def test_generation_seeds_never_collide_across_repetitions_and_study_seeds():
    seeds = [generation_seed(s, r) for s, r in itertools.product(range(5), range(2500))]
    assert len(set(seeds)) == len(seeds)                      # 12,500 distinct seeds
    assert all(0 <= x < SEED_SPACE for x in seeds)
    # the former seed*1000+repetition rule gave (0, 1000) and (1, 0) the same seed
    assert generation_seed(0, 1000) != generation_seed(1, 0)
    assert generation_seed(3, 7) == generation_seed(3, 7)    # deterministic: a re-run samples the same


def test_every_prompt_of_a_repetition_shares_its_seed_so_backends_can_batch_them():
    import pandas as pd

    from psychometrika.engine.batch import administer_batch

    seen = []

    class Recorder:
        info = ModelInfo("rec", "dummy", "0" * 64)

        def generate(self, reqs):
            from psychometrika.backends.base import GenerateResult

            seen.extend(r.seed for r in reqs)
            return [GenerateResult(r.key, "3", 5, 1, 0.0) for r in reqs]

    rows = pd.DataFrame([{"mode": "generate", "seed": 11, "repetition": rep, "messages": [{"role": "user",
                          "content": f"q{i}"}], "continuations": ["1", "2", "3"], "permutation": [0, 1, 2],
                          "option_values": [1.0, 2.0, 3.0], "option_texts": ["a", "b", "c"], "n_options": 3,
                          "prefix_chars": 0, "max_tokens": None} for i in range(3) for rep in range(2)])
    res = administer_batch(Recorder(), rows, {"temperature": 0.7, "top_p": 1.0, "max_tokens": 8})
    assert seen == [generation_seed(11, rep) for _ in range(3) for rep in range(2)]
    assert [r["chosen_value"] for r in res.rows] == [3.0] * 6 and res.failed == 0


SECRET_SETTINGS = {"base_url": "http://h/v1", "auth_token": "s3cr3t", "headers": {"Authorization": "Bearer x"},
                   "api_key_env": "MY_KEY"}
REDACTED = {"base_url": "http://h/v1", "auth_token": "***", "headers": {"Authorization": "***"},
            "api_key_env": "MY_KEY"}


def test_model_entry_redacts_settings():
    spec = ModelSpec.model_construct(id="m", backend="openai", model="gpt", settings=SECRET_SETTINGS)
    entry = model_entry(spec, ModelInfo("gpt", "openai", "", extra={"server": "x"}))
    assert entry["settings"] == REDACTED and entry["server"] == "x" and entry["model"] == "gpt"


def test_ray_worker_writes_redacted_settings_like_the_local_engine():
    pytest.importorskip("ray")
    from psychometrika.engine.ray_executor import ShardWorker

    worker = ShardWorker.__new__(ShardWorker)  # the actor body, outside Ray
    worker.spec = ModelSpec.model_construct(id="m", backend="openai", model="gpt", settings=SECRET_SETTINGS)
    worker.backend = type("B", (), {"info": ModelInfo("gpt", "openai", "")})()
    assert worker.describe()["model_info"]["settings"] == REDACTED
