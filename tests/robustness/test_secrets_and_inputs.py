"""Issue 19, findings 4, 5, 7 and 8: secrets never reach a file or a message; hostile or huge inputs are
refused within seconds and bounded memory; bad values are located errors (exit 2), never "internal error".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import psychometrika as pm
from psychometrika import secrets
from psychometrika.errors import StudyError
from psychometrika.store.store import RunStore

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT = Path(__file__).resolve().parents[2]
KEY = "k3y-Value-0f-MY-LLM-PASS-19"


def _cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "psychometrika", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


class _EchoHeaders(BaseHTTPRequestHandler):
    """A hostile server: answers 401 with every request header echoed in the body."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

    def _echo(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = json.dumps({"error": {"message": "Unauthorized", "headers": dict(self.headers)}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _echo


@pytest.fixture()
def echo_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


def test_a_server_echoing_the_key_never_gets_it_into_any_file_or_output(tmp_path, echo_server):
    study = tmp_path / "s.yaml"
    study.write_text(f"id: leak\ninstruments: [{DATA / 'mini.yaml'}]\nmodels:\n  - {{id: m1, backend: openai, "
                     f"model: m, settings: {{base_url: '{echo_server}', api_key_env: MY_LLM_PASS, max_retries: 0}}}}\n")
    out = tmp_path / "run"
    res = _cli("run", str(study), "--out", str(out), "--no-progress", cwd=tmp_path, env={"MY_LLM_PASS": KEY})
    assert res.returncode == 3, res.stderr
    assert "401 Unauthorized" in res.stderr and "request(s) failed" in res.stderr, res.stderr
    assert KEY not in res.stdout + res.stderr and "***" in res.stderr  # the echoed header is masked
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert out / "manifest.json" in files
    for p in files:
        assert KEY.encode() not in p.read_bytes(), p
    # the report of the (empty) run copies the manifest: still no key
    rep = _cli("verify", str(out), cwd=tmp_path, env={"MY_LLM_PASS": KEY})
    assert KEY not in rep.stdout + rep.stderr


def test_a_key_pasted_as_api_key_env_is_refused_and_not_stored(tmp_path):
    study = tmp_path / "s.yaml"
    study.write_text(f"id: leak\ninstruments: [{DATA / 'mini.yaml'}]\nmodels:\n  - {{id: m1, backend: openai, "
                     f"model: m, settings: {{api_key_env: sk-proj-{KEY}}}}}\n")
    res = _cli("run", str(study), "--out", str(tmp_path / "run"), "--no-progress", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert f"{study}:4:" in res.stderr and "api_key_env must be the NAME of an environment variable" in res.stderr
    assert not (tmp_path / "run").exists()
    assert secrets.env_name_problem("MY_LLM_PASS") is None
    assert secrets.env_name_problem("a8f3kd92jd83kf93kd83kf") is not None  # an alphanumeric key, not a name


def test_secret_like_settings_are_masked_in_every_manifest_section_and_the_study_copy(tmp_path):
    text = (f"id: v\nmodels:\n  - id: m\n    backend: vllm\n    settings:\n      engine_kwargs: {{hf_token: "
            f"hf_{KEY}, revision: main}}\n")
    out = tmp_path / "run"
    store = RunStore.open(out, "h", study_text=text)
    store.write_manifest({"study_hash": "h", "study": {"models": [{"settings": {"engine_kwargs": {
        "hf_token": f"hf_{KEY}", "revision": "main"}}}]}, "models": {"m": {"settings": {"password": "pw-123456"}}},
        "note": f"error text with hf_{KEY} inside"})
    store.close()
    for name in ("manifest.json", "study.yaml"):
        raw = (out / name).read_text()
        assert KEY not in raw and "pw-123456" not in raw and "***" in raw, raw
    m = json.loads((out / "manifest.json").read_text())
    assert m["study"]["models"][0]["settings"]["engine_kwargs"] == {"hf_token": "***", "revision": "main"}
    assert "revision: main" in (out / "study.yaml").read_text()


def test_a_manifest_written_with_a_secret_is_masked_when_read(tmp_path):
    from psychometrika.store.store import read_manifest

    (tmp_path / "shards").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps({"study_hash": "h", "models": {"m": {"settings": {
        "api_key": KEY}}}, "study": {"models": [{"settings": {"engine_kwargs": {"hf_token": KEY}}}]}}))
    assert KEY not in json.dumps(read_manifest(tmp_path))


def test_one_name_rule_for_secrets():
    assert [n for n in ("api_key", "hf_token", "apiKey", "MY_LLM_PASS", "Authorization", "client_secret")
            if secrets.is_secret_name(n)] == ["api_key", "hf_token", "apiKey", "MY_LLM_PASS", "Authorization",
                                              "client_secret"]
    assert not any(secrets.is_secret_name(n) for n in ("api_key_env", "max_tokens", "cell_key", "top_logprobs"))
    from psychometrika.engine.redaction import redact

    assert redact({"api_key_env": "X", "engine_kwargs": {"hf_token": "abc"}}) == \
        {"api_key_env": "X", "engine_kwargs": {"hf_token": "***"}}
    os.environ["SOME_UNUSUAL_NAME_19"] = KEY
    try:
        assert secrets.redact_text(f"echo {KEY}", {"api_key_env": "SOME_UNUSUAL_NAME_19"}) == "echo ***"
    finally:
        del os.environ["SOME_UNUSUAL_NAME_19"]


# ------------------------------------------------------------------------------------------ bounded inputs
def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines)


#: Runs the CLI and, at exit, writes the process's own peak resident memory (VmHWM of /proc/self/status, which
#: starts afresh at exec) to the file named by $PEAK_FILE. ``ru_maxrss`` of a child is no use here: Linux carries
#: the parent's high-water mark (the test session, several GB once a real model is loaded) over fork and exec.
_PEAK_WRAPPER = """
import atexit, os, re, runpy, sys
def _peak():
    kib = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)
    open(os.environ["PEAK_FILE"], "w").write(kib)
atexit.register(_peak)
sys.argv = ["psychometrika", *sys.argv[1:]]
runpy.run_module("psychometrika", run_name="__main__")
"""


def _timed(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run the CLI: its result, wall seconds and the peak resident memory (KiB) of that process alone."""
    peak = cwd / "peak.kib"
    t = time.time()
    res = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *args], capture_output=True, text=True, cwd=cwd,
                         timeout=30, env={**os.environ, "PYTHONPATH": str(ROOT), "PEAK_FILE": str(peak)})
    return res, time.time() - t, int(peak.read_text())


def test_an_alias_bomb_in_a_backend_setting_is_refused_with_its_line(tmp_path):
    bomb = _bomb()
    study = tmp_path / "bomb.yaml"
    study.write_text(f"{bomb}\nid: bomb\ninstruments: [{DATA / 'mini.yaml'}]\nmodels:\n"
                     f"  - {{id: m1, backend: dummy, settings: {{junk_text: *a8}}}}\n")
    assert len(study.read_bytes()) < 1000
    res, secs, peak_kib = _timed(["run", str(study), "--out", str(tmp_path / "run"), "--no-progress"], tmp_path)
    assert res.returncode == 2 and secs < 20, res.stderr
    assert "YAML aliases expand this value" in res.stderr and f"{study}:" in res.stderr
    assert peak_kib < 1_000_000  # KiB: well under 1 GB
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder"])
def test_non_regular_files_are_refused_without_reading(tmp_path, kind):
    if kind == "dev-zero":
        target = Path("/dev/zero")
    elif kind == "fifo":
        target = tmp_path / "pipe.yaml"
        os.mkfifo(target)
    else:
        target = tmp_path / "folder.yaml"
        target.mkdir()
    study = tmp_path / "s.yaml"
    study.write_text(f"id: dz\ninstruments: [{target}]\nmodels: [{{id: m1, backend: dummy}}]\n")
    for args in (["run", str(study), "--out", str(tmp_path / "run"), "--no-progress"], ["plan", str(target)]):
        res, secs, peak_kib = _timed(args, tmp_path)
        assert res.returncode == 2 and secs < 20, res.stderr
        assert str(target) in res.stderr and ("not a regular file" in res.stderr or "is a folder" in res.stderr)
        assert peak_kib < 1_000_000


def test_a_huge_design_is_refused_with_its_size_before_expanding(tmp_path):
    study = tmp_path / "s.yaml"
    study.write_text(f"id: huge\ninstruments: [{DATA / 'mini.yaml'}]\nmodels: [{{id: m1, backend: dummy}}]\n"
                     "decoding: {repetitions: 1000000000}\n")
    for cmd in ("plan", "run"):
        args = [cmd, str(study)] + (["--out", str(tmp_path / "run"), "--no-progress"] if cmd == "run" else [])
        res, secs, _ = _timed(args, tmp_path)
        assert res.returncode == 2 and secs < 20, res.stderr
        assert "plans 5,000,000,000 prompts" in res.stderr and "--max-prompts" in res.stderr, res.stderr
    res, _, _ = _timed(["plan", str(study), "--max-prompts", "4"], tmp_path)
    assert res.returncode == 2 and "the limit is 4" in res.stderr
    small = study.read_text().replace("1000000000", "2")
    study.write_text(small)
    assert _cli("plan", str(study), "--json", cwd=tmp_path).returncode == 0


# ------------------------------------------------------------------------------------------ located errors
BASE = f"id: good\ninstruments: [{DATA / 'mini.yaml'}]\nmodels:\n  - {{id: m1, backend: dummy}}\n"
BAD_VALUES = [  # name, replacement of one line or an added line, expected text, line
    ("5001-digit seed", ("", "seed: " + "7" * 5001 + "\n"), "integer of 5001 digits is too long", 5),
    ("seed above 2**63", ("", "decoding: {seeds: [99999999999999999999]}\n"), "decoding.seeds[0]", 5),
    ("negative seed", ("", "seed: -1\n"), "greater than or equal to 0", 5),
    ("infinite temperature", ("", "decoding: {temperature: 1e999}\n"), "finite number", 5),
    ("delay_s text", ("{id: m1, backend: dummy}", "{id: m1, backend: dummy, settings: {delay_s: \"0.0.1\"}}"),
     "settings.delay_s: expected float, got the text '0.0.1'", 4),
    ("negative delay", ("{id: m1, backend: dummy}", "{id: m1, backend: dummy, settings: {delay_s: -2}}"),
     "a duration cannot be negative", 4),
    ("id no", ("id: good", "id: no"), "YAML read `no` as bool false", 1),
    ("id 012", ("id: good", "id: 012"), "YAML read `012` as int 10", 1),
]


@pytest.mark.parametrize("case", BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_bad_values_are_located_errors_checked_before_any_request(tmp_path, case):
    _, (old, new), expect, line = case
    study = tmp_path / "s.yaml"
    study.write_text(BASE.replace(old, new, 1) if old else BASE + new)
    res = _cli("run", str(study), "--out", str(tmp_path / "run"), "--no-progress", cwd=tmp_path)
    assert res.returncode == 2, res.stderr[-3000:]
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr
    assert expect in res.stderr and f"{study}:{line}:" in res.stderr, res.stderr[-3000:]
    assert not (tmp_path / "run").exists()


def test_relative_paths_are_relative_to_the_study_files_folder(tmp_path):
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "mine.yaml").write_text((DATA / "mini.yaml").read_text())
    (folder / "people.yaml").write_text("- {id: calm, text: You are calm.}\n")
    study = folder / "s.yaml"
    study.write_text("id: rel\ninstruments: [mine.yaml]\nmodels: [{id: m1, backend: dummy}]\n"
                     "personas: {file: people.yaml}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = _cli("plan", str(study), "--json", cwd=elsewhere)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["factors"]["personas"] == 2
    # a path relative to the current folder only: refused with the rule in the hint
    (folder / "mine.yaml").rename(elsewhere / "mine.yaml")
    res = _cli("plan", str(study), cwd=elsewhere)
    assert res.returncode == 2 and "relative to the study file's folder" in res.stderr, res.stderr


def test_a_broken_plugin_is_reported_and_skipped(tmp_path, monkeypatch):
    from importlib import metadata as md

    from psychometrika.instruments import registry

    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    mod = tmp_path / "pm_plugin_19.py"
    mod.write_text(f"def instruments():\n    return [{str(broken)!r}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = md.EntryPoint("broken19", "pm_plugin_19:instruments", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry.md, "entry_points", lambda group=None: [ep])
    registry.refresh()
    try:
        with pytest.warns(UserWarning, match="broken19"):
            ids = [i.id for i, _ in registry.list_instruments()]
        assert "bfi-44" in ids
        assert any(str(broken) in p for p in registry.catalogue_problems())
    finally:
        registry.refresh()


def test_study_errors_are_psychometrika_errors():
    with pytest.raises(StudyError):
        pm.load_study("/dev/zero")
