"""Convert a GGUF model file into a dense safetensors folder, cached in the user cache and keyed by the GGUF's
sha256 (what vLLM loads, and what the transformers backend starts from after its first run).

transformers can *read* GGUF (``from_pretrained(folder, gguf_file=name)``) but that is slow -- it parses the file
three times (tokenizer, config, weights) and dequantizes every tensor in Python: 20-45 s of a 2-core start for
the embedded 135M model, against about 2 s from a safetensors folder (``docs/benchmarks.md``). It also refuses to
``save_pretrained`` a GGUF-loaded model while it carries the GGUF quantizer; dropping ``model.hf_quantizer`` and
``config.quantization_config`` after dequantizing gives an ordinary checkpoint.

**The cache.** ``$PSYCHOMETRIKA_CACHE`` (default ``~/.cache/psychometrika``) holds

* ``models/<stem>-<sha256[:16]>-<dtype>-tf<transformers version>/``: one conversion (``model.safetensors``, config,
  tokenizer and chat template, and ``psychometrika.json`` recording the source's sha256 and every file written
  with its size). The weights are the GGUF's dequantized values cast to ``dtype`` -- the tensors
  ``from_pretrained(gguf_file=...)`` gives in that dtype, so scores from the cache equal scores from the GGUF
  (tested on the embedded model). The transformers version is part of the key because the dequantization and
  the tokenizer conversion are its code.
* ``ids/<sha256 of the file's absolute path>.json``: the GGUF's ``sha256`` with its ``size`` and ``mtime_ns``
  (:func:`.fileid.recorded_sha256`: trusted while size and mtime are unchanged, so a start stats the file
  instead of reading it; ``PSYCHOMETRIKA_VERIFY=full`` hashes it every time).

A folder whose record is missing, names another source, or lists a file that is absent or of another size is
not a conversion (:func:`is_converted`) and is built again. A conversion is written to a temporary sibling folder
and renamed into place, under an exclusive lock file (``models/.<name>.lock``), so two processes starting
together convert once and neither ever loads a half-written folder. Command line:
``psychometrika convert MODEL.gguf [OUT_DIR]``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import BackendError
from .embedded import EMBEDDED_ID, embedded_gguf, is_embedded, known_sha256, remember_sha256
from .fileid import file_lock, hash_file, recorded_sha256, stat_record, write_json

MARKER = "psychometrika.json"
DTYPES = ("bfloat16", "float16", "float32")


def default_cache_dir() -> Path:
    """``$PSYCHOMETRIKA_CACHE`` or ``~/.cache/psychometrika``."""
    return Path(os.environ.get("PSYCHOMETRIKA_CACHE") or Path.home() / ".cache" / "psychometrika")


def _transformers_version() -> str:
    try:
        return md.version("transformers")
    except md.PackageNotFoundError:  # pragma: no cover - the converter needs it anyway
        return "none"


def gguf_identity(gguf: str | Path, cache_dir: str | Path | None = None) -> str:
    """sha256 of a weight file: known in this process (an assembled registry model, verified at resolution), or
    recorded in the cache with the file's size and mtime (a stat, not a read of the whole file), or else hashed
    now and recorded. An unwritable cache just means hashing every time."""
    path = Path(gguf).expanduser().resolve()
    sha = known_sha256(path)
    if sha:
        return sha
    record = Path(cache_dir or default_cache_dir()) / "ids" / f"{hashlib.sha256(str(path).encode()).hexdigest()}.json"
    sha, rec = recorded_sha256(path, record)
    if rec is None or sha != rec["sha256"]:
        sha = sha or hash_file(path)
        try:
            write_json(record, stat_record(path, sha, file=str(path)))
        except OSError:
            pass
    remember_sha256(path, sha)
    return sha


def converted_folder(gguf: str | Path, dtype: str = "bfloat16", cache_dir: str | Path | None = None,
                     sha256: str | None = None) -> Path:
    """Where the cache keeps (or will keep) the conversion of ``gguf`` to ``dtype``."""
    sha = sha256 or gguf_identity(gguf, cache_dir)
    name = f"{Path(gguf).stem}-{sha[:16]}-{dtype}-tf{_transformers_version()}"
    return Path(cache_dir or default_cache_dir()) / "models" / name


def _marker(folder: Path) -> dict[str, Any] | None:
    try:
        rec = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


def is_converted(folder: str | Path, gguf: str | Path, sha256: str | None = None, dtype: str | None = None) -> bool:
    """True when ``folder`` holds a complete conversion of ``gguf``'s bytes (to ``dtype`` when given): its record
    names that source sha256 and every file it lists is there with its recorded size (a stat each)."""
    folder = Path(folder)
    rec = _marker(folder)
    if rec is None or rec.get("source_sha256") != (sha256 or gguf_identity(gguf)):
        return False
    if dtype is not None and rec.get("dtype") != dtype:
        return False
    files = rec.get("files")
    if not isinstance(files, dict) or not any(str(f).endswith(".safetensors") for f in files):
        return False
    try:
        return all((folder / name).stat().st_size == int(size) for name, size in files.items())
    except (OSError, ValueError, TypeError):
        return False


def cached_conversion(gguf: str | Path, dtype: str, *, sha256: str | None = None,
                      cache_dir: str | Path | None = None, rebuild: bool = False) -> tuple[Path, bool]:
    """The cached conversion of ``gguf`` to ``dtype``, converting it first when there is none (or it is
    incomplete, or ``rebuild``: the caller could not load it).

    Returns ``(folder, converted_now)``. Safe against concurrent callers: the conversion runs under the lock
    and the check is repeated once the lock is held, so the second caller loads the first one's folder."""
    src = Path(gguf).expanduser()
    sha = sha256 or gguf_identity(src, cache_dir)
    out = converted_folder(src, dtype, cache_dir, sha)
    if not rebuild and is_converted(out, src, sha, dtype):
        return out, False
    seen = (_marker(out) or {}).get("converted")
    with file_lock(out.parent / f".{out.name}.lock"):
        now = _marker(out) or {}
        # another process (re)built it while we waited: use that one
        if is_converted(out, src, sha, dtype) and (not rebuild or now.get("converted") != seen):
            return out, False
        _convert(src, out, dtype, sha, _model_id(src))
    return out, True


