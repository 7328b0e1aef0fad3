"""The openai backend's reading of server logprobs, and its settings checks (no server needed)."""

from __future__ import annotations

import math

import pytest

from psychometrika.backends import make_backend
from psychometrika.backends.openai_backend import OpenAIBackend, one_hot, option_logprobs
from psychometrika.errors import BackendError


def _pos(token, logprob, tops):
    return {"token": token, "logprob": logprob, "top_logprobs": [{"token": t, "logprob": v} for t, v in tops]}


def test_single_token_options_read_from_the_first_position():
    content = [_pos("2", -0.5, [("2", -0.5), ("1", -1.5), ("3", -2.0), ("x", -4.0)])]
    assert option_logprobs(["1", "2", "3"], content) == [-1.5, -0.5, -2.0]


def test_shared_space_token_is_walked_and_added():
    content = [_pos(" ", -0.1, [(" ", -0.1), ("I", -3.0)]),
               _pos("4", -0.7, [("4", -0.7), ("5", -1.0), ("3", -2.5)])]
    got = option_logprobs([" 3", " 4", " 5"], content)
    assert got == pytest.approx([-2.6, -0.8, -1.1])


def test_options_outside_the_top_k_get_the_kth_logprob_as_upper_bound():
    content = [_pos("1", -0.2, [("1", -0.2), ("I", -2.0), ("The", -6.0)])]
    assert option_logprobs(["1", "2", "3"], content) == [-0.2, -6.0, -6.0]


def test_multi_token_option_along_the_greedy_path():
    content = [_pos(" Agree", -0.3, [(" Agree", -0.3), (" Disagree", -1.4)]),
               _pos(" strongly", -0.2, [(" strongly", -0.2), (" a", -2.0)])]
    got = option_logprobs([" Agree strongly", " Agree a little", " Disagree strongly"], content)
    assert got[0] == pytest.approx(-0.5)
    assert got[1] == pytest.approx(-2.3)  # " Agree" + " a" is not a whole option: bounded by the k-th at pos 2
    assert got[2] == pytest.approx(-1.4)


def test_no_option_in_the_top_k_is_an_error_not_an_answer():
    with pytest.raises(ValueError, match="none of the options"):
        option_logprobs(["1", "2"], [_pos("I", -0.1, [("I", -0.1), ("The", -2.0)])])


def test_one_hot_fallback_for_servers_without_logprobs():
    assert one_hot([" 1", " 2", " 12"], " 12 because") == [-math.inf, -math.inf, 0.0]
    with pytest.raises(ValueError):
        one_hot(["1", "2"], "I would rather not say")


def test_api_keys_are_refused_in_study_settings():
    with pytest.raises(BackendError, match="environment variable"):
        make_backend("openai", "m", api_key="sk-secret-value")
    with pytest.raises(BackendError, match=r"unknown setting\(s\) temprature for backend 'openai'; it takes: api_key_env"):
        make_backend("openai", "m", temprature=0.5)


def test_unreachable_server_fails_with_a_clear_message():
    with pytest.raises(BackendError, match="could not list the models"):
        OpenAIBackend(base_url="http://127.0.0.1:9/v1", max_retries=1, backoff_s=0.01, timeout_s=2)


def test_manifest_redacts_credentials():
    from psychometrika.engine.run import redact
    assert redact({"api_key_env": "MY_KEY", "token": "abc", "nested": {"password": "x"}, "top_logprobs": 5}) == \
        {"api_key_env": "MY_KEY", "token": "***", "nested": {"password": "***"}, "top_logprobs": 5}
