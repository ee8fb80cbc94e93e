"""Imports point down the layers of DESIGN.md: a package imports only from lower layers or from
itself, lazy imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# From the ground up; packages on one rank may not import each other.
LAYERS: dict[str, int] = {
    "errors": -1,  # the error and warning types everything raises
    "registry": 0,
    "io": 1, "config": 1,
    "archs": 2,
    "losses": 3, "metrics": 3,
    "data": 4,
    "models": 5,
    "engine": 6,
    "foveation": 7,  # workflows: allocation, latency profiling, foveated benchmarks
    "cli": 8,
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "vsr" else None


def _imports(path: Path, package_root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = list(path.relative_to(package_root.parent).with_suffix("").parts)
    if own[-1] == "__init__":
        own = own[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own[: len(own) - node.level + (path.name == "__init__.py")]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if _layer(module) is None and module == "vsr":  # from vsr import engine
                found += [(node.lineno, f"vsr.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
    return found


def upward_imports(package_root: Path) -> list[str]:
    """Every import in the package that does not point down the layers, as 'file:line -> x'."""
    bad = []
    for path in sorted(package_root.rglob("*.py")):
        source = _layer(".".join(path.relative_to(package_root.parent).with_suffix("").parts))
        if source is None:
            continue
        for line, module in _imports(path, package_root):
            target = _layer(module)
            if target is None or target == source:
                continue
            if source not in LAYERS or target not in LAYERS:
                bad.append(f"{path.relative_to(package_root.parent)}:{line} -> {module} "
                           f"(package not in LAYERS)")
            elif LAYERS[target] >= LAYERS[source]:
                bad.append(f"{path.relative_to(package_root.parent)}:{line} -> {module}")
    return bad


def test_every_import_in_vsr_points_down():
    assert upward_imports(ROOT / "vsr") == []


def test_an_upward_import_is_caught_even_inside_a_function(tmp_path):
    pkg = tmp_path / "vsr"
    for sub in ("data", "engine", "archs"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "engine" / "trainer.py").write_text("from vsr.data import loader\n")  # down: fine
    (pkg / "data" / "loader.py").write_text(
        "from vsr.archs import x\n\ndef f():\n    from vsr.engine.trainer import Trainer\n")
    (pkg / "archs" / "x.py").write_text("from ..engine import trainer\n")  # relative, upward
    (pkg / "archs" / "y.py").write_text("from . import x\nimport vsr.archs.x\n")  # own package
    assert upward_imports(pkg) == ["vsr/archs/x.py:1 -> vsr.engine",
                                   "vsr/data/loader.py:4 -> vsr.engine.trainer"]


def test_a_package_missing_from_the_layers_is_reported(tmp_path):
    (tmp_path / "vsr" / "gadgets").mkdir(parents=True)
    (tmp_path / "vsr" / "gadgets" / "a.py").write_text("import vsr.io.image\n")
    assert upward_imports(tmp_path / "vsr") == [
        "vsr/gadgets/a.py:1 -> vsr.io.image (package not in LAYERS)"]
