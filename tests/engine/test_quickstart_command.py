"""`psychometrika quickstart` (the README's first command) runs the study through the `run` command's code and
prints the trait table; here on a small dummy-backend study instead of the embedded model."""

from __future__ import annotations

from pathlib import Path

import pytest

from psychometrika.cli import main
from psychometrika.store.store import read_run

DATA = Path(__file__).resolve().parent.parent / "data"


def test_quickstart_command_administers_and_prints_the_trait_table(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text(f"id: qs-dummy\ninstruments: [{DATA / 'mini.yaml'}, {DATA / 'mini-sjt.yaml'}]\n"
                     "models: [{id: dum, backend: dummy}]\n"
                     "personas: {include_none: true, items: [{id: warm, text: 'You are warm.'}]}\n")
    with pytest.raises(SystemExit) as exc:
        main(["quickstart", "--study", str(study), "--out", str(tmp_path / "run"), "--no-report"])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    df = read_run(tmp_path / "run")
    assert set(df["instrument"]) == {"mini", "mini-sjt"} and set(df["persona"]) == {"none", "warm"}
    # the screening comes first; the trait table leaves the screened-out cell (mini-sjt, warm) out
    assert out.index("Screening:") < out.index("Mean trait scores of the answers that passed screening:")
    assert "mini-sjt (dum): 1 of 2 persona cells invalid (warm:" in out
    table = out.split("passed screening:")[1]
    sjt_row = next(line for line in table.splitlines() if line.startswith("mini-sjt"))
    assert sjt_row.split()[-1] == "NaN"  # warm's SJT answers were screened out
