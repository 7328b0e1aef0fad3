"""Shared helpers of the report tests (imported by name: tests/report is on sys.path under pytest)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
#: item e4 of report-mini.yaml: HTML special characters that every page must show as text
HTML_ITEM_TEXT = "write <b>& bold</b> remarks in chats"
SCRIPTS = ["01_reliability.py", "02_factor_structure.py", "03_self_report_vs_behaviour.py", "04_effect_sizes.py"]


def study_text(model_block: str, personas: str, orders: str = "[cyclic]", instructions: int = 2) -> str:
    """A study of the two small test instruments (report-mini with an HTML-laden item, report-sjt)."""
    return f"""\
id: report-test
seed: 11
instruments: [{DATA / 'report-mini.yaml'}, {DATA / 'report-sjt.yaml'}]
models: [{model_block}]
personas: {personas}
paraphrases: {{instructions: {instructions}}}
option_orders: {orders}
mode: score
"""


def run_script(name: str, run_dir: Path, *args: str) -> str:
    """Run one analyses/ script on a run folder (``args``: e.g. ``--keep-invalid``); it must exit 0 without a
    traceback."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, str(REPO / "analyses" / name), str(run_dir), *args], capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    return res.stdout


def block(out: str, header: str) -> str:
    """The part of a script's output from ``header`` to the next ``=== `` header."""
    start = out.index(header)
    nxt = out.find("\n=== ", start + len(header))
    return out[start: nxt if nxt > 0 else None]


def alpha_from_summary(text: str) -> float:
    """raw_alpha from the first line of ``pm.alpha(...).summary()``'s total row."""
    return float(re.search(r"^total\s+(-?\d+\.\d+)", text, re.M).group(1))
