"""Module versions in pipeline files: pinning them, and upgrading nodes saved with older ones.

A node names its module and, optionally, the module version it was made with (no version
means the newest). When a module moves on (a new version, or a new id that `replaces` the
old one), the registry runs the node as the newest version with its params passed through
the module's `migrate_params`. Validation does that for every run; `upgrade_document`
does it for a document as a whole, so that the API and the canvas open an old pipeline as
what it now is, with a note per node of what changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modules.sdk import Module, Registry
from modules.sdk.registry import MigrationFailed, Resolution, UnknownModule, UnknownVersion

from .errors import GraphError
from .pipeline_file import NodeDoc, PipelineDoc


@dataclass(frozen=True)
class NodeUpgrade:
    """A node saved as `from_module` version `from_version`, now `to_module` version `to_version`."""

    node: str
    from_module: str
    from_version: int | None
    to_module: str
    to_version: int

    @property
    def message(self) -> str:
        was = self.from_module + ("" if self.from_version is None else f" version {self.from_version}")
        return f"{was} is now {self.to_module} version {self.to_version}; its params were migrated"

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node, "from_module": self.from_module, "from_version": self.from_version,
            "to_module": self.to_module, "to_version": self.to_version, "message": self.message,
        }


def resolve_node(registry: Registry, node_id: str, node: NodeDoc) -> Resolution | GraphError:
    """The module `node` runs as, with its migrated params; or the error that says why none."""
    try:
        return registry.resolve(node.module, node.version, node.params)
    except UnknownModule as exc:
        return GraphError("unknown_module", str(exc), node=node_id)
    except UnknownVersion as exc:
        return GraphError("unknown_version", str(exc), node=node_id, details={"known": exc.known})
    except MigrationFailed as exc:
        return GraphError("migration_failed", str(exc), node=node_id)


def upgraded_node(node: NodeDoc, resolution: Resolution, *, pin: bool = False) -> NodeDoc:
    """`node` as the module it resolved to: its id, its params, and its version when it named
    one (or always, with `pin`)."""
    version = resolution.module.version if pin or node.version is not None else None
    if not resolution.upgraded and version == node.version:
        return node
    return node.model_copy(update={"module": resolution.module.id, "version": version, "params": resolution.params})


def node_upgrade(node_id: str, resolution: Resolution) -> NodeUpgrade | None:
    if not resolution.upgraded:
        return None
    return NodeUpgrade(
        node=node_id, from_module=resolution.from_id, from_version=resolution.from_version,
        to_module=resolution.module.id, to_version=resolution.module.version,
    )


@dataclass(frozen=True)
class UpgradedDocument:
    doc: PipelineDoc
    upgrades: list[NodeUpgrade]


def upgrade_document(doc: PipelineDoc, *, registry: Registry) -> UpgradedDocument:
    """`doc` with every node of an older module version or a replaced id upgraded.

    Nodes that cannot be resolved (an unknown module, a version from a newer installation,
    a failing migration) are left as they are: validation reports them.
    """
    nodes: dict[str, NodeDoc] = {}
    upgrades: list[NodeUpgrade] = []
    for node_id, node in doc.nodes.items():
        resolution = resolve_node(registry, node_id, node)
        if isinstance(resolution, GraphError):
            nodes[node_id] = node
            continue
        nodes[node_id] = upgraded_node(node, resolution)
        upgrade = node_upgrade(node_id, resolution)
        if upgrade is not None:
            upgrades.append(upgrade)
    if not upgrades:
        return UpgradedDocument(doc, [])
    return UpgradedDocument(doc.model_copy(update={"nodes": nodes}), upgrades)


def pin_versions(doc: PipelineDoc, *, registry: Registry) -> PipelineDoc:
    """`doc` with each node that names no version given its module's newest one.

    A saved pipeline records what its nodes were made with, so that a later version of a
    module migrates them instead of handing them params it no longer understands. Nodes of
    unknown modules are left as they are.
    """
    nodes = dict(doc.nodes)
    for node_id, node in doc.nodes.items():
        if node.version is None:
            module: type[Module] | None = registry.get(node.module)
            if module is not None and module.id == node.module:
                nodes[node_id] = node.model_copy(update={"version": module.version})
    return doc.model_copy(update={"nodes": nodes})
