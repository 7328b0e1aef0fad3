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
  ``RUN/replaced-<time>/``, never deleted); a folder that holds no answers yet is simply taken over;
* one writer at a time: :meth:`RunStore.open` takes the folder's lock (:mod:`psychometrika.store.lock`)
  and holds it until :meth:`RunStore.close` (or the process ends); readers refuse a folder being written;
* integrity you can check: each shard's name carries the start of its sha256, and the manifest records
  each shard's full sha256 and row count (``manifest["shards"]``). Every read verifies them
  (:func:`verify_run`); a damaged shard is named with what is wrong and the way out (a resume moves it
  aside to ``RUN/damaged/`` and asks only its requests again);
* :func:`read_run` returns only the rows of the folder's study, and says so when others are present;
* nothing secret is written: the manifest (every section) and the stored study copy go through
  :mod:`psychometrika.secrets`, and the manifest is strict JSON (no ``NaN``/``Infinity``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import psychometrika.secrets as secrets
from ..errors import StoreError
from .lock import RunLock, refuse_if_locked

SHARD_DIR = "shards"
MANIFEST = "manifest.json"
DAMAGED_DIR = "damaged"
#: persona table of the run (id, text, attributes), written by the engine when personas carry attributes
PERSONAS = "personas.json"
LIST_COLUMNS = ("permutation", "option_values", "probs", "logprobs", "continuations")
#: ``part-<seq>-<first 16 hex digits of the sha256>.parquet``; older folders have a random id instead
_HASHED_NAME = re.compile(r"part-(\d+)-([0-9a-f]{16})\.parquet")


@dataclass
class ShardCheck:
    """The verification of one shard: ``problem`` is None when it is sound."""

    name: str
    rows: int | None
    sha256: str | None
    problem: str | None = None
    verified: bool = True  # False: an old shard with no recorded checksum (readable, but unverifiable)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _strict_json(obj: Any) -> Any:
    """JSON-safe data: non-finite floats become None (the manifest is strict JSON)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict_json(v) for v in obj]
    return obj


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
        self._lock: RunLock | None = None
        self._index: dict[str, dict[str, Any]] | None = None  # shard name -> {sha256, rows}
        self._inputs: dict[str, str] = {}
        self._writer = False

    # --------------------------------------------------------------------------------------- opening
    @classmethod
    def open(cls, folder: str | Path, study_hash: str, *, study_text: str | None = None,
             force: bool = False, inputs: dict[str, str] | None = None) -> "RunStore":
        """Open (or create) a run folder for a study, for writing: take the folder's lock, refuse a folder
        holding another study unless ``force`` (a folder with no answers yet is taken over).

        ``inputs``: the study's instrument and persona files with their sha256 (recorded in the manifest; a
        refusal names those that changed)."""
        store = cls(folder)
        try:
            store.folder.mkdir(parents=True, exist_ok=True)
            store.shards.mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create run folder {store.folder}: {exc.strerror}") from None
        store._lock = RunLock(store.folder).acquire()
        try:
            store._open_locked(study_hash, study_text, force, inputs)
        except BaseException:
            store.close()
            raise
        return store

    def _open_locked(self, study_hash: str, study_text: str | None, force: bool,
                     inputs: dict[str, str] | None) -> None:
        manifest = self.read_manifest()
        has_rows = any(self.shards.glob("*.parquet"))
        fresh_copy = False
        if manifest is not None and manifest.get("study_hash") != study_hash:
            if not has_rows:
                fresh_copy = True  # nothing answered yet: the folder is simply taken over by this study
            elif not force:
                changed = _changed_inputs(manifest.get("inputs") or {}, inputs or {})
                what = (f"the study's input file(s) changed since it was run: {'; '.join(changed)}" if changed
                        else f"it holds a run of another study (study {manifest.get('study_id')!r}, "
                             f"hash {str(manifest.get('study_hash'))[:12]})")
                raise StoreError(f"{self.folder}: {what}; refusing to mix results",
                                 hint="choose another --out folder for the new version, or pass --force to move "
                                      "the old run aside (into RUN/replaced-<time>/, nothing is deleted)")
            else:
                self._move_aside()
                fresh_copy = True
        elif manifest is None and has_rows:
            if not force:
                raise StoreError(f"{self.folder} has response shards but no manifest",
                                 hint="pass --force to move them aside, or choose another folder")
            self._move_aside()
        self._index = dict((manifest or {}).get("shards") or {}) if not fresh_copy else {}
        self._inputs = dict(inputs or {})
        self._writer = True
        self._clean_temp()
        if study_text is not None and (fresh_copy or not (self.folder / "study.yaml").exists()):
            atomic_write_bytes(self.folder / "study.yaml", secrets.redact_yaml_text(study_text).encode())

    def close(self) -> None:
        """Release the folder's lock (idempotent)."""
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _move_aside(self) -> None:
        dest = self.folder / f"replaced-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        dest.mkdir()
        for name in (MANIFEST, "study.yaml", PERSONAS, SHARD_DIR):
            p = self.folder / name
            if p.exists():
                shutil.move(str(p), str(dest / name))
        self.shards.mkdir(exist_ok=True)
        self._keys = None
        self._index = {}

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
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot read {p}: {exc}",
                             hint="the manifest is damaged; `psychometrika verify RUN` checks the shards") from None
        if not isinstance(data, dict):
            raise StoreError(f"{p} is not a run manifest (a JSON object)")
        return data

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically: with this store's shard records (sha256, rows) and input files,
        secrets masked in every section, as strict JSON."""
        manifest = dict(manifest)
        if self._index is not None:
            present = {f.name for f in self.shard_files()}
            manifest["shards"] = {k: v for k, v in sorted(self._index.items()) if k in present}
        if self._inputs:
            manifest["inputs"] = dict(self._inputs)
        clean = _strict_json(secrets.redact_data(manifest))
        atomic_write_bytes(self.folder / MANIFEST, json.dumps(clean, indent=2, sort_keys=True, default=str,
                                                              allow_nan=False).encode())

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

    def _records(self) -> dict[str, dict[str, Any]]:
        if self._index is None:
            self._index = dict((self.read_manifest() or {}).get("shards") or {})
        return self._index

    def verify(self) -> list[ShardCheck]:
        """Check every shard against its recorded sha256 and row count (and the hash in its name); shards
        recorded in the manifest but missing are reported too."""
        records = self._records()
        out: list[ShardCheck] = []
        files = self.shard_files()
        for f in files:
            rec = records.get(f.name) or {}
            try:
                digest = _sha256_file(f)
            except OSError as exc:
                out.append(ShardCheck(f.name, None, None, f"cannot be read: {exc.strerror}"))
                continue
            m = _HASHED_NAME.fullmatch(f.name)
            want = rec.get("sha256")
            if want and digest != want:
                out.append(ShardCheck(f.name, None, digest, f"its sha256 is {digest[:16]}…, the manifest "
                                                            f"recorded {str(want)[:16]}…: the file is damaged"))
                continue
            if m and not digest.startswith(m.group(2)):
                out.append(ShardCheck(f.name, None, digest, f"its sha256 starts {digest[:16]}, its name says "
                                                            f"{m.group(2)}: the file is damaged"))
                continue
            try:
                rows = pq.ParquetFile(f).metadata.num_rows
            except (OSError, pa.ArrowException) as exc:
                out.append(ShardCheck(f.name, None, digest, f"is not a readable Parquet file ({exc})"))
                continue
            if rec.get("rows") is not None and int(rec["rows"]) != rows:
                out.append(ShardCheck(f.name, rows, digest, f"holds {rows} rows, the manifest recorded "
                                                            f"{rec['rows']}"))
                continue
            out.append(ShardCheck(f.name, rows, digest, verified=bool(want or m)))
        present = {f.name for f in files}
        for name, rec in sorted(records.items()):
            if name not in present:
                out.append(ShardCheck(name, None, None, f"is recorded in the manifest ({rec.get('rows')} rows) but "
                                                        "missing from shards/"))
        return out

    def _damage_message(self, bad: list[ShardCheck]) -> StoreError:
        first = bad[0]
        more = f" (and {len(bad) - 1} more damaged shard(s))" if len(bad) > 1 else ""
        return StoreError(f"{self.shards / first.name} {first.problem}{more}",
                          hint=f"re-run the same `psychometrika run` command: it moves damaged shards aside to "
                               f"{self.folder / DAMAGED_DIR}/ and asks only their requests again "
                               f"(`psychometrika verify {self.folder}` lists every shard)")

    def _quarantine(self, bad: list[ShardCheck]) -> None:
        """Move damaged shards aside (a writer resuming): their requests are asked again."""
        dest = self.folder / DAMAGED_DIR
        for chk in bad:
            src = self.shards / chk.name
            if src.exists():
                dest.mkdir(exist_ok=True)
                target = dest / f"{chk.name}.{time.strftime('%Y%m%d-%H%M%S')}"
                shutil.move(str(src), str(target))
                where = f"moved to {target}"
            else:
                where = "missing"
            print(f"warning: shard {chk.name} {chk.problem}; {where}: its requests will be asked again",
                  file=sys.stderr)
            self._records().pop(chk.name, None)

    def _checked_files(self) -> list[Path]:
        """The shard files, verified: a writer moves damaged ones aside, a reader refuses them."""
        bad = [c for c in self.verify() if not c.ok]
        if bad:
            if not self._writer:
                raise self._damage_message(bad)
            self._quarantine(bad)
        return self.shard_files()

    def done_keys(self) -> set[str]:
        """``cell_key`` of every stored row (the shards are verified first)."""
        if self._keys is None:
            keys: set[str] = set()
            files = self._checked_files()
            for f in files:
                try:
                    keys.update(pq.read_table(f, columns=["cell_key"]).column("cell_key").to_pylist())
                except (OSError, pa.ArrowException) as exc:
                    raise StoreError(f"unreadable shard {f}: {exc}",
                                     hint="move the file away; its rows will be re-administered") from None
            self._keys = keys
            self._seq = max((int(f.name.split("-")[1]) for f in files), default=0)
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
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        data = sink.getvalue().to_pybytes()
        digest = hashlib.sha256(data).hexdigest()
        path = self.shards / f"part-{self._seq:06d}-{digest[:16]}.parquet"
        records = self._records()
        records[path.name] = {"sha256": digest, "rows": len(fresh)}
        done.update(batch_keys)
        try:
            atomic_write_bytes(path, data)
        except BaseException:  # an error or an interrupt (Ctrl-C, SIGTERM): the state follows what is on disk
            if not path.exists():
                records.pop(path.name, None)
                done.difference_update(batch_keys)
            raise
        return len(fresh)

    def read(self) -> pd.DataFrame:
        """All stored rows as one DataFrame (shards verified; duplicates by ``cell_key`` dropped, first wins)."""
        files = self._checked_files()
        if not files:
            return pd.DataFrame()
        tables = []
        for f in files:
            try:
                tables.append(pq.read_table(f))
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(f"cannot read shard {f}: {exc}",
                                 hint="move the file aside and re-run the `psychometrika run` command: only its "
                                      "requests are asked again") from None
        table = pa.concat_tables(tables, promote_options="default")
        df = table.to_pandas()
        for col in LIST_COLUMNS:
            if col in df:
                df[col] = df[col].map(lambda v: v.tolist() if hasattr(v, "tolist") else v)
        return df.drop_duplicates("cell_key", keep="first").reset_index(drop=True)


def _changed_inputs(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """Human-readable list of the input files whose content differs between two runs."""
    out = []
    for name in sorted(set(before) | set(now)):
        if name not in now:
            out.append(f"{name} is no longer used")
        elif name not in before:
            out.append(f"{name} is new")
        elif before[name] != now[name]:
            out.append(f"{name} was edited (sha256 {before[name][:12]} then, {now[name][:12]} now)")
    return out


def verify_run(folder: str | Path) -> list[ShardCheck]:
    """Verify every shard of a run folder (sha256, row count, readability); one :class:`ShardCheck` each."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists() and not (folder / SHARD_DIR).exists():
        raise StoreError(f"{folder} is not a run folder (no manifest.json)")
    return RunStore(folder).verify()


