"""Reports: the statistics of a run, computed once, and an offline Jupyter Book built from them.

* :func:`load_run` — a run folder's response table, manifest and instruments (``pm.load_run``);
* :func:`compute_statistics` — every statistic the report shows, as named tidy tables (one computation
  shared by ``psychometrika report`` and ``psychometrika reproduce``);
* :func:`flatten_statistics` / :func:`diff_statistics` — one row per reported number, and the difference
  between two runs;
* :func:`build_report` — copy the book sources (``reports/``), write the tables, execute the chapters and
  build HTML (and optionally a PDF) without any network access;
* :func:`reproduce` — re-run a study from a run's manifest and diff every reported statistic.

Heavy dependencies (jupyter-book, seaborn) are imported only when a book is built.
"""

from __future__ import annotations

from typing import Any

_NAMES = {
    "compute_statistics": "psychometrika.report.statistics",
    "load_run": "psychometrika.report.run_data",
    "flatten_statistics": "psychometrika.report.statistics",
    "diff_statistics": "psychometrika.report.statistics",
    "ReportStatistics": "psychometrika.report.statistics",
    "write_statistics": "psychometrika.report.statistics",
    "read_statistics": "psychometrika.report.statistics",
    "build_report": "psychometrika.report.build",
    "reproduce": "psychometrika.report.reproduce",
    "ReproduceResult": "psychometrika.report.reproduce",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        import importlib

        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'psychometrika.report' has no attribute {name!r}")


__all__ = sorted(_NAMES)
