"""What a run used, written beside its results: the weights (path and sha256), the vsr commit,
torch and the device. A number in a table is only comparable when these are known."""

from __future__ import annotations

import datetime
import hashlib
import platform
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import torch

import vsr

_REPO = Path(vsr.__file__).resolve().parent.parent


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def vsr_commit() -> str | None:
    """The git commit vsr runs from, ``+dirty`` when files differ from it; None outside a git
    checkout (an installed wheel)."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(_REPO), *args], capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "vsr")
    return f"{commit}+dirty" if dirty else commit


def sha256_of_files(paths: list[Path]) -> str:
    """One digest of several files' contents, in the given order (a folder of frames)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(bytes.fromhex(sha256_of(path)))
    return digest.hexdigest()


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{device.index or 0} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def run_record(weights: str | Path | None, device: torch.device, **extra: object) -> dict:
    """The record every results file and experiment folder carries."""
    record: dict = {
        "weights": None,
        "vsr_commit": vsr_commit(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device_name(device),
        "command": " ".join(sys.argv),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if weights:
        path = Path(weights).resolve()
        record["weights"] = {"path": str(path), "sha256": sha256_of(path)}
    record.update(extra)
    return record


def describe_run(record: dict) -> str:
    """One line for a results table."""
    weights = record.get("weights")
    used = (f"{weights['path']} (sha256 {weights['sha256'][:12]}…)" if weights
            else "no weights file")
    scored = record.get("evaluated")  # saved outputs scored by ``vsr evaluate``
    if scored:
        used = (f"outputs {scored['sr']['path']} (sha256 {scored['sr']['sha256'][:12]}…) "
                f"against {scored['gt']['path']} (sha256 {scored['gt']['sha256'][:12]}…)")
    return (f"{used}; vsr {record.get('vsr_commit') or 'unknown commit'}; torch "
            f"{record.get('torch')}; {record.get('device')}")