def read_run(folder: str | Path) -> pd.DataFrame:
    """Read a run folder into the tidy response table (one row per administered item).

    Columns are described in ``docs/response-table.md``; persona attributes join as ``persona_<name>`` columns
    (missing for personas without that attribute and for ``none``). Rows are in design order (model, instrument, item,
    persona, paraphrase, option order, labels, seed, repetition).
    """
    folder = Path(folder)
    if not (folder / MANIFEST).exists() and not (folder / SHARD_DIR).exists():
        raise StoreError(f"{folder} is not a run folder (no manifest.json)")
    refuse_if_locked(folder, "read")
    store = RunStore(folder)
    df = store.read()
    if df.empty:
        return df
    want = (store.read_manifest() or {}).get("study_hash")
    if want and "study_hash" in df:
        other = df["study_hash"] != want
        if other.any():
            hashes = sorted(str(h)[:12] for h in df.loc[other, "study_hash"].unique())
            warnings.warn(f"{folder}: left out {int(other.sum())} row(s) of other studies (hash {', '.join(hashes)}); "
                          f"the manifest's study is {str(want)[:12]}", stacklevel=2)
            df = df[~other]
    personas = store.read_personas()
    if personas is not None and "persona" in df:
        attrs = personas.drop(columns=["persona_text"], errors="ignore")
        attrs = attrs[[c for c in attrs if c == "persona" or c not in df.columns]]
        df = df.merge(attrs, on="persona", how="left")
    order = [c for c in ("model", "instrument", "item", "persona", "instruction_id", "stem_id", "order_id",
                         "label_scheme", "seed", "repetition") if c in df]
    return df.sort_values(order, kind="stable").reset_index(drop=True)


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The run's manifest, with secrets masked again (a folder written by an older version may hold some; the
    report copies what this returns)."""
    m = RunStore(folder).read_manifest()
    if m is None:
        raise StoreError(f"{folder} has no manifest.json")
    return secrets.redact_data(m)


def export_run(folder: str | Path, path: str | Path, fmt: str | None = None) -> Path:
    """Export the response table to CSV, Parquet or SPSS ``.sav`` (:func:`psychometrika.store.export.export_table`:
    list columns as JSON text, booleans as 0/1, variable labels, no column dropped)."""
    from .export import export_table

    return export_table(read_run(folder), path, fmt).paths[0]


__all__ = ["RunStore", "ShardCheck", "atomic_write_bytes", "export_run", "read_manifest", "read_run", "verify_run"]
