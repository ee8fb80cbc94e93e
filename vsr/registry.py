"""One registry class for every pluggable kind (archs, models, datasets, losses, metrics,
degradations).

Entries register themselves with a decorator when their module is imported. Modules are imported
lazily: each registry knows the package whose modules hold its entries and imports them only when
a name is looked up, so ``import vsr`` stays light and a broken optional dependency only breaks the
entries that need it.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar

from vsr.errors import VSRError

T = TypeVar("T")


class RegistryError(VSRError, KeyError):
    """An unknown or duplicate registry name."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


class Registry:
    """Maps names to classes or functions, built from ``{type: Name, **kwargs}`` specs."""

    def __init__(self, kind: str, packages: tuple[str, ...]) -> None:
        self.kind = kind
        self._packages = packages
        self._entries: dict[str, Any] = {}
        self._scanned = False
        self._import_errors: dict[str, str] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            key = name or obj.__name__
            if key in self._entries and self._entries[key] is not obj:
                raise RegistryError(f"{self.kind} '{key}' is registered twice")
            self._entries[key] = obj
            return obj

        return decorator

    def _scan(self) -> None:
        """Import every module of the registry's packages once, recording failures."""
        if self._scanned:
            return
        self._scanned = True
        for package_name in self._packages:
            package = importlib.import_module(package_name)
            for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
                try:
                    importlib.import_module(info.name)
                except ImportError as exc:  # optional dependency missing: keep the rest usable
                    self._import_errors[info.name] = str(exc)

    def names(self) -> list[str]:
        self._scan()
        return sorted(self._entries)

    def get(self, name: str) -> Any:
        if name not in self._entries:
            self._scan()
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=5, cutoff=0.5)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            broken = ""
            if self._import_errors:
                broken = "; modules that failed to import: " + ", ".join(
                    f"{m} ({e})" for m, e in sorted(self._import_errors.items())
                )
            raise RegistryError(f"unknown {self.kind} '{name}'{hint}{broken}")
        return self._entries[name]

    def build(self, spec: dict[str, Any] | str, **extra: Any) -> Any:
        """Build from ``{type: Name, **kwargs}`` (or a bare name); ``extra`` adds kwargs."""
        if isinstance(spec, str):
            spec = {"type": spec}
        if "type" not in spec:
            raise RegistryError(f"{self.kind} spec {spec!r} has no 'type'")
        kwargs = {k: v for k, v in spec.items() if k != "type"}
        kwargs.update(extra)
        return self.get(spec["type"])(**kwargs)

    def __contains__(self, name: str) -> bool:
        self._scan()
        return name in self._entries


ARCHS = Registry("arch", ("vsr.archs",))
MODELS = Registry("model", ("vsr.models",))
DATASETS = Registry("dataset", ("vsr.data",))
LOSSES = Registry("loss", ("vsr.losses",))
METRICS = Registry("metric", ("vsr.metrics",))
DEGRADATIONS = Registry("degradation", ("vsr.data",))
