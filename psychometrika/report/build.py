"""Build the offline Jupyter Book of a run: ``psychometrika report RUN_DIR --out BOOK_DIR [--pdf]``.

Steps (each shown in a rich progress display):

1. compute every statistic once (:func:`psychometrika.report.statistics.compute_statistics`) and write the tables
   as CSV (plus the response table as Parquet and the manifest) into ``BOOK_DIR/src/_extra/data/``;
2. copy the book sources (the repository's ``reports/`` folder: ``_config.yml``, ``_toc.yml``, the chapters as
   MyST notebooks, the vendored MathJax under ``_assets/mathjax``) to ``BOOK_DIR/src`` and stamp each chapter
   with the hash of the data, so that Jupyter Book's execution cache re-runs a chapter exactly when its data
   changed;
3. execute the chapters with a ``python3`` kernel of *this* Python and build HTML with Jupyter Book 1 (Sphinx)
   into ``BOOK_DIR/_build/html`` — no network: MathJax is served from the book, the theme's launch buttons,
   comments and analytics are off, and the finished HTML is checked for any script, style sheet, font or
   image that would be fetched from elsewhere;
4. with ``pdf=True``, build a single-page HTML version and print it to ``BOOK_DIR/report.pdf`` with headless
   Chromium (no TeX needed).

The book's sources are found in ``$PSYCHOMETRIKA_REPORT_SOURCES``, the repository's ``reports/`` folder (next
to the package), or ``psychometrika/_report_sources`` (an installed wheel).
"""

from __future__ import annotations

import hashlib
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

from .browser import find_chromium
from .errors import ReportError

MARKER = ".psychometrika-book"
DATA_SUBDIR = Path("_extra") / "data"
HASH_PLACEHOLDER = "__REPORT_DATA_HASH__"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-default-apps", "--disable-extensions", "--virtual-time-budget=10000")


# ============================================================================================ locating things
def sources_dir() -> Path:
    """The folder holding the book sources (``_config.yml``, ``_toc.yml``, chapters)."""
    import psychometrika

    pkg = Path(psychometrika.__file__).resolve().parent
    candidates = [os.environ.get("PSYCHOMETRIKA_REPORT_SOURCES"), pkg.parent / "reports", pkg / "_report_sources"]
    for c in candidates:
        if c and (Path(c) / "_toc.yml").exists():
            return Path(c)
    raise ReportError("the report sources (reports/_config.yml, _toc.yml, chapters) were not found",
                      hint="run from a checkout of psychometrika, or set PSYCHOMETRIKA_REPORT_SOURCES")


def _check_jupyter_book() -> None:
    import importlib.util

    missing = [m for m in ("jupyter_book", "ipykernel", "myst_nb") if importlib.util.find_spec(m) is None]
    if missing:
        raise ReportError(f"building a report needs {', '.join(missing)}",
                          hint="pip install 'psychometrika[report]'   (jupyter-book<2, ipykernel)")
    import importlib.metadata as md

    major = int(md.version("jupyter-book").split(".")[0])
    if major >= 2:
        raise ReportError(f"jupyter-book {md.version('jupyter-book')} is installed; reports need version 1 "
                          "(version 2 cannot build HTML offline)", hint="pip install 'jupyter-book<2'")


# ============================================================================================ progress
class _Steps:
    """A rich progress bar over named steps (silent when disabled)."""

    def __init__(self, total: int, enabled: bool):
        self.enabled = enabled
        self.t0 = time.perf_counter()
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._p = Progress(SpinnerColumn(), TextColumn("[bold]report[/bold]"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), TextColumn("{task.description}"),
                           console=Console(stderr=True), transient=False)
        self._p.start()
        self._task = self._p.add_task("", total=total)

    def step(self, text: str, advance: int = 1) -> None:
        if self.enabled:
            self._p.update(self._task, advance=advance, description=text)

    def describe(self, text: str) -> None:
        if self.enabled:
            self._p.update(self._task, description=text)

    def total(self, n: int) -> None:
        if self.enabled:
            self._p.update(self._task, total=n)

    def stop(self) -> None:
        if self.enabled:
            self._p.stop()


