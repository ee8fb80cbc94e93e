"""Run logs: a plain-text log, a JSON-lines file of every logged scalar (machine-readable, exact),
TensorBoard scalars and images, and a progress bar with it/s and ETA. Only rank 0 writes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import torch

from vsr.io.image import atomic_write_bytes


class _BarSafeHandler(logging.StreamHandler):
    """Console lines written through tqdm, so they never land on a progress bar's line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # noqa: BLE001 (logging must never raise)
            self.handleError(record)


def get_logger(log_file: Path | None = None, name: str = "vsr",
               console_level: int = logging.INFO) -> logging.Logger:
    """The run's logger: the console (``console_level``: ranks other than 0 pass WARNING, so
    torchrun prints each line once) and, on rank 0, ``log_file``."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    console = next((h for h in logger.handlers if isinstance(h, _BarSafeHandler)), None)
    if console is None:
        console = _BarSafeHandler(sys.stderr)
        console.setFormatter(fmt)
        logger.addHandler(console)
    console.setLevel(console_level)
    if log_file is not None:
        for handler in [h for h in logger.handlers if isinstance(h, logging.FileHandler)]:
            logger.removeHandler(handler)
            handler.close()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_file)
        file_handler.setFormatter(fmt)
        logger.addHandler(file_handler)
    return logger


class RunLog:
    """Scalars go to metrics.jsonl and TensorBoard; images to TensorBoard."""

    def __init__(self, folder: Path, enabled: bool = True, resumed_at: int = 0) -> None:
        """``resumed_at``: the iteration a resumed run restarts from; what the earlier run
        logged after it is dropped (it is logged again), in metrics.jsonl and TensorBoard."""
        self.enabled = enabled
        self._jsonl = folder / "metrics.jsonl"
        self._tb = None
        if enabled:
            folder.mkdir(parents=True, exist_ok=True)
            if resumed_at and self._jsonl.exists():
                kept = [line for line in self._jsonl.read_text().splitlines(keepends=True)
                        if _iteration_of(line) <= resumed_at]
                atomic_write_bytes(self._jsonl, "".join(kept).encode())
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional: the JSON log still has everything
                SummaryWriter = None
            if SummaryWriter is not None:
                self._tb = SummaryWriter(str(folder / "tb"),
                                         purge_step=resumed_at + 1 if resumed_at else None)

    def scalars(self, iteration: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        with self._jsonl.open("a") as f:
            f.write(json.dumps({"iter": iteration, **values}) + "\n")
        if self._tb is not None:
            for key, value in values.items():
                self._tb.add_scalar(key, value, iteration)

    def image(self, tag: str, iteration: int, image: torch.Tensor) -> None:
        """``image``: (C, H, W) in [0, 1]."""
        if self.enabled and self._tb is not None:
            self._tb.add_image(tag, image.clamp(0, 1), iteration)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def _iteration_of(line: str) -> float:
    """The iteration a metrics.jsonl line logs; a line cut off by a kill counts as never."""
    try:
        return json.loads(line)["iter"]
    except (ValueError, KeyError, TypeError):
        return float("inf")


def read_scalars(path: Path) -> dict[int, dict[str, float]]:
    """The last logged values per iteration (a resumed run re-logs iterations it redoes)."""
    out: dict[int, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        out.setdefault(record.pop("iter"), {}).update(record)
    return out
