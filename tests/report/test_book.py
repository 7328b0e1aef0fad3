"""The built book of a simulated run: offline HTML, every table downloadable, escaped texts, checked in Chromium.

Browser checks need Debian's ``chromium`` (apt-get install -y chromium) and Playwright's Python package.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from psychometrika.report.browser import check_book, playwright_available
from psychometrika.report.build import external_resources, find_chromium

CHAPTERS = ["index.html", "00_study.html", "01_response_quality.html", "02_reliability.html",
            "03_factor_structure.html", "04_self_report_vs_behaviour.html", "05_effect_sizes.html",
            "06_generalizability.html", "07_comparability.html", "08_personas.html", "appendix_downloads.html"]


def _chromium() -> str:
    try:
        return find_chromium()
    except Exception:  # noqa: BLE001
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")


def test_book_is_complete_offline_and_downloadable(sim_book):
    html = sim_book.parent
    assert sim_book.name == "index.html" and sim_book.exists()
    for page in CHAPTERS:
        text = (html / page).read_text()
        assert "Traceback (most recent call last)" not in text, page
        assert "__REPORT_DATA_HASH__" not in (html.parent.parent / "src" / page.replace(".html", ".md")).read_text()
    assert external_resources(html) == []
    # MathJax is the vendored copy, loaded from the book itself
    rel = (html / "02_reliability.html").read_text()
    assert re.search(r'src="_static/mathjax/es5/tex-chtml\.js', rel)
    assert (html / "_static" / "mathjax" / "es5" / "tex-chtml.js").stat().st_size > 500_000
    assert list((html / "_static" / "mathjax" / "es5" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    # every table is a CSV next to the pages, linked from the page that shows it
    meta = json.loads((html / "data" / "tables.json").read_text())["tables"]
    assert {"reliability", "item_stats", "efa_loadings", "status_rates", "cell_counts"} <= set(meta)
    for name in meta:
        assert (html / "data" / f"{name}.csv").exists(), name
    assert 'href="data/reliability.csv"' in rel and 'href="data/item_stats.csv"' in rel
    appendix = (html / "appendix_downloads.html").read_text()
    for name in meta:
        assert f'href="data/{name}.csv"' in appendix, name
    assert (html / "data" / "manifest.json").exists() and (html / "data" / "responses.parquet").exists()


def test_item_text_with_html_characters_is_escaped(sim_book):
    rel = (sim_book.parent / "02_reliability.html").read_text()
    assert "write &lt;b&gt;&amp; bold&lt;/b&gt; remarks in chats" in rel
    assert "<b>& bold</b>" not in rel
    study = (sim_book.parent / "00_study.html").read_text()
    assert "You are warm &amp; &lt;kind&gt;." in study          # persona text
    assert "Report test questionnaire &lt;b&gt;&amp;amp; friends" in study


def test_numbers_on_the_pages_come_from_the_run(sim_book, sim_stats):
    rel = (sim_book.parent / "02_reliability.html").read_text()
    row = sim_stats["reliability"].set_index(["instrument", "scale"]).loc[("report-mini", "E")]
    assert f">{row['alpha']:.3f}<" in rel and f">{row['alpha_lower']:.3f}<" in rel
    index = (sim_book.parent / "index.html").read_text()
    total = int(sim_stats["cell_counts"]["responses"].sum())
    assert f"{total:,} responses from 1 model(s) (sim)" in index


def test_rebuild_reuses_executed_chapters_and_cli_prints_the_path(sim_run, sim_book, capsys):
    from psychometrika.cli import main

    book = sim_book.parent.parent.parent
    t = time.perf_counter()
    with pytest.raises(SystemExit) as exc:
        main(["report", str(sim_run), "--out", str(book), "--no-progress", "--no-check"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"report: open {sim_book}" in out.replace("\n", "")
    assert "Executing notebook" not in (book / "build.log").read_text()   # same data: cached outputs
    assert time.perf_counter() - t < 120


def test_refuses_to_write_into_a_foreign_folder(sim_run, tmp_path):
    from psychometrika.report.build import build_report
    from psychometrika.report.errors import ReportError

    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(ReportError, match="not a psychometrika book folder"):
        build_report(sim_run, tmp_path, progress=False)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.browser
def test_a_stalled_page_is_a_located_report_error(sim_book):
    from psychometrika.report.errors import ReportError

    exe = _chromium()
    if not playwright_available():
        pytest.skip("Playwright's Python package is not installed (pip install playwright)")
    with pytest.raises(ReportError, match=r"the browser check of index.html did not finish within 0 s") as exc:
        check_book(sim_book.parent, pages=["index.html"], executable=exe, timeout_ms=1)
    assert "--no-check" in str(exc.value.hint)


@pytest.mark.browser
def test_every_page_in_headless_chromium(sim_book, tmp_path, html_item_text):
    exe = _chromium()
    if not playwright_available():
        pytest.skip("Playwright's Python package is not installed (pip install playwright)")
    shots = tmp_path / "screenshots"
    res = check_book(sim_book.parent, screenshot_dir=shots, screenshot_pages=("index.html", "02_reliability.html"),
                     expect_texts=[html_item_text, "write  bold remarks in chats"], executable=exe)
    print(res.summary())
    print("screenshots:", *res.screenshots)
    assert [p.page for p in res.pages] == sorted(CHAPTERS)
    assert res.problems() == []
    assert sum(len(p.external_requests) for p in res.pages) == 0
    rel = res.page("02_reliability.html")
    assert rel.math >= 5 and rel.mjx >= rel.math and rel.math_errors == 0
    assert rel.images >= 2 and not rel.broken_images
    assert html_item_text in rel.found_texts                      # shown as text...
    assert "write  bold remarks in chats" not in rel.found_texts  # ...not rendered as markup
    for page in ("05_effect_sizes.html", "06_generalizability.html", "03_factor_structure.html",
                 "07_comparability.html"):
        assert res.page(page).math > 0 and res.page(page).mjx >= res.page(page).math
    assert res.page("03_factor_structure.html").images >= 2      # scree plot and loading heatmap
    for shot in res.screenshots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@pytest.mark.browser
def test_pdf_printed_with_headless_chromium(sim_run, sim_book):
    _chromium()
    from psychometrika.report.build import build_report

    book = sim_book.parent.parent.parent
    build_report(sim_run, book, pdf=True, progress=False, check=False)
    pdf = book / "report.pdf"
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 50_000
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 5     # several printed pages
