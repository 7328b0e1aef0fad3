"""The cached GGUF conversion (``psychometrika.models.convert``) and the transformers backend's warm start from it.

Fast tests check the cache's bookkeeping on real files (the sha256 record's fast path, the key, the completeness
check). Slow tests convert the real embedded SmolLM2 GGUF: two processes converting into an empty cache at once
leave one valid folder (one of them converts, the other waits and reuses it); a second load does not parse the
GGUF; scores from the cache equal scores from the GGUF itself; damaged folders are detected and rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from psychometrika.models import convert, fileid
from psychometrika.models.convert import (MARKER, cached_conversion, converted_folder, gguf_identity,
                                          is_converted)

REPO = Path(__file__).resolve().parents[2]


def _fake_gguf(path: Path, payload: bytes) -> Path:
    path.write_bytes(b"GGUF" + payload)
    return path


def _count_hashes(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = fileid.hash_file

    def counting(path, *a, **k):
        calls.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(fileid, "hash_file", counting)
    monkeypatch.setattr(convert, "hash_file", counting)
    return calls


def test_identity_is_recorded_once_and_rehashed_when_the_file_changes(tmp_path, monkeypatch):
    monkeypatch.delenv(fileid.VERIFY_ENV, raising=False)
    f = _fake_gguf(tmp_path / "m.gguf", b"x" * 5000)
    cache = tmp_path / "cache"
    calls = _count_hashes(monkeypatch)
    import hashlib

    want = hashlib.sha256(f.read_bytes()).hexdigest()
    assert gguf_identity(f, cache) == want and len(calls) == 1
    from psychometrika.models import embedded
    embedded._VERIFIED.clear()
    # a second process (no in-process memo): the record's size + mtime match, the file is not read
    assert gguf_identity(f, cache) == want and len(calls) == 1
    rec = json.loads(next((cache / "ids").iterdir()).read_text())
    assert rec["sha256"] == want and rec["size"] == f.stat().st_size and rec["file"] == str(f.resolve())
    # same size, other bytes, new mtime: hashed again, and the new sha256 recorded
    f.write_bytes(b"GGUF" + b"y" * 5000)
    os.utime(f, ns=(rec["mtime_ns"] + 10**9, rec["mtime_ns"] + 10**9))
    embedded._VERIFIED.clear()
    new = hashlib.sha256(f.read_bytes()).hexdigest()
    assert gguf_identity(f, cache) == new != want and len(calls) == 2
    embedded._VERIFIED.clear()
    assert gguf_identity(f, cache) == new and len(calls) == 2
    # PSYCHOMETRIKA_VERIFY=full hashes every time
    monkeypatch.setenv(fileid.VERIFY_ENV, "full")
    embedded._VERIFIED.clear()
    assert gguf_identity(f, cache) == new and len(calls) == 3


def test_the_cache_is_keyed_by_the_files_sha256_and_dtype(tmp_path):
    a = _fake_gguf(tmp_path / "model.gguf", b"a" * 100)
    other = tmp_path / "other"
    other.mkdir()
    b = _fake_gguf(other / "model.gguf", b"b" * 100)  # same name, other bytes
    c = _fake_gguf(other / "copy.gguf", b"a" * 100)   # other name, same bytes
    cache = tmp_path / "cache"
    fa, fb = converted_folder(a, "float32", cache), converted_folder(b, "float32", cache)
    assert fa != fb and fa.parent == fb.parent == cache / "models"
    assert gguf_identity(a, cache)[:16] in fa.name and gguf_identity(b, cache)[:16] in fb.name
    assert converted_folder(c, "float32", cache).name.split("-")[1] == fa.name.split("-")[1]
    assert converted_folder(a, "bfloat16", cache) != fa


def _hand_built(folder: Path, source_sha: str, dtype: str = "float32") -> Path:
    """A folder laid out like a conversion (its record and listed files), written by hand."""
    folder.mkdir(parents=True)
    files = {"model.safetensors": b"\0" * 1000, "config.json": b"{}", "tokenizer.json": b"{}"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / MARKER).write_text(json.dumps({"source_sha256": source_sha, "dtype": dtype,
                                             "files": {n: len(d) for n, d in files.items()}}))
    return folder


def test_an_incomplete_or_foreign_folder_is_not_a_conversion(tmp_path):
    src = _fake_gguf(tmp_path / "m.gguf", b"z" * 300)
    sha = gguf_identity(src, tmp_path / "cache")
    ok = _hand_built(tmp_path / "ok", sha)
    assert is_converted(ok, src, sha) and is_converted(ok, src, sha, "float32")
    assert not is_converted(ok, src, sha, "bfloat16")
    assert not is_converted(_hand_built(tmp_path / "foreign", "f" * 64), src, sha)
    trunc = _hand_built(tmp_path / "trunc", sha)
    with open(trunc / "model.safetensors", "r+b") as fh:
        fh.truncate(999)
    assert not is_converted(trunc, src, sha)
    gone = _hand_built(tmp_path / "gone", sha)
    (gone / "tokenizer.json").unlink()
    assert not is_converted(gone, src, sha)
    unmarked = _hand_built(tmp_path / "unmarked", sha)
    (unmarked / MARKER).unlink()
    assert not is_converted(unmarked, src, sha)
    broken = _hand_built(tmp_path / "broken", sha)
    (broken / MARKER).write_text('{"source_sha256": "' + sha)  # cut short
    assert not is_converted(broken, src, sha)


# ------------------------------------------------------------------------------------ the real embedded model
_CONVERT = """
import json, sys
from psychometrika.models.convert import cached_conversion
from psychometrika.models.embedded import embedded_gguf
folder, now = cached_conversion(embedded_gguf(), "float32", cache_dir=sys.argv[1])
print(json.dumps({"folder": str(folder), "converted": now}))
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """An empty cache filled by two processes started together, each converting the embedded GGUF; returns
    (cache dir, both processes' answers)."""
    pytest.importorskip("transformers")
    from psychometrika.models.embedded import embedded_gguf

    try:
        embedded_gguf()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"embedded model not installed: {exc}")
    root = tmp_path_factory.mktemp("psycache")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _CONVERT, str(root)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    answers = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-2000:]
        answers.append(json.loads(out.strip().splitlines()[-1]))
    return root, answers


