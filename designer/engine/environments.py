"""Environments: a base image plus Python requirements, built once into an image.

An environment's digest (the base image's id + its normalized requirements) names its
image, `atelier-env:<digest>`. When a step needs it, the image is looked up by that tag
and reused; otherwise it is built once, under a lock, and kept:

1. pip downloads the wheels on the host, for the base image's Python and platform, into a
   build folder (so builds work offline, behind proxies, and in air-gapped sites that
   mirror PyPI);
2. `docker build` with no network installs them with `pip --no-index` into a virtualenv
   at /opt/env, in a first stage whose wheels do not end up in the image.

An environment may add Debian packages (`system_packages`, e.g. r-base-core for R): apt
downloads them on the host, with their dependencies the base image lacks (the host and
the base image must be the same Debian release), and dpkg installs them in the image.

Every environment carries what the step runner and the built-in modules need (the
runtime pins of requirements.txt below); an environment adds its own requirements on top.
The build log is kept next to the build; a failing build raises EnvironmentBuildError with
pip's message.

    python -m designer.engine.environments [--base IMAGE] [REQUIREMENT ...]

builds (or finds) an environment from the command line and prints its image tag.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import docker
import docker.errors

IMAGE_REPOSITORY = "atelier-env"
# Changing how images are built (the Dockerfile below) must give every environment a new
# image: this is part of each digest.
BUILD_RECIPE_VERSION = "1"
# What the step runner and the built-in modules import; their pins come from
# requirements.txt, so containers run the same library versions as local steps.
RUNTIME_PACKAGES = (
    "pandas", "numpy", "scikit-learn", "scipy", "pyarrow", "skops", "duckdb", "matplotlib", "pydantic", "PyYAML",
    "imbalanced-learn", "sklearn-compat", "gensim", "smart_open",
)
# pip itself is only used while building (run straight from its wheel), never shipped.
PIP_REQUIREMENT = "pip==24.3.1"
REQUIREMENTS_FILE = Path(__file__).resolve().parents[2] / "requirements.txt"
_LOG_TAIL_LINES = 25

_DOCKERFILE = """\
FROM {base} AS build
LABEL atelier.build-stage={digest}
COPY wheels /wheels
RUN set -e; python3 -m venv --without-pip /opt/env; \\
    set -- /wheels/pip-*.whl; \\
    /opt/env/bin/python "$1/pip" install --no-index --find-links /wheels --no-cache-dir \\
        --disable-pip-version-check --no-warn-script-location -r /wheels/requirements.txt

