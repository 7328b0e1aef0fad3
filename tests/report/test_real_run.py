"""A small REAL run (the embedded SmolLM2-135M through the transformers backend) turned into a browser-checked
report, analysed by the R-like scripts, and reproduced number for number."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _reportlib import SCRIPTS, alpha_from_summary, block, run_script, study_text  # noqa: E402

pytestmark = pytest.mark.slow

REAL_STUDY = study_text("{id: smollm2, backend: transformers, model: embedded, settings: {device: cpu}}",
                        "{include_none: true}", orders="[cyclic]", instructions=1)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    pytest.importorskip("transformers")
    from psychometrika.engine.run import run_study

    folder = tmp_path_factory.mktemp("real")
    study = folder / "study.yaml"
    study.write_text(REAL_STUDY)
    rep = run_study(study, folder / "run", progress=False)
    assert rep.complete and rep.failed == 0
    return folder / "run"


def test_real_run_report_is_browser_checked(real_run, html_item_text, capsys):
    import psychometrika as pm
    from psychometrika.report.browser import check_book, playwright_available
    from psychometrika.report.build import build_report, find_chromium
    from psychometrika.report.statistics import compute_statistics

    df = pm.read_run(real_run)
    assert len(df) == 8 * 5 + 3 * 3 and set(df["status"]) == {"ok"}
    assert all(abs(sum(p) - 1) < 1e-6 for p in df["probs"])
    assert df["weights_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    # keep_invalid: this test checks the report machinery on real-model answers, which screening may classify
    # invalid (position-driven); the default (withheld + banner) is tested in test_screening_report.py
    index = build_report(real_run, real_run.parent / "book", progress=False, check=False, keep_invalid=True)
    html = index.parent
    st = compute_statistics(real_run, keep_invalid=True)
    assert "kept on request" in st.notes["study"][0] or "all screened cells are valid" in st.notes["study"][0]
    row = st["reliability"].set_index(["instrument", "scale"]).loc[("report-mini", "E")]
    assert row["n"] == 5 and row["items"] == 4
    page = (html / "02_reliability.html").read_text()
    if not np.isnan(row["alpha"]):
        assert f">{row['alpha']:.3f}<" in page
    assert "write &lt;b&gt;&amp; bold&lt;/b&gt; remarks in chats" in page
    try:
        exe = find_chromium()
    except Exception:  # noqa: BLE001
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    if not playwright_available():
        pytest.skip("Playwright's Python package is not installed")
    res = check_book(html, screenshot_dir=real_run.parent / "screenshots",
                     screenshot_pages=("index.html", "02_reliability.html", "03_factor_structure.html"),
                     expect_texts=[html_item_text], executable=exe)
    with capsys.disabled():
        print("\n" + res.summary())
        print("screenshots of the real-model report:", *map(str, res.screenshots))
    assert res.ok, res.problems()
    assert res.page("02_reliability.html").mjx > 0
    assert html_item_text in res.page("02_reliability.html").found_texts
    assert sum(p.images for p in res.pages) >= 4


def test_analysis_scripts_on_the_real_run(real_run):
    from psychometrika.report.statistics import compute_statistics

    st = compute_statistics(real_run, keep_invalid=True)
    outs = {s: run_script(s, real_run, "--keep-invalid") for s in SCRIPTS}
    b = block(outs["01_reliability.py"], "=== report-mini E (smollm2): 5 administrations x 4 items ===")
    alpha = st["reliability"].set_index(["instrument", "scale"]).loc[("report-mini", "E"), "alpha"]
    if np.isnan(alpha):
        assert "not computed" in b
    else:
        assert alpha_from_summary(b) == pytest.approx(round(alpha, 2), abs=0.0051)
    assert "=== report-mini (smollm2): 5 administrations x 8 items, 2 intended factors ===" in \
        outs["02_factor_structure.py"]
    assert re.search(r"=== MTMM \(smollm2\): \d+ subjects ===", outs["03_self_report_vs_behaviour.py"])
    assert "--- report-mini E ---" in outs["04_effect_sizes.py"]


def test_reproduce_on_cpu_gives_identical_statistics(real_run, tmp_path, capsys):
    from psychometrika.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["reproduce", str(real_run), "--out", str(tmp_path / "again"), "--no-progress"])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "data hash: identical" in out and " 0 different (max |Δ| = 0)" in out
    n = int(re.search(r"(\d+) reported statistics compared", out).group(1))
    assert n > 100
