"""Every statistic a report shows, computed once from a run folder as named tidy tables.

:func:`compute_statistics` is the single place where a run becomes numbers: ``psychometrika report`` writes its
tables for the book's chapters (which only display and plot them) and ``psychometrika reproduce`` computes it for
the original run and the re-run and diffs :func:`flatten_statistics` of both (:func:`diff_statistics`).

Where things live:

* :mod:`psychometrika.report.run_data` — :func:`load_run` (responses, manifest, instruments) and :func:`data_hash`;
* :mod:`psychometrika.report.sections` — one module per section (chapter), calling :mod:`psychometrika.stats`
  directly: ``study``, ``quality``, ``reliability``, ``factor``, ``behaviour``, ``effects``, ``gstudy``,
  ``comparability``;
* :mod:`psychometrika.report.results` — :class:`ReportStatistics` (the tables, notes and texts), flattening,
  diffing, writing and reading.

A statistic that cannot be computed for a documented data reason (too few respondents, no variance, a singular
matrix) becomes a *note* of its section, in words, so a report always builds and says what is missing; any other
failure is an error. Everything random is seeded with the study's seed, so the same responses always give the
same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from .errors import ReportError
from .results import (SECTIONS, ReportStatistics, diff_statistics, flatten_statistics, read_statistics,
                      write_statistics)
from .run_data import data_hash, load_run
from ..stats.screening import screening_banner
from .sections import COMPUTE, Context

Progress = Callable[[str], None]


def compute_statistics(run_dir: str | Path, *, sections: Sequence[str] = SECTIONS,
                       progress: Progress | None = None, keep_invalid: bool = False) -> ReportStatistics:
    """Compute every statistic of the report of a run folder.

    Parameters
    ----------
    run_dir : a run folder written by ``psychometrika run`` (``manifest.json`` + response shards).
    sections : which chapters to compute (default: all of :data:`SECTIONS`).
    progress : called with the name of each step (for progress bars).
    keep_invalid : keep the cells that response-validity screening classifies invalid in the trait statistics
        (default: left out; the ``screening`` table and the first page say which and why).

    Returns
    -------
    ReportStatistics with tidy tables such as ``reliability`` (alpha, Feldt CI, omega, split-half per
    instrument x scale x model), ``efa_loadings``, ``effect_sizes``, ``g_components``; see
    :mod:`psychometrika.report.sections`.

    Example
    -------
    >>> st = compute_statistics("runs/quickstart")                     # doctest: +SKIP
    >>> st["reliability"][["instrument", "scale", "model", "alpha"]]   # doctest: +SKIP
    """
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ReportError(f"unknown report section(s) {unknown}", hint=f"choose from {list(SECTIONS)}")
    say = progress or (lambda _s: None)
    try:  # the matrices are small: one BLAS thread is several times faster than many competing ones
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return _compute(run_dir, sections, say, keep_invalid)
    with threadpool_limits(limits=1):
        return _compute(run_dir, sections, say, keep_invalid)


def _compute(run_dir: str | Path, sections: Sequence[str], say: Progress, keep_invalid: bool = False) -> ReportStatistics:
    stats = ReportStatistics()
    say("reading the run")
    t0 = time.perf_counter()
    responses, manifest, instruments = load_run(run_dir)
    stats.manifest = manifest
    stats.responses = responses
    say("scoring")
    ctx = Context(responses, manifest, instruments, stats, keep_invalid=keep_invalid)
    stats.add("screening", ctx.screening.drop(columns=["level"]), "quality", "stat",
              ids=["model", "instrument", "persona", "status", "reason", "flags"])
    stats.note("study", screening_banner(ctx.screening, kept=keep_invalid))
    stats.seconds["load"] = time.perf_counter() - t0
    for name in SECTIONS:
        if name not in sections:
            continue
        say(f"statistics: {name}")
        t = time.perf_counter()
        COMPUTE[name](ctx)
        stats.seconds[name] = time.perf_counter() - t
    stats.add("scale_scores", ctx.scale_scores, "effects", "stat", ids=[*ctx.resp_cols, "instrument", "scale"])
    stats.add("item_scores", ctx.item_long, "reliability", "data",
              ids=[*ctx.resp_cols, "instrument", "scale", "item", "status"])
    w = pd.DataFrame(stats.warnings, columns=["section", "context", "warning"]).drop_duplicates()
    stats.add("warnings", w, "study", kind="meta", ids=["section", "context", "warning"])
    return stats


__all__ = ["ReportStatistics", "SECTIONS", "compute_statistics", "data_hash", "diff_statistics",
           "flatten_statistics", "load_run", "read_statistics", "write_statistics"]