FROM {base}
{system}COPY --from=build /opt/env /opt/env
ENV PATH=/opt/env/bin:/usr/local/bin:/usr/bin:/bin VIRTUAL_ENV=/opt/env LANG=C.UTF-8 \\
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
LABEL atelier.environment={name} atelier.environment.digest={digest}
"""


# Installing Debian packages downloaded on the host. Their files stay in a layer of the
# image (the engine's classic builder has no build-time mounts); dpkg itself needs them there.
_SYSTEM_PACKAGES_STEP = """\
COPY debs /tmp/debs
RUN DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs
"""
# What apt follows when it lists a package's dependencies: what must be installed, no more.
_APT_DEPENDS = (
    "apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks",
    "--no-replaces", "--no-enhances",
)


class EnvironmentBuildError(RuntimeError):
    """The environment's image could not be built; the message says why (pip's own words),
    `log` holds the whole build log."""

    def __init__(self, message: str, *, log: str = "") -> None:
        super().__init__(message)
        self.log = log


def _normalize(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement.split("#", 1)[0])


def normalize_requirements(lines: Iterable[str]) -> tuple[str, ...]:
    """One requirement per entry, without comments, blanks or duplicates, sorted (so that
    the same set of requirements always hashes the same)."""
    return tuple(sorted({r for r in map(_normalize, lines) if r}))


def runtime_requirements() -> tuple[str, ...]:
    """The pins of requirements.txt for the packages every step needs."""
    wanted = {name.lower() for name in RUNTIME_PACKAGES}
    pins = [
        line for line in map(_normalize, REQUIREMENTS_FILE.read_text().splitlines())
        if re.split(r"[=<>!~\[;]", line, maxsplit=1)[0].lower() in wanted
    ]
    missing = wanted - {re.split(r"[=<>!~\[;]", p, maxsplit=1)[0].lower() for p in pins}
    if missing:
        raise RuntimeError(f"requirements.txt does not pin {', '.join(sorted(missing))}")
    return normalize_requirements(pins)


@dataclass(frozen=True)
class EnvironmentSpec:
    """`requirements` come on top of the runtime requirements every step needs."""

    name: str
    base_image: str
    requirements: tuple[str, ...] = field(default=())
    # Debian packages installed in the image (e.g. r-base-core, for Execute R Script).
    system_packages: tuple[str, ...] = field(default=())

    def all_requirements(self) -> tuple[str, ...]:
        return normalize_requirements((*runtime_requirements(), *self.requirements))


@dataclass(frozen=True)
class BuiltEnvironment:
    tag: str
    digest: str
    built: bool  # False: the image already existed and was reused
    log_path: Path | None = None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path is not None and self.log_path.exists() else ""


class EnvironmentBuilder:
    """Finds or builds environment images on one Docker engine. `cache_dir` keeps the build
    folders and their logs; one builder may be shared by threads, and processes sharing
    `cache_dir` never build the same image twice at once."""

    def __init__(self, *, client: docker.DockerClient, cache_dir: Path) -> None:
        self.client = client
        self.cache_dir = Path(cache_dir)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def digest(self, spec: EnvironmentSpec) -> str:
        base_id = self._base_image(spec.base_image).id
        recipe: dict[str, Any] = {"recipe": BUILD_RECIPE_VERSION, "base": base_id, "requirements": spec.all_requirements()}
        if spec.system_packages:  # absent otherwise: the digests of Python-only environments stay as they were
            recipe["system_packages"] = sorted(spec.system_packages)
        text = json.dumps(recipe)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def log_path(self, digest: str) -> Path:
        return self.cache_dir / digest / "build.log"

    def ensure(self, spec: EnvironmentSpec, *, on_build: Callable[[], object] | None = None) -> BuiltEnvironment:
        """The environment's image tag, building the image if it does not exist yet
        (`on_build` is called when a build starts)."""
        digest = self.digest(spec)
        tag = f"{IMAGE_REPOSITORY}:{digest}"
        if self._exists(tag):
            return BuiltEnvironment(tag, digest, built=False, log_path=self.log_path(digest))
        with self._lock(digest):
            if self._exists(tag):  # another thread or process built it meanwhile
                return BuiltEnvironment(tag, digest, built=False, log_path=self.log_path(digest))
            if on_build is not None:
                on_build()
            self._build(spec, digest, tag)
        return BuiltEnvironment(tag, digest, built=True, log_path=self.log_path(digest))

    # -- building ---------------------------------------------------------------------

    def _exists(self, tag: str) -> bool:
        try:
            self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            return False
        return True

    def _base_image(self, name: str) -> Any:
        try:
            return self.client.images.get(name)
        except docker.errors.ImageNotFound:
            pass
        if name.startswith("atelier-base:"):
            raise EnvironmentBuildError(
                f"the base image {name} does not exist on this Docker engine: build it with "
                "docker/build-base-image.sh, or set ATELIER_DOCKER_BASE_IMAGE to an image of a registry"
            )
        try:
            return self.client.images.pull(name)
        except docker.errors.APIError as exc:
            raise EnvironmentBuildError(f"the base image {name} could not be pulled: {exc.explanation or exc}") from exc

    def _lock(self, digest: str) -> "_BuildLock":
        with self._locks_guard:
            thread_lock = self._locks.setdefault(digest, threading.Lock())
        return _BuildLock(thread_lock, self.cache_dir / f"{digest}.lock")

    def _build(self, spec: EnvironmentSpec, digest: str, tag: str) -> None:
        folder = self.cache_dir / digest
        context = folder / "context"
        shutil.rmtree(context, ignore_errors=True)
        (context / "wheels").mkdir(parents=True)
        log_path = self.log_path(digest)
        base_id = self._base_image(spec.base_image).id
        with log_path.open("w") as log:
            log.write(f"environment {spec.name}: base {spec.base_image} ({base_id})\n")
            try:
                self._download_wheels(spec, base_id, context / "wheels", log)
                if spec.system_packages:
                    self._download_debs(spec, base_id, context / "debs", log)
                system = _SYSTEM_PACKAGES_STEP if spec.system_packages else ""
                (context / "Dockerfile").write_text(
                    _DOCKERFILE.format(base=base_id, name=_label(spec.name), digest=digest, system=system)
                )
                self._docker_build(context, tag, log)
            except EnvironmentBuildError as exc:
                log.flush()
                exc.log = log_path.read_text()
                raise
            finally:
                shutil.rmtree(context, ignore_errors=True)

    def _download_wheels(self, spec: EnvironmentSpec, base_id: str, wheels: Path, log: Any) -> None:
        (wheels / "requirements.txt").write_text("\n".join(spec.all_requirements()) + "\n")
        target = self._python_target(base_id)
        # Wheels only, for the image's Python and platform: nothing gets compiled in the
        # image (it has no compiler) and the host's own Python does not matter.
        command = [
            sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off",
            "--dest", str(wheels), "--only-binary=:all:", "--implementation", "cp",
            "--python-version", target["python"], "--abi", f"cp{target['python'].replace('.', '')}",
            *(arg for platform in target["platforms"] for arg in ("--platform", platform)),
            "-r", str(wheels / "requirements.txt"), PIP_REQUIREMENT,
        ]
        log.write("$ pip download -r requirements.txt\n")
        log.flush()
        done = subprocess.run(command, stdout=log, stderr=subprocess.PIPE, text=True, check=False)
        log.write(done.stderr)
        if done.returncode != 0:
            raise EnvironmentBuildError(
                f"environment {spec.name!r}: pip could not get its requirements:\n{_pip_error(done.stderr)}"
            )

    def _download_debs(self, spec: EnvironmentSpec, base_id: str, debs: Path, log: Any) -> None:
        """The Debian packages `spec` adds and the dependencies of theirs the base image lacks."""
        if shutil.which("apt-get") is None:
            raise EnvironmentBuildError(f"environment {spec.name!r} adds Debian packages, which need apt on this server")
        host = _os_release(Path("/etc/os-release").read_text())
        image = _os_release(self._in_base(base_id, ["cat", "/etc/os-release"]))
        if (host.get("ID"), host.get("VERSION_CODENAME")) != (image.get("ID"), image.get("VERSION_CODENAME")):
            raise EnvironmentBuildError(
                f"environment {spec.name!r} adds Debian packages, downloaded with this server's apt for "
                f"{host.get('PRETTY_NAME', 'an unknown system')}; its base image is "
                f"{image.get('PRETTY_NAME', 'not Debian')}: they must be the same release"
            )
        installed = set(self._in_base(base_id, ["dpkg-query", "-W", "-f", "${Package}\\n"]).split())
        log.write(f"$ apt-cache depends --recurse {' '.join(spec.system_packages)}\n")
        listed = subprocess.run([*_APT_DEPENDS, *spec.system_packages], capture_output=True, text=True, check=False)
        if listed.returncode != 0:
            raise EnvironmentBuildError(f"environment {spec.name!r}: apt does not know its packages:\n{listed.stderr.strip()}")
        # Package names start a line; indented lines are dependency relations, <names> virtual.
        wanted = sorted({line for line in listed.stdout.splitlines() if line and line[0] not in " <"} - installed)
        debs.mkdir()
        log.write(f"$ apt-get download ({len(wanted)} packages)\n")
        log.flush()
        done = subprocess.run(["apt-get", "download", *wanted], cwd=debs, stdout=log, stderr=subprocess.PIPE,
                              text=True, check=False)
        log.write(done.stderr)
        if done.returncode != 0:
            raise EnvironmentBuildError(f"environment {spec.name!r}: apt could not download its packages:\n"
                                        + "\n".join(done.stderr.strip().splitlines()[-5:]))

    def _in_base(self, base_id: str, command: list[str]) -> str:
        try:
            out = self.client.containers.run(base_id, command, network_mode="none", remove=True, stdout=True, stderr=True)
        except docker.errors.ContainerError as exc:
            raise EnvironmentBuildError(f"the base image cannot run {command[0]}: {exc}") from exc
        return out.decode() if isinstance(out, bytes) else str(out)

    def _python_target(self, base_id: str) -> dict[str, Any]:
        """The base image's Python version and the wheel platforms its C library accepts."""
        probe = (
            "import json, platform, sys; libc = platform.libc_ver(); "
            "print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'machine': platform.machine(), "
            "'libc': libc[0], 'libc_version': libc[1]}))"
        )
        try:
            out = self.client.containers.run(
                base_id, ["python3", "-c", probe], network_mode="none", remove=True, stdout=True, stderr=True,
            )
        except docker.errors.ContainerError as exc:
            raise EnvironmentBuildError(f"the base image has no working python3: {exc}") from exc
        found = json.loads(out)
        if found["libc"] != "glibc":
            raise EnvironmentBuildError("the base image must use glibc (manylinux wheels)")
        major, minor = (int(part) for part in found["libc_version"].split(".")[:2])
        arch = found["machine"]
        platforms = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
        platforms += [f"manylinux{legacy}_{arch}" for legacy in ("2014", "2010", "1")]
        return {"python": found["python"], "platforms": platforms}

    def _docker_build(self, context: Path, tag: str, log: Any) -> None:
        log.write(f"$ docker build --network none -t {tag}\n")
        error = None
        for chunk in self.client.api.build(
            path=str(context), tag=tag, network_mode="none", rm=True, forcerm=True, pull=False, decode=True,
        ):
            if "stream" in chunk:
                log.write(chunk["stream"])
            if "error" in chunk:
                error = chunk["error"]
                log.write(error + "\n")
            log.flush()
        # The first stage (with the wheels) stays behind as an untagged image: drop it.
        self.client.images.prune(filters={"dangling": True, "label": "atelier.build-stage"})
        if error is not None:
            tail = "\n".join(Path(log.name).read_text().splitlines()[-_LOG_TAIL_LINES:])
            raise EnvironmentBuildError(f"the environment image could not be built:\n{tail}")


