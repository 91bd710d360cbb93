"""The local artifact store's step folders: a killed process's are swept by the next one."""
from __future__ import annotations

import subprocess
import sys

from designer.engine.artifact_store import LocalArtifactStore


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
