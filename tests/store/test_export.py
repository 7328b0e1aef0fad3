"""Exports for R and SPSS: labels, trimmed strings, no silently dropped column, --wide, booleans as 0/1."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.engine import run_study
from psychometrika.tools.export import export_run

pyreadstat = pytest.importorskip("pyreadstat", reason="pyreadstat is needed for SPSS export (pip install pyreadstat)")

STUDY = """id: export
instruments: [bfi-25]
models: [{id: dum, backend: dummy}]
personas: {include_none: true, items: [{id: warm, text: "You are warm."}]}
paraphrases: {instructions: 2}
option_orders: [original, reversed]
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    (folder / "study.yaml").write_text(STUDY)
    run_study(folder / "study.yaml", folder / "run", progress=False)
    return folder / "run"


def test_long_sav_has_labels_every_column_and_trimmed_strings(run, tmp_path):
    rep = export_run(run, tmp_path / "r.sav")
    df = pm.read_run(run)
    data, meta = pyreadstat.read_sav(str(tmp_path / "r.sav"))
    assert len(data) == len(df)
    assert set(data.columns) == set(df.columns)  # prompt included: nothing dropped
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["chosen_value"] == "value of the chosen option" and labels["item"] == "item id"
    assert meta.variable_value_labels["chosen_value"][1.0] == "Very Inaccurate"
    assert meta.variable_value_labels["chosen_value"][6.0] == "Very Accurate"
    assert (data["instrument"] == "bfi-25").all()  # trimmed: equality matches every row
    assert json.loads(data["probs"].iloc[0]) == pytest.approx(list(df["probs"].iloc[0]))
    assert data["numeric_integer"].isin([0, 1]).all()
    assert "wrote" in str(rep)


def test_csv_booleans_are_0_1(run, tmp_path):
    export_run(run, tmp_path / "r.csv")
    csv = pd.read_csv(tmp_path / "r.csv")
    assert set(csv["numeric_integer"].unique()) <= {0, 1}


def test_wide_export_respondents_by_items_with_scale_scores(run, tmp_path):
    rep = export_run(run, tmp_path / "w.sav", wide=True)
    path = tmp_path / "w_bfi-25.sav"
    assert rep.paths == [path]
    data, meta = pyreadstat.read_sav(str(path))
    ins = pm.load_instrument("bfi-25")
    assert len(data) == 2 * 2 * 2  # personas x instructions x orders
    assert [c for c in data.columns if c in {i.id for i in ins.items}] == [i.id for i in ins.items]
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["A1"] == ins.item("A1").text
    assert meta.variable_value_labels["A1"][6.0] == "Very Accurate"
    sc = pm.scale_scores(pm.read_run(run), ins)
    e = sc[sc.scale == "E"].sort_values(["persona", "instruction_id", "order_id"])
    got = data.sort_values(["persona", "instruction_id", "order_id"])["scale_E"].to_numpy()
    assert got == pytest.approx(e["score"].to_numpy())
    assert labels["scale_E"].startswith("scale score: ")


R_CHECK = """
d <- foreign::read.spss("{path}", to.data.frame = TRUE, use.value.labels = FALSE)
h <- haven::read_sav("{path}")
cat(nrow(d), sum(d$instrument == "bfi-25"), attr(h$chosen_value, "label"),
    names(attr(h$chosen_value, "labels"))[1], sep = "|")
"""


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed: the .sav files are checked with "
                                                            "pyreadstat only")
def test_r_foreign_and_haven_read_the_sav(run, tmp_path):
    ok = subprocess.run(["Rscript", "-e", "cat(all(sapply(c('foreign','haven'), requireNamespace, quietly=TRUE)))"],
                        capture_output=True, text=True)
    if ok.stdout.strip() != "TRUE":
        pytest.skip("R packages foreign and haven are not both installed")
    export_run(run, tmp_path / "r.sav")
    n = len(pm.read_run(run))
    res = subprocess.run(["Rscript", "-e", R_CHECK.format(path=tmp_path / "r.sav")], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().split("|") == [str(n), str(n), "value of the chosen option", "Very Inaccurate"]
