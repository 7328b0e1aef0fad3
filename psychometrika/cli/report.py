"""Report commands: ``report`` (build the offline book of a run) and ``reproduce`` (re-run and compare)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import app, console


@app.command("report")
def report(run_dir: Path = typer.Argument(..., help="Run folder (the --out of `psychometrika run`)."),
           out: Optional[Path] = typer.Option(None, "--out", "-o",
                                              help="Book folder (default: RUN_DIR/book). HTML in OUT/_build/html."),
           pdf: bool = typer.Option(False, "--pdf", help="Also print the book to OUT/report.pdf (headless Chromium)."),
           check: Optional[bool] = typer.Option(None, "--check/--no-check",
                                                help="Open every page in headless Chromium and check it (default: "
                                                     "when Playwright and Chromium are installed)."),
           no_progress: bool = typer.Option(False, "--no-progress", help="No progress display.")) -> None:
    """Build the offline HTML report (Jupyter Book) of a run; no network access is needed."""
    from ..errors import StoreError
    from ..report.build import build_report
    from ..store.lock import refuse_if_locked

    book = out if out is not None else run_dir / "book"
    if book.exists() and not book.is_dir():
        raise StoreError("--out names an existing file; the report is a folder", file=str(book),
                         hint="give a folder that does not exist yet (or an earlier report's folder)")
    refuse_if_locked(run_dir, "build the report of")
    index = build_report(run_dir, book, pdf=pdf, progress=not no_progress, check=check)
    if pdf:
        console.print(f"PDF: {book.resolve() / 'report.pdf'}", highlight=False)
    console.print(f"report: open {index}", highlight=False)


@app.command("reproduce")
def reproduce(source: Path = typer.Argument(..., help="Run folder or its manifest.json (or a book's "
                                                      "data/manifest.json)."),
              out: Path = typer.Option(..., "--out", "-o", help="Folder for the new run."),
              tol: float = typer.Option(0.0, "--tol", min=0.0, help="Absolute tolerance for 'same'."),
              no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
              diff_csv: Optional[Path] = typer.Option(None, "--diff-csv",
                                                      help="Write the full per-statistic comparison here.")) -> None:
    """Re-run a study from its manifest and print the difference of every reported statistic.

    Exit status 0 when every statistic is reproduced (within --tol), 1 otherwise.
    """
    from ..report.reproduce import reproduce as _reproduce

    res = _reproduce(source, out, progress=not no_progress, tol=tol)
    if diff_csv is not None:
        res.diff.to_csv(diff_csv, index=False)
    console.print(res.summary(), highlight=False, soft_wrap=True)
    if not res.identical:
        raise typer.Exit(1)


__all__ = ["report", "reproduce"]
