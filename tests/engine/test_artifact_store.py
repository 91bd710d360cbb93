"""The local artifact store's step folders: a killed process's are swept by the next one."""
from __future__ import annotations

import hashlib
import subprocess
import sys

from designer.engine.artifact_store import LocalArtifactStore, files_digest, folder_digest


def test_step_folders_of_dead_processes_are_swept_and_live_ones_kept(tmp_path):
    store = LocalArtifactStore(tmp_path / "store")
    mine = store.new_step_dir("run1", "train")
    # A folder as a process that has ended would have left it (same host, its pid).
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host_and_pid = mine.name.split(".", 1)[0].rsplit("-", 1)[0] + "-" + dead.stdout.strip()
    abandoned = store.root / "tmp" / f"{host_and_pid}.run0-score-deadbeef"
    (abandoned / "out").mkdir(parents=True)
    other_host = store.root / "tmp" / "elsewhere-1.run0-score-cafe"  # another machine's, on a shared store
    other_host.mkdir()

    assert store.sweep_abandoned() == 1
    assert mine.is_dir() and other_host.is_dir() and not abandoned.exists()


def test_a_folder_digest_is_of_its_names_and_contents_in_path_order(tmp_path):
    # Stored artifacts and cache entries are named by this digest: its recipe may not change.
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").write_bytes(b"slash")
    (tmp_path / "a-b").write_bytes(b"dash")
    (tmp_path / "empty").write_bytes(b"")
    # Path order ("a/b" before "a-b"), not the strings' ("a-b" before "a/b").
    expected = hashlib.sha256(b"a/b\0slash\0" + b"a-b\0dash\0" + b"empty\0\0").hexdigest()
    assert folder_digest(tmp_path) == expected
    assert files_digest(tmp_path, ["empty", "a-b", "a/b"]) == expected


def test_a_copy_after_a_digest_writes_what_the_digest_read(tmp_path):
    source = tmp_path / "source"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "small.py").write_text("X = 1\n")
    (source / "large.bin").write_bytes(b"x" * (3 << 20))  # several blocks: read again for the copy
    names = ["pkg/small.py", "large.bin"]
    cache: dict[str, bytes] = {}
    digest = files_digest(source, names, cache=cache)
    assert cache == {"pkg/small.py": b"X = 1\n"}
    (source / "pkg" / "small.py").write_text("X = 2\n")  # changed after the digest: the copy is of what was read
    copy = tmp_path / "copy"
    (copy / "pkg").mkdir(parents=True)
    assert files_digest(source, names, copy_to=copy, cache=cache) == digest == folder_digest(copy)
    assert (copy / "pkg" / "small.py").read_text() == "X = 1\n"
