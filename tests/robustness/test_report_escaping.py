"""Item texts and model answers holding ``<script>`` and template syntax (``{{ }}``, ``{% %}``) are shown as text in
the built book -- escaped in the HTML, never executed in Chromium, never evaluated by a template engine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from _reportlib import DATA, HTML_ITEM_TEXT  # noqa: E402

ITEM = "write <script>window.pwnedItem = true</script> {{ config }} {% if true %}notes{% endif %}"
ANSWER = "<script>window.pwnedAnswer = true</script> {{ config }} no idea"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    from psychometrika.engine.run import run_study
    from psychometrika.report.build import build_report

    tmp = tmp_path_factory.mktemp("escaping")
    inst = (DATA / "report-mini.yaml").read_text()
    assert HTML_ITEM_TEXT in inst
    (tmp / "mini.yaml").write_text(inst.replace(f'"{HTML_ITEM_TEXT}"', repr(ITEM).replace("'", '"')))
    (tmp / "study.yaml").write_text(f"""\
id: escaping
instruments: [{tmp / 'mini.yaml'}]
models: [{{id: sim, backend: dummy, model: sim, settings: {{junk_every: 3, junk_text: "{ANSWER}"}}}}]
personas: {{include_none: true, items: [{{id: odd, text: "You are <script>window.pwnedPersona = true</script>."}},
                                      {{id: calm, text: "You are calm."}}]}}
paraphrases: {{instructions: 2}}
option_orders: [original, reversed]
decoding: {{seeds: [0, 1]}}
mode: generate
""")
    run_study(tmp / "study.yaml", tmp / "run", progress=False)
    return build_report(tmp / "run", tmp / "book", progress=False, check=False).parent


def test_answers_and_items_are_escaped_in_the_html(book):
    quality = (book / "01_response_quality.html").read_text()
    assert "&lt;script&gt;window.pwnedAnswer = true&lt;/script&gt; {{ config }} no idea" in quality
    rel = (book / "02_reliability.html").read_text()
    assert "&lt;script&gt;window.pwnedItem = true&lt;/script&gt; {{ config }} {% if true %}notes{% endif %}" in rel
    study = (book / "00_study.html").read_text()
    assert "&lt;script&gt;window.pwnedPersona = true&lt;/script&gt;" in study
    for page in book.glob("*.html"):
        text = page.read_text()
        assert "<script>window.pwned" not in text, page.name


def test_nothing_runs_in_chromium(book):
    pw = pytest.importorskip("playwright.sync_api")
    from psychometrika.report.build import find_chromium

    try:
        exe = find_chromium()
    except Exception:  # noqa: BLE001
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page()
        seen = {}
        for name in ("00_study.html", "01_response_quality.html", "02_reliability.html"):
            page.goto((book / name).as_uri())
            seen[name] = page.evaluate("() => [window.pwnedItem, window.pwnedAnswer, window.pwnedPersona, "
                                       "document.body.innerText]")
        browser.close()
    for name, (item, answer, persona, text) in seen.items():
        assert item is None and answer is None and persona is None, name
    assert "<script>window.pwnedAnswer = true</script> {{ config }} no idea" in seen["01_response_quality.html"][3]
    assert "{{ config }} {% if true %}notes{% endif %}" in seen["02_reliability.html"][3]


def test_unparseable_answers_are_stored_with_their_text_and_counted(book):
    import pandas as pd

    import psychometrika as pm

    run = pm.read_run(book.parents[2] / "run")
    junk = run[run["raw_text"] == ANSWER]
    assert len(junk) >= 0.15 * len(run)  # about one answer in three
    assert set(junk["status"]) <= {"unparseable", "refused"} and junk["chosen_value"].isna().all()
    assert (run.loc[run["raw_text"] != ANSWER, "status"] == "ok").all()  # nothing else was lost or coerced
    rates = pd.read_csv(book / "data" / "status_rates.csv")
    assert int(rates[["refused", "unparseable"]].to_numpy().sum()) == len(junk)
    assert int(rates["n"].sum()) == len(run)
