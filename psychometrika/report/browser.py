"""Open a built book in headless Chromium and check what a reader would see.

:func:`check_book` loads every page with Playwright (driving the system's Chromium, e.g. Debian's
``/usr/bin/chromium``) and records, per page:

* every request whose URL is not ``file:``, ``data:``, ``blob:`` or ``about:`` — it is blocked, so nothing leaves
  the machine, and reported as a problem;
* whether MathJax rendered every formula (each ``.math`` element holds an ``mjx-container``, no ``mjx-merror``);
* whether every ``<img>`` loaded (``complete`` and ``naturalWidth > 0``);
* traceback or execution-error text in cell outputs, figures that could not be drawn, JavaScript errors;
* which of the given literal strings (e.g. item texts with ``<`` and ``&``) appear as *text*.

It can save full-page screenshots for a human to look at.

Needs ``pip install playwright`` (its Python package only; no ``playwright install``: the system Chromium is used)
and a Chromium (``apt-get install -y chromium``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .errors import ReportError

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:", "chrome:")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
                "--disable-dev-shm-usage"]
ERROR_MARKERS = ("Traceback (most recent call last)", "-" * 60 + "\n", "CellExecutionError",
                 "Execution Failed", "An exception was raised")

_PAGE_JS = """
(expect) => {
  const math = Array.from(document.querySelectorAll('.math'));
  const unrendered = math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60));
  const imgs = Array.from(document.images).map(i => ({src: i.getAttribute('src').slice(0, 80),
                                                      ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth}));
  const outs = Array.from(document.querySelectorAll(
      '.cell_output .traceback, .cell_output .output.error, .cell_output .output.traceback, div.output.error, ' +
      '.pm-figure-error'));
  const cellText = Array.from(document.querySelectorAll('.cell_output')).map(e => e.innerText).join('\\n');
  const body = document.body.innerText;
  return {math: math.length, mjx: document.querySelectorAll('mjx-container').length,
          merror: document.querySelectorAll('mjx-merror').length, unrendered: unrendered, images: imgs,
          errorOutputs: outs.length, cellText: cellText,
          found: expect.filter(s => body.includes(s)),
          title: document.title};
}
"""


@dataclass
class PageCheck:
    """What one page showed."""

    page: str
    title: str = ""
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    math: int = 0
    mjx: int = 0
    math_errors: int = 0
    unrendered_math: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    error_outputs: int = 0
    error_texts: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    found_texts: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    def problems(self) -> list[str]:
        out = [f"{self.page}: request to {u} (blocked)" for u in self.external_requests]
        out += [f"{self.page}: failed to load {u}" for u in self.failed_requests]
        if self.math and (self.unrendered_math or self.math_errors):
            out.append(f"{self.page}: {len(self.unrendered_math)} of {self.math} formulas not rendered by MathJax, "
                       f"{self.math_errors} TeX errors")
        out += [f"{self.page}: image did not load: {s}" for s in self.broken_images]
        if self.error_outputs:
            out.append(f"{self.page}: {self.error_outputs} cell output(s) with an error")
        out += [f"{self.page}: error text in a cell output: {t!r}" for t in self.error_texts]
        out += [f"{self.page}: JavaScript error: {e}" for e in self.js_errors]
        return out


@dataclass
class BookCheck:
    """The result of :func:`check_book`."""

    html_dir: Path
    pages: list[PageCheck]
    executable: str

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        return [p for pc in self.pages for p in pc.problems()]

    def page(self, name: str) -> PageCheck:
        for pc in self.pages:
            if pc.page == name:
                return pc
        raise KeyError(name)

    @property
    def screenshots(self) -> list[Path]:
        return [pc.screenshot for pc in self.pages if pc.screenshot is not None]

    def summary(self) -> str:
        n_img = sum(p.images for p in self.pages)
        n_math = sum(p.math for p in self.pages)
        n_ext = sum(len(p.external_requests) for p in self.pages)
        head = (f"browser check ({Path(self.executable).name}): {len(self.pages)} pages, {n_img} images, "
                f"{n_math} formulas, {n_ext} requests off the machine")
        probs = self.problems()
        return head + (": OK" if not probs else f": {len(probs)} problem(s)\n  " + "\n  ".join(probs))


def default_pages(html_dir: Path) -> list[str]:
    """The book's content pages (index and chapters; not search/genindex)."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(p.name for p in Path(html_dir).glob("*.html") if p.name not in skip)


