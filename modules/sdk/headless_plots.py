"""Plots in a step are drawn headless, whatever backend a user's script asks for.

Steps have no display: matplotlib draws with Agg (MPLBACKEND) and figures are saved as
step images. Scripts written for a desktop or a notebook often ask for an interactive
backend (`matplotlib.use("TkAgg")`, `plt.switch_backend("QtAgg")`), which matplotlib
refuses without a display, failing the script for a line that changes nothing here. While
`headless_plots()` is active such a request keeps the headless backend and says so in the
step's log. matplotlib is patched where a script imports it: importing it for every script
would cost the ones that never plot.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Callable, Iterator, Sequence

# The backends that draw to files; any other is a request for a window.
FILE_BACKENDS = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})
# The functions that switch backends, by the module that defines them.
_SWITCHES = {"matplotlib": "use", "matplotlib.pyplot": "switch_backend"}


def _headless(switch: Callable[..., Any]) -> Callable[..., Any]:
    def keep_headless(backend: str, *args: Any, **kwargs: Any) -> Any:
        if str(backend).lower() not in FILE_BACKENDS:
            print(f"matplotlib backend {backend!r} needs a display; steps draw headless (Agg), "
                  "and open figures are saved as the step's images", flush=True)
            return None
        return switch(backend, *args, **kwargs)

    keep_headless.__wrapped__ = switch  # type: ignore[attr-defined]
    return keep_headless


class _PatchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds matplotlib's modules with the other finders, then patches them once loaded."""

    def __init__(self) -> None:
        self.patched: list[tuple[ModuleType, str, Callable[..., Any]]] = []
        self._loaders: dict[str, importlib.abc.Loader] = {}

    def patch(self, module: ModuleType) -> None:
        name = _SWITCHES[module.__name__]
        original = getattr(module, name)
        setattr(module, name, _headless(original))
        self.patched.append((module, name, original))

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _SWITCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                self._loaders[fullname] = spec.loader
                spec.loader = self
                return spec
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loaders[spec.name].create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        loader = self._loaders.pop(module.__name__)
        module.__spec__.loader = loader  # type: ignore[union-attr]
        loader.exec_module(module)
        self.patch(module)


@contextlib.contextmanager
def headless_plots() -> Iterator[None]:
    hook = _PatchOnImport()
    for name in _SWITCHES:
        if name in sys.modules:
            hook.patch(sys.modules[name])
    sys.meta_path.insert(0, hook)
    try:
        yield
    finally:
        sys.meta_path.remove(hook)
        for module, name, original in reversed(hook.patched):
            setattr(module, name, original)
