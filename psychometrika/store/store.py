"""The response store: a run folder of append-only Parquet shards plus a small JSON manifest.

Layout of a run folder::

    RUN/
      manifest.json          # written last, atomically: study hash, models, instruments, versions, counts
      study.yaml             # the study file as it was run
      personas.json          # the personas' attributes (when they have any); read_run joins persona_<name>
      shards/part-000001-<id>.parquet   # append-only, each written to a temp file, fsynced, then renamed

Guarantees:

* a row's identity is its ``cell_key`` (hash of the design cell and the exact prompt); a shard never holds a
  key that an earlier shard holds, and readers drop duplicates defensively (first wins);
* a shard appears whole or not at all (temp file + ``os.replace``), so a crash, ``kill -9`` or Ctrl-C loses at
  most the batch in flight and never leaves a torn file; stale temp files are removed on open;
* a different study written into a used folder is refused unless ``force`` (the old contents are moved to
  ``RUN/replaced-<time>/``, never deleted).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import StoreError

SHARD_DIR = "shards"
MANIFEST = "manifest.json"
#: persona table of the run (id, text, attributes), written by the engine when personas carry attributes
PERSONAS = "personas.json"
LIST_COLUMNS = ("permutation", "option_values", "probs", "logprobs", "continuations")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except OSError as exc:
        raise StoreError(f"cannot write in {path.parent}: {exc.strerror}",
                         hint="is the folder read-only or the disk full?") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise StoreError(f"cannot write {path.name}: {exc.strerror}",
                         hint="is the disk full or the folder read-only?") from None


class RunStore:
    """Append-only, content-addressed storage of one run's responses."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.shards = self.folder / SHARD_DIR
        self._keys: set[str] | None = None
        self._seq = 0

    # --------------------------------------------------------------------------------------- opening
    @classmethod
    def open(cls, folder: str | Path, study_hash: str, *, study_text: str | None = None,
             force: bool = False) -> "RunStore":
        """Open (or create) a run folder for a study; refuse a folder holding another study unless ``force``."""
        store = cls(folder)
        try:
            store.folder.mkdir(parents=True, exist_ok=True)
            store.shards.mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create run folder {store.folder}: {exc.strerror}") from None
        manifest = store.read_manifest()
        if manifest is not None and manifest.get("study_hash") != study_hash:
            if not force:
                raise StoreError(
                    f"{store.folder} holds a run of another study (study {manifest.get('study_id')!r}, "
                    f"hash {str(manifest.get('study_hash'))[:12]}); refusing to mix results",
                    hint="choose another --out folder, or pass --force to move the old run aside")
            store._move_aside()
        elif manifest is None and any(store.shards.glob("*.parquet")):
            if not force:
                raise StoreError(f"{store.folder} has response shards but no manifest",
                                 hint="pass --force to move them aside, or choose another folder")
            store._move_aside()
        store._clean_temp()
        if study_text is not None and not (store.folder / "study.yaml").exists():
            atomic_write_bytes(store.folder / "study.yaml", study_text.encode())
        return store

    def _move_aside(self) -> None:
        dest = self.folder / f"replaced-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        dest.mkdir()
        for name in (MANIFEST, "study.yaml", PERSONAS, SHARD_DIR):
            p = self.folder / name
            if p.exists():
                shutil.move(str(p), str(dest / name))
        self.shards.mkdir(exist_ok=True)
        self._keys = None

    def _clean_temp(self) -> None:
        for p in list(self.shards.glob(".tmp-*")) + list(self.folder.glob(".tmp-*")):
            try:
                p.unlink()
            except OSError:
                pass

    # --------------------------------------------------------------------------------------- manifest
    def read_manifest(self) -> dict[str, Any] | None:
        p = self.folder / MANIFEST
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot read {p}: {exc}") from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_bytes(self.folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True,
                                                              default=str).encode())

    # --------------------------------------------------------------------------------------- shards
    def write_personas(self, records: list[dict[str, Any]]) -> None:
        """Store the persona table (``{persona, persona_text, persona_<attribute>...}`` records)."""
        atomic_write_bytes(self.folder / PERSONAS, json.dumps(records, ensure_ascii=False).encode())

    def read_personas(self) -> pd.DataFrame | None:
        """The persona table, or None when the run has none."""
        path = self.folder / PERSONAS
        if not path.exists():
            return None
        try:
            return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from None

    def shard_files(self) -> list[Path]:
        return sorted(self.shards.glob("part-*.parquet"))

    def done_keys(self) -> set[str]:
        """``cell_key`` of every stored row."""
        if self._keys is None:
            keys: set[str] = set()
            for f in self.shard_files():
                try:
                    keys.update(pq.read_table(f, columns=["cell_key"]).column("cell_key").to_pylist())
                except (OSError, pa.ArrowException) as exc:
                    raise StoreError(f"unreadable shard {f.name}: {exc}",
                                     hint="move the file away; its rows will be re-administered") from None
            self._keys = keys
            self._seq = max((int(f.name.split("-")[1]) for f in self.shard_files()), default=0)
        return self._keys

    def append(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write the rows whose ``cell_key`` is new as one shard; return how many were written."""
        done = self.done_keys()
        fresh: list[dict[str, Any]] = []
        batch_keys: set[str] = set()
        for r in rows:
            k = r["cell_key"]
            if k in done or k in batch_keys:
                continue
            batch_keys.add(k)
            fresh.append(r)
        if not fresh:
            return 0
        table = pa.Table.from_pandas(pd.DataFrame(fresh), preserve_index=False)
        self._seq += 1
        path = self.shards / f"part-{self._seq:06d}-{uuid.uuid4().hex[:8]}.parquet"
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        atomic_write_bytes(path, sink.getvalue().to_pybytes())
        done.update(batch_keys)
        return len(fresh)

    def read(self) -> pd.DataFrame:
        """All stored rows as one DataFrame (duplicates by ``cell_key`` dropped, first wins)."""
        files = self.shard_files()
        if not files:
            return pd.DataFrame()
        try:
            table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read shards of {self.folder}: {exc}") from None
        df = table.to_pandas()
        for col in LIST_COLUMNS:
            if col in df:
                df[col] = df[col].map(lambda v: v.tolist() if hasattr(v, "tolist") else v)
        return df.drop_duplicates("cell_key", keep="first").reset_index(drop=True)


def read_run(folder: str | Path) -> pd.DataFrame:
    """Read a run folder into the tidy response table (one row per administered item).

    Columns are described in ``docs/response-table.md``; persona attributes join as ``persona_<name>`` columns
    (missing for personas without that attribute and for ``none``). Rows are in design order (model, instrument, item,
    persona, paraphrase, option order, labels, seed, repetition).
    """
    folder = Path(folder)
    if not (folder / MANIFEST).exists() and not (folder / SHARD_DIR).exists():
        raise StoreError(f"{folder} is not a run folder (no manifest.json)")
    store = RunStore(folder)
    df = store.read()
    if df.empty:
        return df
    personas = store.read_personas()
    if personas is not None and "persona" in df:
        attrs = personas.drop(columns=["persona_text"], errors="ignore")
        attrs = attrs[[c for c in attrs if c == "persona" or c not in df.columns]]
        df = df.merge(attrs, on="persona", how="left")
    order = [c for c in ("model", "instrument", "item", "persona", "instruction_id", "stem_id", "order_id",
                         "label_scheme", "seed", "repetition") if c in df]
    return df.sort_values(order, kind="stable").reset_index(drop=True)


def read_manifest(folder: str | Path) -> dict[str, Any]:
    m = RunStore(folder).read_manifest()
    if m is None:
        raise StoreError(f"{folder} has no manifest.json")
    return m


def export_run(folder: str | Path, path: str | Path, fmt: str | None = None) -> Path:
    """Export the response table to CSV, Parquet or SPSS ``.sav`` (list columns become JSON text)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    df = read_run(folder)
    flat = df.copy()
    for col in flat.columns:
        if flat[col].map(lambda v: isinstance(v, (list, dict))).any():
            flat[col] = flat[col].map(lambda v: json.dumps(v) if isinstance(v, (list, dict)) else v)
    if fmt == "csv":
        flat.to_csv(path, index=False)
    elif fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt == "sav":
        try:
            import pyreadstat
        except ImportError:
            raise StoreError("SPSS export needs pyreadstat: pip install pyreadstat") from None
        flat = flat.drop(columns=[c for c in ("prompt",) if c in flat])
        for col in flat.select_dtypes(include=["object", "string"]):
            flat[col] = flat[col].astype(str).str.slice(0, 32000)
        pyreadstat.write_sav(flat, str(path))
    else:
        raise StoreError(f"unknown export format {fmt!r}", hint="use .csv, .parquet or .sav")
    return path


__all__ = ["RunStore", "atomic_write_bytes", "export_run", "read_manifest", "read_run"]