def find_chromium() -> str:
    """Path of a Chromium/Chrome executable (``$PSYCHOMETRIKA_CHROMIUM`` first)."""
    env = os.environ.get("PSYCHOMETRIKA_CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        p = shutil.which(name)
        if p:
            return p
    raise ReportError("printing to PDF needs Chromium, which was not found",
                      hint="install it (Debian/Ubuntu: apt-get install -y chromium) or set PSYCHOMETRIKA_CHROMIUM")


def _executable(executable: str | None) -> str:
    return executable or find_chromium()


def playwright_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("playwright") is not None


def check_book(html_dir: str | Path, *, pages: Sequence[str] | None = None, screenshot_dir: str | Path | None = None,
               screenshot_pages: Iterable[str] = ("index.html",), expect_texts: Sequence[str] = (),
               executable: str | None = None, timeout_ms: int = 120_000) -> BookCheck:
    """Open the pages of a built book in headless Chromium and check them (see the module docstring).

    Parameters
    ----------
    html_dir : the book's HTML folder (``BOOK/_build/html``).
    pages : page file names (default: every content page).
    screenshot_dir : save full-page PNG screenshots of ``screenshot_pages`` here (``"*"``: all pages).
    expect_texts : literal strings to look for in the pages' text (``found_texts`` of each page).
    executable : the Chromium binary (default: ``$PSYCHOMETRIKA_CHROMIUM`` or ``chromium`` on the PATH).
    timeout_ms : the longest wait for one page to load and settle (a healthy local page takes well under a
        second; the bound is generous because a busy 2-core machine can stall Chromium for tens of seconds).
    """
    if not playwright_available():
        raise ReportError("the browser check needs Playwright's Python package", hint="pip install playwright")
    from playwright.sync_api import Error as PWError
    from playwright.sync_api import TimeoutError as PWTimeout
    from playwright.sync_api import sync_playwright

    html_dir = Path(html_dir).resolve()
    exe = _executable(executable)
    names = list(pages) if pages is not None else default_pages(html_dir)
    if not names or not all((html_dir / n).exists() for n in names):
        raise ReportError(f"no book pages to check in {html_dir}", hint="build the report first")
    shots = set(screenshot_pages)
    results: list[PageCheck] = []
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=exe, args=BROWSER_ARGS, headless=True)
        except PWError as exc:
            raise ReportError(f"cannot start Chromium ({exe}): {str(exc).splitlines()[0]}",
                              hint="apt-get install -y chromium, or set PSYCHOMETRIKA_CHROMIUM") from None
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
            for name in names:
                try:
                    results.append(_check_page(context, html_dir, name, expect_texts, timeout_ms,
                                               Path(screenshot_dir) if screenshot_dir is not None and
                                               ("*" in shots or name in shots) else None))
                except PWTimeout:
                    raise ReportError(f"the browser check of {name} did not finish within {timeout_ms / 1000:.0f} s "
                                      f"(Chromium stalled; is the machine very busy?); the book itself is built in "
                                      f"{html_dir}", hint="re-run the report command to check again, or build "
                                                          "with --no-check") from None
            context.close()
        finally:
            browser.close()
    return BookCheck(html_dir, results, exe)


def _check_page(context, html_dir: Path, name: str, expect: Sequence[str], timeout_ms: int,
                shot_dir: Path | None) -> PageCheck:
    pc = PageCheck(name)
    page = context.new_page()

    def route(r) -> None:
        url = r.request.url
        if url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            pc.external_requests.append(url)
            r.abort("blockedbyclient")

    page.route("**/*", route)
    page.on("requestfailed", lambda req: None if req.url in pc.external_requests or req.url.startswith("data:")
            else pc.failed_requests.append(req.url))
    page.on("pageerror", lambda exc: pc.js_errors.append(str(exc).splitlines()[0]))
    page.goto((html_dir / name).as_uri(), wait_until="load", timeout=timeout_ms)
    # MathJax typesets asynchronously: wait for its startup promise when it is on the page
    page.evaluate("""() => new Promise(resolve => {
        const t0 = Date.now();
        const tick = () => {
          if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            MathJax.startup.promise.then(() => resolve(true), () => resolve(false));
          } else if (!document.querySelector('.math') || Date.now() - t0 > 15000) { resolve(false); }
          else { setTimeout(tick, 100); }
        };
        tick();
    })""")
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    info = page.evaluate(_PAGE_JS, list(expect))
    pc.title = info["title"]
    pc.math, pc.mjx, pc.math_errors = info["math"], info["mjx"], info["merror"]
    pc.unrendered_math = info["unrendered"]
    pc.images = len(info["images"])
    pc.broken_images = [i["src"] for i in info["images"] if not i["ok"]]
    pc.error_outputs = info["errorOutputs"]
    pc.error_texts = [m.strip() for m in ERROR_MARKERS if m in info["cellText"]]
    pc.found_texts = list(info["found"])
    if shot_dir is not None:
        shot_dir.mkdir(parents=True, exist_ok=True)
        pc.screenshot = shot_dir / (Path(name).stem + ".png")
        page.screenshot(path=str(pc.screenshot), full_page=True)
    page.close()
    return pc


__all__ = ["BookCheck", "PageCheck", "check_book", "default_pages", "find_chromium", "playwright_available"]
