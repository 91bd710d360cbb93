"""Job snapshots: ignore rules (.amlignore over .gitignore), content-addressed reuse, the size limit."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from designer.engine.artifact_store import LocalArtifactStore, folder_digest
from designer.engine.snapshots import SnapshotRefused, snapshot_files, snapshot_take


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def stored_names(store: LocalArtifactStore, digest: str) -> set[str]:
    folder = store.path(digest)
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_an_ignored_50_mb_file_is_not_in_the_snapshot(tmp_path: Path) -> None:
    code = project(tmp_path / "code", {"train.py": "print(1)\n", ".gitignore": "data/\n*.log\n"})
    (code / "data").mkdir()
    with (code / "data" / "big.csv").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (code / "run.log").write_text("noise")
    store = LocalArtifactStore(tmp_path / "store")

    snapshot = snapshot_take(code, store=store, max_bytes=10 * 1024 * 1024)

    assert stored_names(store, snapshot.digest) == {"train.py", ".gitignore"}
    assert snapshot.ignore_file == ".gitignore" and snapshot.bytes < 1024


def test_amlignore_wins_over_gitignore(tmp_path: Path) -> None:
    code = project(tmp_path / "code", {
        "train.py": "", "notes.md": "", "secret.env": "",
        ".gitignore": "notes.md\n",  # ignored by git, but .amlignore decides
        ".amlignore": "secret.env\n.gitignore\n",
    })
    files, used = snapshot_files(code)
    assert used == ".amlignore"
    assert {f.as_posix() for f in files} == {"train.py", "notes.md", ".amlignore"}


def test_git_folders_links_and_pipes_are_left_out(tmp_path: Path) -> None:
    code = project(tmp_path / "code", {"train.py": "", ".git/HEAD": "ref"})
    (tmp_path / "outside.txt").write_text("host file")
    os.symlink(tmp_path / "outside.txt", code / "link.txt")
    os.mkfifo(code / "pipe")  # reading it would wait forever
    files, _ = snapshot_files(code)
    assert [f.as_posix() for f in files] == ["train.py"]


def test_an_unchanged_folder_is_stored_once_and_a_change_is_a_new_snapshot(tmp_path: Path) -> None:
    code = project(tmp_path / "code", {"train.py": "print(1)\n", "lib/util.py": "X = 1\n"})
    store = LocalArtifactStore(tmp_path / "store")

    first = snapshot_take(code, store=store)
    again = snapshot_take(code, store=store)
    (code / "lib" / "util.py").write_text("X = 2\n")
    changed = snapshot_take(code, store=store)

    assert not first.reused and again.reused and again.digest == first.digest
    assert changed.digest != first.digest and not changed.reused
    # The digest is the store's own: the stored folder hashes to it.
    assert folder_digest(store.path(first.digest)) == first.digest
    assert not any((store.root / "tmp").iterdir())  # no staging folder left behind


def test_a_snapshot_over_the_limit_names_its_largest_files_and_how_to_ignore_them(tmp_path: Path) -> None:
    code = project(tmp_path / "code", {"train.py": "x" * 100, "model.bin": "x" * 5000, "data.csv": "x" * 3000})
    with pytest.raises(SnapshotRefused) as refused:
        snapshot_take(code, store=LocalArtifactStore(tmp_path / "store"), max_bytes=4000)
    message = str(refused.value)
    assert message.index("model.bin") < message.index("data.csv")  # largest first
    assert ".amlignore" in message
