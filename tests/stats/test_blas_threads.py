"""The statistics run with BLAS limited to one thread (issue 22.5): small matrices, busy machines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import DataError
from psychometrika.stats import common

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads_now() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_decorated_statistics_limit_blas_and_restore_it(monkeypatch):
    seen: list[list[int]] = []

    @common.small_blas
    def probe() -> None:
        seen.append(_blas_threads_now())

    @common.small_blas
    def outer() -> None:
        probe()                      # nested: still limited, the limit is set once
        seen.append(_blas_threads_now())

    if not _blas_threads_now():
        pytest.skip("no BLAS library visible to threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):   # as on a default multi-core start
        before = _blas_threads_now()
        assert before == [2] * len(before)
        outer()
        assert len(seen) == 2 and all(t == [1] * len(before) for t in seen)
        assert _blas_threads_now() == before                           # restored afterwards
        monkeypatch.setenv(common.BLAS_THREADS_ENV, "0")                # 0: leave BLAS alone
        seen.clear()
        probe()
        assert seen == [before]
        monkeypatch.setenv(common.BLAS_THREADS_ENV, "many")
        with pytest.raises(DataError, match=common.BLAS_THREADS_ENV):
            probe()


def test_public_statistics_are_limited():
    for fn in (pm.alpha, pm.omega, pm.fa, pm.fa_parallel, pm.cfa, pm.invariance, pm.grm, pm.twopl, pm.dif,
               pm.polychoric, pm.mardia, pm.g_study, pm.icc, pm.score_items, pm.split_half, pm.guttman):
        assert getattr(fn, "__wrapped__", None) is not None, fn.__name__
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 4)), columns=list("abcd"))
    assert np.isfinite(pm.alpha(x, check_keys=False).total["raw_alpha"])  # still a plain call
