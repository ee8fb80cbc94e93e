"""The experiment folder of a training run: never reused by accident, never shared by two live
runs, and free of the temporary files a killed run left behind."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import TextIO

# what marks a folder as holding a run (a folder with only a log or nothing is not one)
_RUN_MARKERS = ("config.yaml", "metrics.jsonl", "checkpoints")


class ExperimentFolderError(ValueError):
    """The experiment folder cannot be used as asked; the message says what to do instead."""


def check_experiment_folder(folder: Path, resume: str | None, overwrite: bool) -> None:
    """Refuse to start a new run in a folder that holds one, unless resuming or overwriting."""
    held = [m for m in _RUN_MARKERS if (folder / m).exists()]
    if not held or resume is not None or overwrite:
        return
    raise ExperimentFolderError(
        f"{folder} already holds a run ({', '.join(held)}): continue it with --resume auto, "
        f"start another with a new name=..., or pass --overwrite to archive it first")


def archive_experiment_folder(folder: Path) -> Path | None:
    """Move an existing run folder aside as ``<name>_archived_<time>`` (BasicSR's habit)."""
    if not folder.exists():
        return None
    stamp = time.strftime("%Y%m%d_%H%M%S")
    target = folder.with_name(f"{folder.name}_archived_{stamp}")
    suffix = 1
    while target.exists():
        target = folder.with_name(f"{folder.name}_archived_{stamp}_{suffix}")
        suffix += 1
    folder.rename(target)
    return target


class FolderLock:
    """An exclusive ``flock`` on ``<folder>/.lock`` held for the life of the run. The kernel
    drops it when the process dies, so a lock left by a killed run is never in the way."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / ".lock"
        self._file: TextIO | None = open(self.path, "a+")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            owner = self._file.read().strip() or "another process"
            self._file.close()
            self._file = None
            raise ExperimentFolderError(
                f"{folder} is in use by a running training ({owner}); wait for it to end or "
                f"choose another name=...") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"pid {os.getpid()} on {os.uname().nodename}\n")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the ``.*.tmp`` files of interrupted atomic writes in ``folder`` and below. Only
    called while holding the folder's lock, so no live writer owns them."""
    stale = [p for p in folder.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
