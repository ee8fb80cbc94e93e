"""Where dataset paths in a config are read from: one documented data root.

A dataset path in a config (``root``, ``gt_root``, ``lr_root``, ``list_file``, ...) is read under
the data root unless it is absolute or starts with ``./`` or ``../`` (then it is taken from the
current directory, e.g. frames a script generated under ``results/``). The data root is the
config's ``data_root:``, else the ``VSR_DATA`` environment variable, else ``data`` (beside
wherever you run vsr). So ``root: Vid4`` works on every machine that keeps Vid4 under its data
root, and the tests read ../shared/data by setting ``VSR_DATA``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_ROOT = "data"


@dataclass(frozen=True)
class DataPath:
    """Marks a dataset parameter that names a file or folder under the data root, used as
    ``Annotated[str | os.PathLike, DataPath()]``."""


def data_root(configured: str | None = None) -> tuple[Path, str]:
    """The data root, absolute, and where it came from (for error messages and run records)."""
    if configured:
        return Path(configured).expanduser().resolve(), "data_root in the config"
    if os.environ.get("VSR_DATA"):
        return Path(os.environ["VSR_DATA"]).expanduser().resolve(), "VSR_DATA"
    return Path(DEFAULT_DATA_ROOT).resolve(), f"the default '{DEFAULT_DATA_ROOT}'"


def resolve_data_path(value: str | os.PathLike, root: Path) -> Path:
    """``value`` as read under ``root`` (see the module docstring)."""
    text = os.fspath(value)
    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    if text.startswith(("./", "../", ".\\", "..\\")) or text in (".", ".."):
        return path.resolve()
    return root / path