@pytest.mark.slow
def test_two_processes_converting_at_once_leave_one_valid_folder(cache):
    root, answers = cache
    from psychometrika.models.embedded import embedded_gguf

    assert sorted(a["converted"] for a in answers) == [False, True]  # one converted, the other reused it
    assert answers[0]["folder"] == answers[1]["folder"]
    folder = Path(answers[0]["folder"])
    assert [p.name for p in (root / "models").iterdir() if not p.name.startswith(".")] == [folder.name]
    assert not [p for p in (root / "models").iterdir() if p.is_dir() and p.name.startswith(".")]  # no temp dirs
    src = embedded_gguf()
    assert is_converted(folder, src, gguf_identity(src, root), "float32")
    rec = json.loads((folder / MARKER).read_text())
    assert rec["dtype"] == "float32" and rec["model_id"] == "smollm2-135m-instruct"
    assert rec["files"]["model.safetensors"] > 4 * 134_000_000  # float32: 4 bytes per parameter


def _block_gguf_parsing(monkeypatch):
    """Make any GGUF parse fail loudly: a load that needs one cannot pass."""
    import transformers.modeling_gguf_pytorch_utils as gg

    def refuse(*a, **k):
        raise AssertionError("the GGUF file was parsed")

    monkeypatch.setattr(gg, "load_gguf_checkpoint", refuse)
    monkeypatch.setattr(convert, "_convert", refuse)


PROMPTS = [({"role": "user", "content": "Answer 1-5: I am talkative."},),
           ({"role": "system", "content": "You are a careful, quiet accountant."},
            {"role": "user", "content": "Rate 1-5 how well this describes you: I get nervous easily."}),
           ({"role": "user", "content": "Is the sky green? Answer Yes or No."},)]


