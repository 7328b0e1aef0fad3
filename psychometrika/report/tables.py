"""Helpers the report's chapters use to read the precomputed tables and show them as HTML.

Every table shown in the book is one of the CSV files ``psychometrika report`` wrote into the book's
``data/`` folder; :func:`show` renders it (HTML-escaped: item texts may contain ``<``, ``&`` ...) with a caption
and a link to download the CSV. Numbers in sentences come from the tables through :func:`say` and :func:`num`,
never typed by hand.
"""

from __future__ import annotations

import html
import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

#: where the chapters find the tables (relative to the chapter, i.e. the book's source folder)
DATA_DIR = "_extra/data"
#: where the built HTML pages link the CSV files (``html_extra_path`` copies ``_extra/`` to the HTML root)
LINK_DIR = "data"


def data_dir() -> Path:
    return Path(os.environ.get("PSYCHOMETRIKA_REPORT_DATA", DATA_DIR))


@lru_cache(maxsize=None)
def _meta() -> dict[str, Any]:
    p = data_dir() / "tables.json"
    return json.loads(p.read_text()) if p.exists() else {"tables": {}}


def tables(section: str | None = None, kind: str | None = None) -> list[str]:
    """Names of the tables written for the book (optionally of one chapter section / kind)."""
    out = []
    for name, info in _meta()["tables"].items():
        if (section is None or info["section"] == section) and (kind is None or info["kind"] == kind):
            out.append(name)
    return out


def load(name: str) -> pd.DataFrame | None:
    """The table ``name`` (None when the run did not produce it)."""
    p = data_dir() / f"{name}.csv"
    if not p.exists():
        return None
    try:
        return pd.read_csv(p, keep_default_na=True, na_values=[""])
    except pd.errors.EmptyDataError:
        cols = _meta()["tables"].get(name, {}).get("columns", [])
        return pd.DataFrame(columns=cols)


def has(name: str) -> bool:
    df = load(name)
    return df is not None and not df.empty


def manifest() -> dict[str, Any]:
    p = data_dir() / "manifest.json"
    return json.loads(p.read_text()) if p.exists() else {}


def notes_of(section: str) -> list[str]:
    p = data_dir() / "notes.json"
    return list(json.loads(p.read_text()).get(section, [])) if p.exists() else []


def text(name: str) -> str | None:
    p = data_dir() / "texts.json"
    return json.loads(p.read_text()).get(name) if p.exists() else None