# ============================================================================================ build
def _prepare_book_dir(book_dir: Path) -> None:
    if book_dir.exists() and any(book_dir.iterdir()) and not (book_dir / MARKER).exists():
        raise ReportError(f"{book_dir} exists and is not a psychometrika book folder; refusing to write into it",
                          hint="choose an empty or new --out folder")
    book_dir.mkdir(parents=True, exist_ok=True)
    (book_dir / MARKER).write_text("psychometrika report book folder\n")


def _copy_sources(src: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("_build", "*.ipynb_checkpoints", "__pycache__",
                                                            ".jupyter_cache"))


def _hash_folder(folder: Path, skip: Iterable[str] = ("timings.json",)) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name not in skip:
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _stamp(src: Path, digest: str) -> list[Path]:
    chapters = []
    for p in sorted(src.glob("*.md")):
        text = p.read_text(encoding="utf-8")
        if "{code-cell}" in text:
            chapters.append(p)
        if HASH_PLACEHOLDER in text:
            p.write_text(text.replace(HASH_PLACEHOLDER, digest), encoding="utf-8")
    return chapters


def _kernel_dir(book_dir: Path) -> Path:
    """A private ``python3`` kernelspec that runs this very interpreter (found first through JUPYTER_PATH)."""
    kdir = book_dir / "_kernels"
    spec = kdir / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python", "metadata": {"debugger": False}}, indent=1))
    return kdir