def _model_id(src: Path) -> str:
    """The id a conversion's record names: the embedded model's, or the file's stem."""
    try:
        if src.resolve() == embedded_gguf().resolve():
            return EMBEDDED_ID
    except BackendError:  # the embedded model is not installed
        pass
    return src.stem


def gguf_to_safetensors(gguf: str | Path | None = None, out_dir: str | Path | None = None, *,
                        dtype: str = "bfloat16", overwrite: bool = False, sha256: str | None = None) -> Path:
    """Dequantize a GGUF file into a safetensors model folder with its tokenizer and chat template.

    Args:
        gguf: the ``.gguf`` file; ``None`` or ``"embedded"`` for the shipped SmolLM2-135M-Instruct.
        out_dir: target folder (default: its folder in the cache, :func:`cached_conversion`).
        dtype: ``bfloat16`` (default), ``float16`` or ``float32``.
        overwrite: convert again even when the folder already holds this file's conversion.
        sha256: the file's sha256 when the caller knows it (default: :func:`gguf_identity`).

    Returns:
        The folder. It is written to a temporary sibling and renamed, so an interrupted conversion never
        leaves a half-written model behind.
    """
    src = embedded_gguf() if gguf is None or is_embedded(str(gguf)) else Path(gguf).expanduser()
    if not src.is_file() or src.suffix != ".gguf":
        raise BackendError(f"{src} is not a .gguf file")
    if dtype not in DTYPES:
        raise BackendError(f"dtype must be bfloat16, float16 or float32, not {dtype!r}")
    sha = sha256 or gguf_identity(src)
    if out_dir is None:
        return cached_conversion(src, dtype, sha256=sha, rebuild=overwrite)[0]
    out = Path(out_dir).expanduser()
    if not overwrite and is_converted(out, src, sha, dtype):
        return out
    rec = _marker(out)
    ours = rec is not None and rec.get("source_sha256") == sha  # an incomplete conversion of this file
    if out.exists() and not overwrite and not ours and any(out.iterdir()):
        raise BackendError(f"{out} exists and is not a conversion of {src.name}", hint="pass overwrite=True")
    with file_lock(out.parent / f".{out.name}.lock"):
        _convert(src, out, dtype, sha, _model_id(src))
    return out


def _convert(src: Path, out: Path, dtype: str, sha: str, model_id: str) -> None:
    """Load ``src`` with transformers (dequantized, in ``dtype``), save it into a temporary sibling of ``out``
    with its record, and rename that into place (the old ``out``, if any, moved aside in one rename first)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"gguf_file": src.name}
    try:
        from transformers import GgufConfig
        kwargs["quantization_config"] = GgufConfig(gguf_file=src.name, dequantize=True)
    except ImportError:  # older transformers always dequantize GGUF
        pass
    tok = AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(src.parent), dtype=getattr(torch, dtype),
                                                 local_files_only=True, **kwargs)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        files = {f.name: f.stat().st_size for f in sorted(tmp.iterdir()) if f.is_file()}
        (tmp / MARKER).write_text(json.dumps({
            "source": str(src.resolve()), "source_sha256": sha, "source_size": src.stat().st_size,
            "dtype": dtype, "model_id": model_id, "transformers": _transformers_version(),
            "torch": torch.__version__, "converted": time.strftime("%Y-%m-%dT%H:%M:%S%z") + f" {os.getpid()}",
            "files": files}, indent=1))
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / "x")  # out of the way in one rename, then deleted
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["DTYPES", "MARKER", "cached_conversion", "converted_folder", "default_cache_dir", "gguf_identity",
           "gguf_to_safetensors", "is_converted"]