# ----------------------------------------------------------------------------------------- formatting
def num(x: Any, digits: int = 2) -> str:
    """A number as text (``—`` for missing): ``num(0.8134) == '0.81'``, ``num(1200, 0) == '1,200'``."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return "—"
    return f"{v:,.{digits}f}"


def _display(obj_html: str) -> None:
    from IPython.display import HTML, display

    display(HTML(obj_html))


def say(*parts: Any) -> None:
    """Show a paragraph (every part HTML-escaped)."""
    _display("<p class=\"pm-say\">" + "".join(html.escape(str(p)) for p in parts) + "</p>")


def bullets(items: Iterable[Any]) -> None:
    items = list(items)
    if items:
        _display("<ul class=\"pm-list\">" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>")


def screening_banner(chapter: str = "") -> None:
    """The response-validity banner (:func:`psychometrika.stats.screen`): which model x instrument x persona cells
    were screened out of the trait statistics and why, which statistics were therefore withheld, and what a
    respondent is. ``chapter`` names the statistics of the chapter that are withheld (e.g. ``"reliability"``)."""
    from ..stats.guards import PSEUDO_REPLICATION_CAVEAT
    from ..stats.screening import screening_banner as banner
    from .sections.study import unit_of_analysis

    sc = load("screening")
    if sc is None or sc.empty:
        return
    cells = sc[sc["persona"] != "(all)"]
    lines = banner(sc.assign(level=["overall" if p == "(all)" else "cell" for p in sc["persona"]])).split("\n")
    gone = sorted(i for i, g in cells.groupby("instrument") if (g["status"] == "invalid").all())
    items = [ln.removeprefix("Screening: ") for ln in lines]
    if gone:
        what = chapter or "reliabilities, factor solutions, correlations and effect sizes"
        items.append(f"Withheld: the {what} of {', '.join(gone)} -- every answer of these instruments was screened "
                     f"out, so no number here describes them.")
    items.append(unit_of_analysis(load("respondents")) + " " + PSEUDO_REPLICATION_CAVEAT)
    level = "warning" if (cells["status"] == "invalid").any() else "note"
    body = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    _display(f"<div class=\"admonition {level} pm-screening\"><p class=\"admonition-title\">Response validity "
             f"screening</p><ul>{body}</ul></div>")


def unit_of_analysis() -> None:
    """Say what a respondent is in this run (the persona population and its conditions, per model)."""
    from .sections.study import unit_of_analysis as sentence

    say(sentence(load("respondents")))


def notes(section: str) -> None:
    """Show what could not be computed for a section (from the statistics' notes), if anything."""
    ns = notes_of(section)
    if not ns:
        return
    body = "".join(f"<li>{html.escape(n)}</li>" for n in ns)
    _display(f"<div class=\"admonition note pm-notes\"><p class=\"admonition-title\">Not computed or "
             f"limited</p><ul>{body}</ul></div>")


def pre(textblock: str, caption: str = "") -> None:
    """Show preformatted text (a ``.summary()``)."""
    cap = f"<p class=\"pm-caption\">{html.escape(caption)}</p>" if caption else ""
    _display(f"{cap}<pre class=\"pm-pre\">{html.escape(textblock)}</pre>")


def download_link(name: str, label: str | None = None) -> str:
    """HTML link to the CSV of table ``name`` (as the built book serves it)."""
    fname = f"{name}.csv"
    return (f"<a class=\"pm-download\" href=\"{LINK_DIR}/{html.escape(fname)}\" download>"
            f"{html.escape(label or 'Download ' + fname)}</a>")


def show(name: str, df: pd.DataFrame | None = None, caption: str = "", columns: list[str] | None = None,
         digits: int = 3, max_rows: int = 40, rename: dict[str, str] | None = None) -> None:
    """Show a table (escaped HTML) with its caption and a CSV download link.

    ``df`` defaults to the table ``name``; a given ``df`` is a view of that table (filtered or with fewer
    columns), and the link still downloads the whole table.
    """
    full = load(name)
    if df is None:
        df = full
    if df is None:
        say(f"(The table {name} was not produced for this run.)")
        return
    view = df[[c for c in columns if c in df.columns]] if columns else df
    if rename:
        view = view.rename(columns=rename)
    shown = view.head(max_rows)

    body = html_table(shown, digits=digits)
    more = (f" Showing the first {len(shown)} of {len(view)} rows; the CSV has all of them."
            if len(view) > len(shown) else "")
    cap = (f"<p class=\"pm-caption\"><strong>Table ({html.escape(name)}).</strong> {html.escape(caption)}"
           f"{html.escape(more)} {download_link(name, 'Download as CSV')}</p>")
    _display(f"<div class=\"pm-table-block\">{cap}<div class=\"pm-table-wrap\">{body}</div></div>")


def _cell(v: Any, digits: int, integral: bool) -> tuple[str, str]:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "—", "num"
    if isinstance(v, bool):
        return str(v), "txt"
    if isinstance(v, (int,)) or (integral and isinstance(v, float)):
        return f"{int(v)}", "num"
    if isinstance(v, float):
        return f"{v:.{digits}f}", "num"
    try:
        import numpy as np

        if isinstance(v, np.integer):
            return f"{int(v)}", "num"
        if isinstance(v, np.floating):
            return ("—", "num") if np.isnan(v) else ((f"{int(v)}", "num") if integral else (f"{v:.{digits}f}",
                                                                                          "num"))
        if isinstance(v, np.bool_):
            return str(bool(v)), "txt"
    except ImportError:  # pragma: no cover
        pass
    return str(v), "txt"


def html_table(df: pd.DataFrame, digits: int = 3) -> str:
    """An HTML table of ``df`` with every cell escaped, numbers right-aligned and rounded to ``digits``
    (columns whose values are all whole numbers, such as counts, without decimals)."""
    integral = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_float_dtype(s):
            v = s.dropna()
            integral[c] = bool(len(v)) and bool(((v - v.round()).abs() < 1e-12).all()) and bool((v.abs() < 1e15).all())
        else:
            integral[c] = False
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False, name=None):
        cells = []
        for c, v in zip(df.columns, rec):
            txt, cls = _cell(v, digits, integral[c])
            cells.append(f"<td class=\"{cls}\">{html.escape(txt)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class=\"table pm-table\"><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table>")


def describe_tables() -> pd.DataFrame:
    """Every table written for the book: name, chapter, kind, rows, file size (for the appendix)."""
    rows = []
    chapter = {"study": "Study and manifest", "quality": "Response quality", "reliability": "Reliability",
               "factor": "Factor structure", "behaviour": "Self-report vs behaviour", "effects": "Effect sizes",
               "gstudy": "Generalizability", "comparability": "Comparability across models",
               "personas": "Personas and shaping"}
    for name, info in _meta()["tables"].items():
        p = data_dir() / f"{name}.csv"
        rows.append({"table": name, "chapter": chapter.get(info["section"], info["section"]),
                     "kind": {"stat": "statistics", "meta": "provenance", "data": "data"}.get(info["kind"],
                                                                                          info["kind"]),
                     "rows": info["rows"], "size_kb": round(p.stat().st_size / 1024, 1) if p.exists() else None})
    return pd.DataFrame(rows)


def download_list() -> None:
    """Show every downloadable file of the book as a list of links."""
    d = describe_tables()
    items = []
    for r in d.itertuples(index=False):
        items.append(f"<li>{download_link(r.table, r.table + '.csv')} — {html.escape(r.chapter)}, "
                     f"{html.escape(r.kind)}, {r.rows:,} rows</li>")
    extra = []
    for fname, what in (("manifest.json", "the run's manifest (JSON)"),
                        ("statistics.csv", "every reported statistic, one per row (what `psychometrika "
                                           "reproduce` compares)"),
                        ("responses.parquet", "the full tidy response table (Parquet; `pandas.read_parquet`)")):
        if (data_dir() / fname).exists():
            extra.append(f"<li><a class=\"pm-download\" href=\"{LINK_DIR}/{fname}\" download>{fname}</a> — "
                         f"{html.escape(what)}</li>")
    _display("<ul class=\"pm-downloads\">" + "".join(extra + items) + "</ul>")


__all__ = ["bullets", "data_dir", "describe_tables", "download_link", "download_list", "has", "html_table", "load",
           "manifest",
           "notes", "num", "pre", "say", "show", "tables", "text"]