class _BuildLock:
    """Held by one thread of one process at a time (flock does not exclude threads)."""

    def __init__(self, thread_lock: threading.Lock, path: Path) -> None:
        self._thread_lock = thread_lock
        self._path = path
        self._fd = -1

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: Any) -> None:
        os.close(self._fd)  # releases the flock
        self._thread_lock.release()


def _os_release(text: str) -> dict[str, str]:
    fields = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value.strip().strip('"') for key, value in fields}


def _label(value: str) -> str:
    return json.dumps(value)  # a Dockerfile LABEL value, quoted


def _pip_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return "\n".join(errors or lines[-_LOG_TAIL_LINES:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--name", default="default")
    parser.add_argument("--base", default=os.environ.get("ATELIER_DOCKER_BASE_IMAGE", "atelier-base:bookworm"))
    parser.add_argument("--cache-dir", type=Path, default=None, help="build folders and logs")
    parser.add_argument("requirements", nargs="*", help="extra requirements, pinned")
    args = parser.parse_args(argv)
    data_dir = Path(os.environ.get("ATELIER_DATA_DIR", Path(__file__).resolve().parents[2] / "var"))
    builder = EnvironmentBuilder(client=docker.from_env(), cache_dir=args.cache_dir or data_dir / "environments")
    try:
        built = builder.ensure(EnvironmentSpec(args.name, args.base, normalize_requirements(args.requirements)))
    except EnvironmentBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(built.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
