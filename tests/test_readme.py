"""The README has exactly two set-up commands, and CI runs the second one."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_two_setup_commands():
    cmds = _setup_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)
    assert "quickstart" in cmds[0] and "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert _setup_commands()[1] in ci.splitlines()


def _python_block() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("### The R-like API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_readme_python_block_runs_as_printed(tmp_path):
    """The README's Python block, exactly as printed, on a quickstart-design run the test makes (the quickstart
    study with the dummy backend instead of the embedded model: the same instruments, personas and orders)."""
    import contextlib
    import io
    import warnings

    from psychometrika.engine import run_study

    study = (REPO / "analyses" / "quickstart.yaml").read_text()
    model = re.search(r"models:\n(?:  .*\n)+", study).group(0)
    study = study.replace(model, "models: [{id: smollm2-135m, backend: dummy, settings: {position_bias: 0.5}}]\n")
    (tmp_path / "study.yaml").write_text(study)
    run_study(tmp_path / "study.yaml", tmp_path / "runs" / "quickstart", progress=False)
    code = _python_block()
    out = io.StringIO()
    cwd = Path.cwd()
    try:
        import os

        os.chdir(tmp_path)
        with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
    printed = out.getvalue()
    assert printed.startswith("Screening: ")
    assert "Reliability analysis" in printed  # a.summary() printed as psych prints
    assert "pseudo-replication" in printed


def test_errors_the_snippet_can_meet_carry_hints(tmp_path):
    import pandas as pd
    import pytest

    import psychometrika as pm

    df = pd.DataFrame({"model": "m", "persona": ["a", "a"], "instrument": ["bfi-44", "econ-games"],
                       "item": ["bfi01", "trust_send"], "status": "ok", "expected_value": [3.0, 5.0],
                       "instruction_id": "i1", "order_id": "original"})
    with pytest.raises(pm.DataError, match="econ-games") as exc:
        pm.scale_scores(df, pm.load_instrument("bfi-44"))
    assert "pass all of them" in str(exc.value) and "df[df.instrument ==" in str(exc.value)
    long = pd.DataFrame({"model": "m", "persona": ["a", "b"] * 4, "item": ["x", "x", "y", "y"] * 2,
                         "order_id": ["o1"] * 4 + ["o2"] * 4, "score": range(8)})
    with pytest.raises(pm.DataError, match="needs at least 2 levels") as exc:
        pm.g_study(long, facets=("item", "order_id"))
    assert "object='persona'" in str(exc.value)
