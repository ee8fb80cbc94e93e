"""Names of the temp files that atomic writes leave beside their target, and the removal of
stale ones a killed run left behind.

A temp file is ``.<target name>.<pid>-<random>.tmp``: the pid says which process owns it, so a
later run can tell a dead run's leftovers from a live writer's file.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

_TEMP = re.compile(r"^\.(?P<target>.+)\.(?:(?P<pid>\d+)-)?[\w-]+\.tmp$")


def temp_prefix(target: Path) -> str:
    """The name prefix of this process's temp files for ``target`` (random part to follow)."""
    return f".{target.name}.{os.getpid()}-"


def temp_path(target: Path) -> Path:
    """A fresh temp file name beside ``target`` for this process."""
    return target.with_name(f"{temp_prefix(target)}{secrets.token_hex(6)}.tmp")


def _started_at(pid: int) -> float | None:
    """Start time (epoch seconds) of a live process, from /proc; None where unknown or dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        btime = next(line for line in Path("/proc/stat").read_text().splitlines()
                     if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, after the (comm) field
    return int(btime.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def is_stale(tmp: Path, run_start: float) -> bool:
    """Whether a temp file is a leftover: its pid is dead (or was reused by a process started
    after the file's last write), or it names no pid and is older than this run."""
    match = _TEMP.match(tmp.name)
    if match is None:
        return False
    try:
        mtime = tmp.stat().st_mtime
    except FileNotFoundError:
        return False
    if match["pid"] is None:
        return mtime < run_start
    pid = int(match["pid"])
    if pid == os.getpid():
        return mtime < run_start
    if not _alive(pid):
        return True
    started = _started_at(pid)
    return started is not None and mtime < started - 1.0


def remove_stale_temps(directory: Path, target: str | None, run_start: float) -> list[Path]:
    """Delete stale temp files in ``directory`` for the file named ``target`` (any target when
    None, e.g. the frames of a folder); the paths removed."""
    removed = []
    if not directory.is_dir():
        return removed
    for tmp in directory.glob(".*.tmp"):
        match = _TEMP.match(tmp.name)
        if match is None or (target is not None and match["target"] != target):
            continue
        if is_stale(tmp, run_start):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
