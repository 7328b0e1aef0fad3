"""Real filesystem faults: a full disk and a read-only folder give a clear error and a consistent store."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from fakes import FakeBackend  # noqa: E402

import psychometrika as pm  # noqa: E402
from psychometrika.engine import run_study  # noqa: E402
from psychometrika.errors import StoreError  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"


def _mount(args: list[str]) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    if not _mount(["-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mnt)]):
        pytest.skip("needs root to mount a tiny tmpfs")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture
def read_only_dir(tmp_path):
    src, mnt = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    mnt.mkdir()
    if not (_mount(["--bind", str(src), str(mnt)]) and _mount(["-o", "remount,bind,ro", str(mnt)])):
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        pytest.skip("needs root to make a read-only bind mount")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _study(tmp_path: Path) -> Path:
    p = tmp_path / "study.yaml"
    p.write_text(f"""\
id: faults
instruments: [{DATA / 'mini.yaml'}]
models: [{{id: fake, backend: dummy}}]
personas: {{include_none: true, items: [{{id: a, text: "{'You are a very long persona text. ' * 40}"}}]}}
paraphrases: {{instructions: all, stems: all}}
option_orders: [cyclic]
""")
    return p


def test_disk_full_gives_clear_error_and_consistent_store(tmp_path, tiny_disk):
    out = tiny_disk / "run"
    with pytest.raises(StoreError, match="disk full|cannot write"):
        run_study(_study(tmp_path), out, backend_factory=lambda s: FakeBackend(), progress=False, batch_size=4)
    # whatever was stored is whole: readable, no temp files, no duplicates
    assert not list((out / "shards").glob(".tmp-*"))
    df = pm.read_run(out) if (out / "manifest.json").exists() else None
    if df is not None and len(df):
        assert df["cell_key"].is_unique


def test_read_only_output_folder(tmp_path, read_only_dir):
    with pytest.raises(StoreError, match="cannot create run folder|read-only"):
        run_study(_study(tmp_path), read_only_dir / "run", backend_factory=lambda s: FakeBackend(), progress=False)
    res = subprocess.run([sys.executable, "-m", "psychometrika", "run", str(_study(tmp_path)), "--out",
                          str(read_only_dir / "run")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "run folder" in res.stderr


def test_completed_run_in_a_now_read_only_folder_can_still_be_read(tmp_path, read_only_dir):
    src = read_only_dir.parent / "src"
    run_study(_study(tmp_path), src / "run", backend_factory=lambda s: FakeBackend(), progress=False)
    assert len(pm.read_run(read_only_dir / "run")) > 0