@pytest.mark.slow
def test_a_warm_load_reads_the_cache_only_and_scores_equal_the_ggufs(cache, monkeypatch):
    from psychometrika.backends import ScoreRequest, make_backend

    root, _ = cache
    monkeypatch.setenv("PSYCHOMETRIKA_CACHE", str(root))
    reqs = [ScoreRequest(f"k{i}", m, ("1", "2", "3", "4", "5") if i < 2 else ("Yes", "No", " Yes"))
            for i, m in enumerate(PROMPTS)]
    reqs.append(ScoreRequest("text", PROMPTS[1], ("Agree strongly", "Disagree a little")))
    gguf = make_backend("transformers", model="embedded", weights_cache=False)
    assert gguf.info.extra["weights_cache"] == "off" and "loaded_from" not in gguf.info.extra
    with monkeypatch.context() as m:
        _block_gguf_parsing(m)
        warm = make_backend("transformers", model="embedded")
        assert warm.info.extra["weights_cache"] == "hit"
        assert Path(warm.info.extra["loaded_from"]).parent == root / "models"
        a, b = gguf.score(reqs), warm.score(reqs)
    assert warm.dtype == gguf.dtype == "float32" and str(next(warm.model.parameters()).dtype) == "torch.float32"
    assert warm.info.weights_sha256 == gguf.info.weights_sha256 and warm.info.extra["source"] == gguf.info.extra["source"]
    assert [warm.render(p) for p in PROMPTS] == [gguf.render(p) for p in PROMPTS]
    assert [warm._encode(warm.render(p)) for p in PROMPTS] == [gguf._encode(gguf.render(p)) for p in PROMPTS]
    for x, y in zip(a, b):
        assert x.error is None and y.error is None and len(x.logprobs) == len(y.logprobs) >= 2
        assert np.max(np.abs(np.array(x.logprobs) - np.array(y.logprobs))) < 1e-5
        assert int(np.argmax(x.logprobs)) == int(np.argmax(y.logprobs))
    # the effective CPU settings are what the manifest records
    import torch

    assert warm.info.extra["threads"] == torch.get_num_threads() >= 1
    assert warm.info.extra["omp_wait_policy"]
    from psychometrika.design.study import ModelSpec
    from psychometrika.engine.manifest import model_entry

    entry = model_entry(ModelSpec(id="smol", backend="transformers", model="embedded"), warm.info)
    assert entry["threads"] == warm.info.extra["threads"] and entry["weights_cache"] == "hit"
    gguf.close()
    warm.close()


@pytest.mark.slow
def test_a_truncated_cached_file_is_detected_and_the_folder_rebuilt(cache, tmp_path):
    from psychometrika.models.embedded import embedded_gguf

    root, answers = cache
    copy = tmp_path / "cache"
    shutil.copytree(root, copy)
    folder = copy / "models" / Path(answers[0]["folder"]).name
    size = (folder / "model.safetensors").stat().st_size
    with open(folder / "model.safetensors", "r+b") as fh:  # an interrupted copy or a full disk
        fh.truncate(size // 2)
    src = embedded_gguf()
    assert not is_converted(folder, src, gguf_identity(src, copy))
    again, now = cached_conversion(src, "float32", cache_dir=copy)
    assert again == folder and now is True
    assert (folder / "model.safetensors").stat().st_size == size and is_converted(folder, src, None, "float32")


@pytest.mark.slow
def test_a_damaged_cached_file_of_the_right_size_is_rebuilt_on_load(cache, tmp_path, monkeypatch):
    from psychometrika.backends import ScoreRequest, make_backend

    root, answers = cache
    copy = tmp_path / "cache"
    shutil.copytree(root, copy)
    folder = copy / "models" / Path(answers[0]["folder"]).name
    weights = folder / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as fh:  # the safetensors header overwritten: same size, unreadable
        fh.write(b"\xff" * 64)
    monkeypatch.setenv("PSYCHOMETRIKA_CACHE", str(copy))
    be = make_backend("transformers", model="embedded")
    assert be.info.extra["weights_cache"] == "rebuilt" and be.info.extra["loaded_from"] == str(folder)
    assert weights.stat().st_size == size and weights.read_bytes()[:8] != b"\xff" * 8
    lp = be.score([ScoreRequest("k", PROMPTS[0], ("1", "2", "3", "4", "5"))])[0].logprobs
    assert len(lp) == 5 and all(v < 0 for v in lp)
    be.close()
