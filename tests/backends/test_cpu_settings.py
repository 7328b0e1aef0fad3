"""The transformers backend's CPU settings: ``omp_wait_policy`` applied before torch starts OpenMP, refused with
a warning once torch runs under another policy; the effective values are what the manifest records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from psychometrika.backends import check_settings
from psychometrika.errors import BackendError

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import json, os, sys
from psychometrika.backends.hf import _omp_wait_policy
before = "torch" in sys.modules
eff = _omp_wait_policy(sys.argv[1] if sys.argv[1] != "-" else None)
print(json.dumps({"torch_before": before, "torch_after": "torch" in sys.modules, "effective": eff, "env": os.environ.get("OMP_WAIT_POLICY")}))
"""


def _probe(arg: str, env_policy: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(REPO)
    if env_policy:
        env["OMP_WAIT_POLICY"] = env_policy
    out = subprocess.run([sys.executable, "-c", _PROBE, arg], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_wait_policy_is_set_before_torch_is_imported():
    got = _probe("passive")
    # set in the environment before libgomp (loaded by ``import torch``) reads it
    assert got == {"torch_before": False, "torch_after": False, "effective": "passive", "env": "passive"}
    got = _probe("-", env_policy="ACTIVE")  # no setting: the environment's policy is the effective one
    assert got["effective"] == "active" and got["env"].lower() == "active"
    got = _probe("-")  # neither: passive, the default
    assert got["effective"] == "passive" and got["env"] == "passive"
    got = _probe("unset", env_policy="passive")  # libgomp's own default, asked for
    assert got["effective"].startswith("unset") and got["env"] is None


def test_a_policy_that_cannot_take_effect_warns_and_records_the_real_one(monkeypatch):
    pytest.importorskip("torch")
    from psychometrika.backends.hf import _omp_wait_policy

    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    with pytest.warns(UserWarning, match="cannot take effect"):
        assert _omp_wait_policy("passive") == "active"
    assert os.environ["OMP_WAIT_POLICY"] == "active"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _omp_wait_policy("ACTIVE") == "active"  # already in effect: no warning
    with pytest.warns(UserWarning, match="'unset' cannot take effect"):
        assert _omp_wait_policy("unset") == "active"
    assert _omp_wait_policy(None) == "active"  # the environment's, torch running: nothing to warn about
    with pytest.raises(BackendError, match="omp_wait_policy must be one of passive, active, unset"):
        _omp_wait_policy("spin")


def test_the_settings_are_checked_like_any_other():
    check_settings("transformers", {"threads": 2, "omp_wait_policy": "passive", "weights_cache": False})
    with pytest.raises(BackendError, match="threads: must be at least 1"):
        check_settings("transformers", {"threads": 0})
    with pytest.raises(BackendError, match="weights_cache"):
        check_settings("transformers", {"weights_cache": "no"})
