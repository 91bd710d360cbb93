"""The registry: versions, `replaces`, freezing, and module packs found by entry point."""
from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from modules.sdk import Module, Output, PortType, artifacts
from modules.sdk.registry import ENTRY_POINT_GROUP, Registry, RegistryFrozen, default_registry, load_registry


def learner(module_id: str, module_version: int = 1, replaced: tuple[str, ...] = ()) -> type[Module]:
    class Learner(Module):
        id = module_id
        version = module_version
        replaces = replaced
        category = "Test"

        class Outputs:
            model = Output(type=PortType.UNTRAINED_MODEL)

    return Learner


def test_versions_are_kept_and_the_latest_is_the_default() -> None:
    v1, v2 = learner("ridge", 1), learner("ridge", 2)
    registry = Registry()
    registry.add(v2)
    registry.add(v1)
    assert registry.get("ridge") is v2
    assert registry.get("ridge", 1) is v1
    assert registry.get("ridge", 3) is None
    assert registry.versions("ridge") == [1, 2]
    assert list(registry) == [v2]


def test_one_version_cannot_be_registered_twice() -> None:
    registry = Registry()
    registry.add(learner("ridge"))
    with pytest.raises(ValueError, match="ridge version 1 is registered twice"):
        registry.add(learner("ridge"))


def test_a_replaced_id_resolves_to_its_successor() -> None:
    successor = learner("linear_regression", replaced=("ordinary_least_squares",))
    registry = Registry()
    registry.add(successor)
    assert registry.canonical_id("ordinary_least_squares") == "linear_regression"
    assert registry.get("ordinary_least_squares") is successor
    assert "ordinary_least_squares" in registry
    assert registry.versions("ordinary_least_squares") == [1]
    assert "nothing_like_it" not in registry and registry.get("nothing_like_it") is None


def test_a_frozen_registry_refuses_additions() -> None:
    registry = Registry()
    registry.add(learner("ridge"))
    registry.freeze()
    with pytest.raises(RegistryFrozen):
        registry.add(learner("lasso"))
    with pytest.raises(RegistryFrozen):
        default_registry().add(learner("lasso"))


def test_the_default_registry_holds_the_builtins() -> None:
    assert default_registry().get("import_data") is not None


# Module packs: real distributions on sys.path, found through the entry point group.


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path to install distributions into; the trust list is restored after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(artifacts, "TRUSTED_TYPE_PREFIXES", list(artifacts.TRUSTED_TYPE_PREFIXES))
    return tmp_path


def install_pack(site: Path, package: str, source: str, entry_points: dict[str, str]) -> None:
    """Lay out `package` and its `*.dist-info`, as pip would install a wheel."""
    (site / package).mkdir()
    (site / package / "__init__.py").write_text(source)
    dist_info = site / f"{package}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")


@pytest.fixture(autouse=True)
def forget_packs() -> Iterator[None]:
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("acme"):
            del sys.modules[name]


PACK_SOURCE = textwrap.dedent(
    """\
    from modules.sdk import Input, Int, Module, Output, PortType

    class Double(Module):
        id = "acme.double"
        name = "Double"
        category = "Acme"

        class Inputs:
            dataset = Input(type=PortType.DATAFRAME)

        class Outputs:
            dataset = Output(type=PortType.DATAFRAME)

        class Params:
            factor = Int(default=2)

        def run(self, ctx, params, dataset):
            return {"dataset": dataset * params.factor}
    """
)


def test_a_pack_module_is_found_through_its_entry_point(site: Path) -> None:
    install_pack(site, "acme_tools", PACK_SOURCE, {"acme": "acme_tools"})
    registry = load_registry()
    double = registry.get("acme.double")
    assert double is not None and double.spec.params["factor"].default == 2
    assert registry.get("import_data") is not None  # the built-ins are still there
    assert registry.load_errors == []
    # Model files of the pack's own types may now be loaded.
    assert "acme_tools." in artifacts.TRUSTED_TYPE_PREFIXES
    with pytest.raises(RegistryFrozen):
        registry.add(learner("late"))


def test_an_entry_point_may_name_a_class_or_a_function_returning_classes(site: Path) -> None:
    source = PACK_SOURCE + textwrap.dedent(
        """\
        class Triple(Double):
            id = "acme.triple"

        def modules():
            return [Triple]
        """
    )
    install_pack(site, "acme_more", source, {"double": "acme_more:Double", "more": "acme_more:modules"})
    registry = load_registry()
    assert registry.get("acme.double") is not None and registry.get("acme.triple") is not None


def test_a_broken_pack_is_logged_and_skipped(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    install_pack(site, "acme_broken", "raise ImportError('needs acme-sdk>=9')\n", {"broken": "acme_broken"})
    install_pack(site, "acme_plain", PACK_SOURCE.replace('"acme.double"', '"double"'), {"plain": "acme_plain"})
    install_pack(site, "acme_good", PACK_SOURCE, {"good": "acme_good"})
    with caplog.at_level(logging.WARNING, logger="modules.sdk.registry"):
        registry = load_registry()
    assert registry.get("acme.double") is not None  # one broken pack does not stop the others
    assert registry.get("double") is None
    assert len(registry.load_errors) == 2
    broken, plain = sorted(registry.load_errors)
    assert "module pack 'broken' (acme_broken) could not be loaded: needs acme-sdk>=9" == broken
    assert "must be namespaced" in plain
    assert [r.getMessage() for r in caplog.records if r.name == "modules.sdk.registry"] == registry.load_errors


def test_packs_can_be_left_out(site: Path) -> None:
    install_pack(site, "acme_skipped", PACK_SOURCE, {"acme": "acme_skipped"})
    assert load_registry(with_packs=False).get("acme.double") is None
