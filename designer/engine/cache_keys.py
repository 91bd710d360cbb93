"""Cache keys: the fingerprint deciding whether a step's earlier outputs can be reused.

key = sha256(module id + version, normalized params, environment, external fingerprint,
             content hashes of the input artifacts)

The first four are known at compile time (the step's *signature*); input hashes are
known once the upstream steps have produced their artifacts.
"""
from __future__ import annotations

import hashlib
import json
import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Mapping

_LIBRARIES = ("pandas", "numpy", "scikit-learn", "scipy", "pyarrow", "skops", "duckdb", "imbalanced-learn")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def modules_code_digest() -> str:
    """Atelier's own modules, as every compute runs them."""
    import modules

    code = hashlib.sha256()
    # A module's code change must invalidate cached outputs even without a version bump.
    for path in sorted(Path(modules.__file__).parent.rglob("*.py")):
        code.update(path.read_bytes())
    return code.hexdigest()[:16]


@cache
def local_environment_id() -> str:
    """What the local compute runs with: Python, the libraries and Atelier's own modules."""
    parts = [platform.python_version()]
    for name in _LIBRARIES:
        try:
            parts.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name}==?")
    parts.append(modules_code_digest())
    return sha256_text("|".join(parts))[:32]


def container_environment_id(*, base_image: str, requirements: tuple[str, ...], recipe: str) -> str:
    """What a container compute runs with: its image's recipe (known without asking the
    engine, so a server with no Docker engine compiles the same keys as its workers) and
    Atelier's own modules. Outputs made on one environment are never reused on another."""
    return sha256_text(canonical_json({
        "base": base_image, "requirements": list(requirements), "recipe": recipe, "code": modules_code_digest(),
    }))[:32]


def step_signature(
    *, module_id: str, version: int, params: Mapping[str, Any], environment: str, fingerprint: str | None,
    pack: str | None = None,
) -> str:
    """`pack`: the release of the pack a module comes from (Atelier's own modules are in the
    environment's code digest)."""
    return sha256_text(canonical_json({
        "module": module_id, "version": version, "params": params, "env": environment, "fp": fingerprint,
        **({"pack": pack} if pack else {}),
    }))


def cache_key(signature: str, input_hashes: Mapping[str, str]) -> str:
    return sha256_text(canonical_json({"sig": signature, "inputs": dict(sorted(input_hashes.items()))}))