def _env(book_dir: Path) -> dict[str, str]:
    import psychometrika

    env = dict(os.environ)
    root = str(Path(psychometrika.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["JUPYTER_PATH"] = str(_kernel_dir(book_dir)) + (os.pathsep + env["JUPYTER_PATH"]
                                                       if env.get("JUPYTER_PATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["PSYCHOMETRIKA_NO_PROGRESS"] = "1"
    env.pop("PSYCHOMETRIKA_REPORT_DATA", None)
    return env


_EXEC_RE = re.compile(r"(\S+\.(?:md|ipynb)): Executing notebook")


def _jupyter_book(src: Path, book_dir: Path, builder: str, env: dict[str, str], steps: _Steps, n_chapters: int,
                  log: Path) -> tuple[str, int]:
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(src),
           "--path-output", str(book_dir), "--builder", builder, "--keep-going"]
    lines: list[str] = []
    executed = 0
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
                                cwd=str(src), bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            lines.append(line)
            low = line.lower()
            m = _EXEC_RE.search(line)
            if m:
                executed += 1
                steps.step(f"executing chapter {min(executed, n_chapters)}/{n_chapters}: {Path(m.group(1)).stem}")
            elif "reading sources" in low:
                steps.describe("reading chapters")
            elif "writing output" in low:
                steps.describe("writing HTML")
        rc = proc.wait()
    text = "".join(lines)
    if rc != 0:
        tail = "".join(lines[-25:])
        raise ReportError(f"jupyter-book build failed (exit status {rc}); the full log is {log}\n{tail}",
                          hint="look for the first error in the log")
    return text, executed


def _failed_chapters(log_text: str) -> list[str]:
    out = []
    for line in log_text.splitlines():
        if "Executing notebook failed" in line or "Execution Failed" in line or "CellExecutionError" in line:
            m = re.search(r"([\w.-]+\.(?:md|ipynb))", line)
            out.append(m.group(1) if m else line.strip())
    return sorted(set(out))


class _ResourceFinder(html.parser.HTMLParser):
    """Collects the URLs a page would *fetch* (scripts, style sheets, fonts, images, frames, media)."""

    FETCH = {"script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "source": ("src", "srcset"),
             "audio": ("src",), "video": ("src", "poster"), "embed": ("src",), "object": ("data",),
             "input": ("src",), "track": ("src",)}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link":
            rel = (a.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload", "prefetch", "preconnect",
                                      "dns-prefetch", "manifest")) and a.get("href"):
                self.urls.append(a["href"] or "")
            return
        for attr in self.FETCH.get(tag, ()):
            if a.get(attr):
                self.urls.append(a[attr] or "")
        style = a.get("style") or ""
        self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", style)


def _is_external(url: str) -> bool:
    u = url.strip().lower()
    return u.startswith(("http:", "https:", "//", "ftp:", "ws:", "wss:"))


def external_resources(html_dir: str | Path) -> list[tuple[str, str]]:
    """(file, url) of every resource a built page or style sheet would fetch from another machine.

    Links the reader may click (``<a href>``) are not resources and are not listed.
    """
    html_dir = Path(html_dir)
    found: list[tuple[str, str]] = []
    for p in sorted(html_dir.rglob("*.html")):
        f = _ResourceFinder()
        f.feed(p.read_text(encoding="utf-8", errors="replace"))
        found += [(p.relative_to(html_dir).as_posix(), u) for u in f.urls if _is_external(u)]
        inline = re.findall(r"<style[^>]*>(.*?)</style>", p.read_text(encoding="utf-8", errors="replace"), re.S)
        for css in inline:
            found += [(p.relative_to(html_dir).as_posix(), u) for u in _css_urls(css) if _is_external(u)]
    for p in sorted(html_dir.rglob("*.css")):
        found += [(p.relative_to(html_dir).as_posix(), u)
                  for u in _css_urls(p.read_text(encoding="utf-8", errors="replace")) if _is_external(u)]
    return found


def _css_urls(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return re.findall(r"url\(\s*['\"]?([^'\")]+)", css) + re.findall(r"@import\s+['\"]([^'\"]+)", css)


def _print_pdf(html_file: Path, pdf: Path, timeout: float = 300) -> Path:
    exe = find_chromium()
    cmd = [exe, *CHROMIUM_FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html_file.resolve().as_uri()]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ReportError(f"Chromium did not finish printing {html_file} within {timeout:.0f} s") from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise ReportError(f"Chromium could not print the book to PDF (exit status {res.returncode}): "
                          f"{(res.stderr or '').strip()[-500:]}")
    return pdf


def _can_check() -> bool:
    from .browser import playwright_available

    if not playwright_available():
        return False
    try:
        find_chromium()
    except ReportError:
        return False
    return True


def _say(text: str, enabled: bool) -> None:
    if enabled:
        from rich.console import Console

        Console(stderr=True, highlight=False).print(text)


def build_report(run_dir: str | Path, book_dir: str | Path, *, pdf: bool = False, progress: bool = True,
                 execute: bool = True, check: bool | None = None, keep_invalid: bool = False) -> Path:
    """Build the offline HTML report (Jupyter Book) of a run folder; return the path of its ``index.html``.

    Parameters
    ----------
    run_dir : run folder written by ``psychometrika run`` (``manifest.json`` + response shards).
    book_dir : output folder (created; re-used if it holds an earlier book: unchanged chapters are not
        re-executed). The HTML is in ``book_dir/_build/html``, the tables in ``book_dir/_build/html/data``.
    pdf : also print the book to ``book_dir/report.pdf`` with headless Chromium.
    progress : show a progress bar (off when ``PSYCHOMETRIKA_NO_PROGRESS`` is set).
    execute : execute the chapters (``False`` builds the pages without their outputs; for debugging only).
    keep_invalid : keep the cells response-validity screening classifies invalid in the trait statistics
        (default: left out, and the first page and chapters say which and why).
    check : open every page in headless Chromium and check it (no request off the machine, formulas rendered,
        images loaded, no error output; see :mod:`psychometrika.report.browser`), saving screenshots in
        ``book_dir/screenshots`` and the result in ``book_dir/browser-check.txt``. ``None`` (default): check
        when Playwright and Chromium are installed. A failed check raises :class:`ReportError`.

    Example
    -------
    >>> index = build_report("runs/quickstart", "runs/quickstart/book")     # doctest: +SKIP
    """
    from .statistics import compute_statistics, write_statistics

    _check_jupyter_book()
    run_dir, book_dir = Path(run_dir), Path(book_dir).resolve()
    if not (run_dir / "manifest.json").exists():
        raise ReportError(f"{run_dir} is not a run folder (no manifest.json)",
                          hint="pass the --out folder of `psychometrika run`")
    src_root = sources_dir()
    progress = progress and not os.environ.get("PSYCHOMETRIKA_NO_PROGRESS")
    n_chapters = sum(1 for p in src_root.glob("*.md") if "{code-cell}" in p.read_text(encoding="utf-8"))
    steps = _Steps(total=14 + n_chapters + (2 if pdf else 0), enabled=progress)
    try:
        _prepare_book_dir(book_dir)
        src = book_dir / "src"
        steps.describe("copying the book sources")
        _copy_sources(src_root, src)
        steps.step("computing statistics")
        stats = compute_statistics(run_dir, progress=lambda s: steps.step(s), keep_invalid=keep_invalid)
        data = src / DATA_SUBDIR
        steps.describe("writing tables")
        write_statistics(stats, data)
        responses = getattr(stats, "responses", None)
        if responses is not None:
            responses.to_parquet(data / "responses.parquet", index=False)
        steps.step("stamping chapters")
        digest = _hash_folder(data)
        chapters = _stamp(src, digest)
        cfg = src / "_config.yml"
        if not execute:
            cfg.write_text(cfg.read_text().replace("execute_notebooks: cache", "execute_notebooks: 'off'"))
        env = _env(book_dir)
        log = book_dir / "build.log"
        steps.total(14 + len(chapters) + (2 if pdf else 0))
        steps.describe("building HTML (executing chapters)")
        text, executed = _jupyter_book(src, book_dir, "html", env, steps, len(chapters), log)
        if executed < len(chapters):
            steps.step("chapters taken from the execution cache", advance=len(chapters) - executed)
        failed = _failed_chapters(text)
        html_dir = book_dir / "_build" / "html"
        index = html_dir / "index.html"
        if failed:
            raise ReportError(f"chapter(s) {', '.join(failed)} raised an error while executing; the log is {log} "
                              f"and the tracebacks are in {html_dir / 'reports'}",
                              hint="report it as a bug, with the run's manifest.json")
        if not index.exists():
            raise ReportError(f"the build finished but {index} is missing; see {log}")
        steps.step("checking that no page loads anything from the network")
        ext = external_resources(html_dir)
        if ext:
            listing = "; ".join(f"{f}: {u}" for f, u in ext[:8])
            raise ReportError(f"{len(ext)} resource(s) of the built book would be fetched from the internet: "
                              f"{listing}", hint="report it as a bug: the book must work offline")
        if check is None:
            check = _can_check()
        if check:
            from .browser import check_book

            steps.step("opening every page in headless Chromium")
            result = check_book(html_dir, screenshot_dir=book_dir / "screenshots")
            (book_dir / "browser-check.txt").write_text(result.summary() + "\n")
            if not result.ok:
                raise ReportError(result.summary(), hint=f"the pages are in {html_dir}")
            _say(result.summary(), progress)
        if pdf:
            steps.step("building the single-page version for PDF")
            _jupyter_book(src, book_dir, "singlehtml", env, _Steps(0, False), len(chapters),
                          book_dir / "build-singlehtml.log")
            steps.step("printing to PDF with headless Chromium")
            _print_pdf(book_dir / "_build" / "singlehtml" / "index.html", book_dir / "report.pdf")
        steps.step("done")
    finally:
        steps.stop()
    return index


__all__ = ["build_report", "external_resources", "find_chromium", "sources_dir"]
