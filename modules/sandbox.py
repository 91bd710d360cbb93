"""Confining one step inside the sandboxed step server: the kernel calls, and the launcher.

The local compute target runs its warm step server (`modules.forkserver`) inside a
bubblewrap sandbox: its own user, mount, pid, network, IPC and UTS namespaces, a read-only
view of the system and of Python, no environment inherited from Atelier. That server
holds CAP_SYS_ADMIN inside its own user namespace (and nowhere else), so that every step
forked from it can narrow its view further before any module code runs:

- `enter_step_namespaces` (in the step's reaper process): new mount, pid, network, IPC
  and UTS namespaces; the step's own folders bound at /atelier/in (read-only),
  /atelier/out and /atelier/work; a fresh /tmp and /dev/shm; the folders of the other
  steps (/atelier/steps) and the server's socket hidden under empty read-only mounts;
  the sandbox's root (a tmpfs) read-only, so nothing is written outside those folders;
- `mount_step_proc` (in pid 1 of the new pid namespace, the step's parent): a /proc of
  that namespace only, so other steps' processes are invisible;
- `drop_privileges` (in the step itself): every capability dropped for good, no new
  privileges.

Steps of one server therefore see neither each other's folders, nor processes, nor
network. When the step's pid 1 ends, the kernel kills whatever the step left.

`launch` (`python -m modules.sandbox CONFIG_JSON`) is for an Atelier running as root:
bubblewrap then drops to an unprivileged user, who cannot reach paths such as a Python
installed under root's home. The launcher, still root, binds each folder the sandbox
needs under a private tmpfs at /tmp/stage/<i> (in a mount namespace of its own, seen by
nobody else), becomes that user and executes bubblewrap on those staged folders.

Plain Python with ctypes (Python 3.11 has no os.unshare); Linux only. Nothing heavy is
imported: the step server imports this before forking its first step.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import re
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

_CAPSET = {"x86_64": 126, "aarch64": 91}  # the capset syscall's number
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Where a confined step finds its folders (the same as in a step container).
IN_DIR = "/atelier/in"
OUT_DIR = "/atelier/out"
WORK_DIR = "/atelier/work"
STEPS_DIR = "/atelier/steps"
SOCKET_DIR = "/atelier/sock"
DATASETS_DIR = "/atelier/datasets"
DATA_ROOTS_DIR = "/atelier/data"

_libc = ctypes.CDLL(None, use_errno=True)


class ConfinementError(OSError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise ConfinementError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
            flags, data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _bind(source: str, target: str, *, read_only: bool) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        # nosuid and nodev may be locked on by the mount it came from: keep them on.
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def set_child_subreaper() -> None:
    """Orphans of this process's descendants come back to it (so it can stop them)."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent() -> None:
    prctl(PR_SET_PDEATHSIG, 9)


def _mount_points_under(folder: str) -> list[str]:
    """The mount points below `folder` in this mount namespace, outermost first."""
    points = []
    with open("/proc/self/mountinfo", "rb") as mounts:
        for line in mounts:
            # The fifth field, with space, tab, newline and backslash escaped in octal.
            point = os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda escape: bytes([int(escape[1], 8)]), line.split()[4]))
            if point.startswith(folder + "/"):
                points.append(point)
    return sorted(set(points), key=lambda point: point.count("/"))


def enter_step_namespaces(folder: str, *, tmp_mb: int) -> None:
    """In the step's reaper, before it forks the step: the namespaces and the view of one
    step whose folders (in/, out/, work/) are `folder` under /atelier/steps."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _bind(f"{folder}/in", IN_DIR, read_only=True)
    _bind(f"{folder}/out", OUT_DIR, read_only=False)
    _bind(f"{folder}/work", WORK_DIR, read_only=False)
    # What the sandbox bound under /tmp (Python, when it is installed there) stays, above
    # the step's fresh /tmp: held open before that tmpfs covers it, then bound again.
    kept = [(target, os.open(target, os.O_PATH)) for target in _mount_points_under("/tmp")]
    for target in ("/tmp", "/dev/shm"):
        _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=1777")
    for target, handle in kept:
        os.makedirs(target, exist_ok=True)
        _bind(f"/proc/self/fd/{handle}", target, read_only=True)
        os.close(handle)
    for hidden in (STEPS_DIR, SOCKET_DIR):
        _mount("tmpfs", hidden, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=000")
    # The sandbox's root is a tmpfs the server's steps share: read-only for the step, so that
    # a step writes only to its own folders (and a fresh /tmp), never where a later one looks.
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def mount_step_proc() -> None:
    """In pid 1 of the step's pid namespace: a /proc of that namespace only (the other
    steps' processes are not in it), in a mount namespace of its own, since the reaper
    outside that pid namespace goes on reading its own /proc."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def drop_privileges() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)
    number = _CAPSET.get(platform.machine())
    if number is None:
        raise ConfinementError(0, f"no capset syscall number for {platform.machine()}")
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty (two words each)
    _check(_libc.syscall(number, header, data), "capset")


def probe(folder: str) -> None:
    """What a step's confinement does, once, in a fresh sandbox: whether this machine allows
    it (the local backend asks before it trusts the sandbox)."""
    enter_step_namespaces(folder, tmp_mb=1)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            mount_step_proc()
            drop_privileges()
            code = 0 if os.getpid() == 1 and not os.path.exists(f"{STEPS_DIR}/probe") else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise ConfinementError(0, "a confined step could not be set up")


# -- the launcher (root only) -------------------------------------------------------------


def launch(config: dict[str, Any]) -> None:
    """Stage `config["sources"]` under /tmp/stage/<i>, become `config["uid"]`, run `config["argv"]`.

    The folders are opened after the mount namespace is private and before /tmp is
    covered, so that each bind comes from this namespace's own view of it."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    handles = [os.open(source, os.O_PATH) for source in config["sources"]]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for index, handle in enumerate(handles):
        target = f"/tmp/stage/{index}"
        if os.path.isdir(f"/proc/self/fd/{handle}"):
            os.makedirs(target)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "w").close()
        _mount(f"/proc/self/fd/{handle}", target, None, MS_BIND | MS_REC)
        os.close(handle)
    uid = int(config["uid"])
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    os.execv(config["argv"][0], config["argv"])


if __name__ == "__main__":
    launch(json.loads(sys.argv[1]))
