"""Progress displays of a run (rich progress bars) and the run-time estimate shown by ``plan``."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

#: items/s used by ``plan`` to estimate run time when nothing was measured (2-core CPU, SmolLM2-135M)
NOMINAL_RATE = {"transformers": 4.0, "vllm": 14.5, "openai": 5.0, "dummy": 5000.0, "simulated": 5000.0}
#: rate assumed for a backend missing from :data:`NOMINAL_RATE`
DEFAULT_RATE = 5.0
_MIN_ELAPSED = 1e-9  # seconds; avoids a division by zero on the first update


def estimate_seconds(n_prompts: int, backend: str) -> float:
    """Seconds ``n_prompts`` take at the backend's nominal rate (rounded up)."""
    rate = NOMINAL_RATE.get(backend, DEFAULT_RATE)
    return math.ceil(n_prompts / rate)


def _rich_progress(label: str, rate: str, *notes: str) -> Any:
    """A rich ``Progress``: label, bar, done/total, rate, elapsed, ETA, then the note columns."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(rate), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), *[TextColumn(n) for n in notes], transient=False)


class RunProgress:
    """A rich progress bar of a local run: items/s, ETA, refusals and failures so far (silent when disabled)."""

    def __init__(self, total: int, done: int, enabled: bool):
        self.wanted = enabled and not os.environ.get("PSYCHOMETRIKA_NO_PROGRESS")
        self.enabled = enabled and total > 0
        if not self.enabled:
            return
        self._p = _rich_progress("[bold]administering", "{task.fields[rate]:>7} items/s",
                                 "refused {task.fields[refused]}", "failed {task.fields[failed]}")
        self._p.start()
        self._t0 = time.perf_counter()
        self._new = 0
        self._task = self._p.add_task("run", total=total, completed=done, rate="-", refused=0, failed=0)

    def advance(self, n: int, refused: int, failed: int) -> None:
        if not self.enabled:
            return
        self._new += n
        rate = self._new / max(time.perf_counter() - self._t0, _MIN_ELAPSED)
        self._p.update(self._task, advance=n, rate=f"{rate:.1f}", refused=refused, failed=failed)

    def note(self, text: str) -> None:
        """Print a line above the bar (or to stderr when the bar is off for an empty plan; nothing when progress
        output is off: ``progress=False`` or ``$PSYCHOMETRIKA_NO_PROGRESS``)."""
        if self.enabled:
            self._p.console.print(text, markup=False, highlight=False, soft_wrap=True)
        elif self.wanted:
            print(text, file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self.enabled:
            self._p.stop()


def model_line(model_id: str, info: Any) -> str:
    """One line saying what a run's backend loaded: model, backend, dtype, device, and -- for the transformers
    backend -- the forward pass used (psychometrika's lean forward or the model's own, with the reason) and the
    special tokens each prompt starts with. ``info`` is the backend's :class:`~psychometrika.backends.ModelInfo`."""
    extra = getattr(info, "extra", {}) or {}
    parts = [f"model {model_id}: {info.model_id} on {info.backend}"]
    if info.dtype or info.device:
        parts.append(", ".join(x for x in (info.dtype, info.device) if x))
    if extra.get("n_parameters"):
        parts.append(f"{extra['n_parameters'] / 1e6:,.0f} M parameters")
    fwd = extra.get("forward")
    if fwd:
        parts.append("lean forward (psychometrika)" if fwd == "psychometrika" else f"{fwd} forward")
    if "special_start" in extra:
        parts.append(f"prompts start with {extra['special_start']}" if extra["special_start"]
                     else "no BOS added")
    return "; ".join(parts)


class ClusterProgress:
    """One rich display of a Ray run: the whole run (items/s, ETA) and one line per worker (items, items/s,
    restarts). Silent when disabled or when ``PSYCHOMETRIKA_NO_PROGRESS`` is set."""

    def __init__(self, total: int, done: int, enabled: bool):
        self.enabled = enabled and total > 0 and not os.environ.get("PSYCHOMETRIKA_NO_PROGRESS")
        if not self.enabled:
            return
        self._p = _rich_progress("{task.description:<28}", "{task.fields[rate]:>8} items/s", "{task.fields[note]}")
        self._p.start()
        self._t0 = time.perf_counter()
        self._new = 0
        self._total = self._p.add_task("[bold]all workers", total=total, completed=done, rate="-", note="")
        self._workers: dict[int, Any] = {}

    def add_worker(self, idx: int, label: str) -> None:
        if self.enabled:
            self._workers[idx] = self._p.add_task(f"  {label}", total=None, rate="-", note="")

    def advance(self, n: int, refused: int, failed: int, retried: int) -> None:
        if not self.enabled:
            return
        self._new += n
        rate = self._new / max(time.perf_counter() - self._t0, _MIN_ELAPSED)
        self._p.update(self._total, advance=n, rate=f"{rate:.1f}",
                       note=f"refused {refused} failed {failed} retried {retried}")

    def worker(self, idx: int, items: int, rate: float, note: str) -> None:
        if self.enabled and idx in self._workers:
            self._p.update(self._workers[idx], completed=items, rate=f"{rate:.1f}", note=note)

    def stop(self) -> None:
        if self.enabled:
            self._p.stop()


__all__ = ["ClusterProgress", "DEFAULT_RATE", "NOMINAL_RATE", "RunProgress", "estimate_seconds"]
