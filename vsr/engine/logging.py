"""Run logs: a plain-text log, a JSON-lines file of every logged scalar (machine-readable, exact),
TensorBoard scalars and images, and a progress bar with it/s and ETA. Only rank 0 writes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import torch


def get_logger(log_file: Path | None = None, name: str = "vsr") -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
               for h in logger.handlers):
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(fmt)
        logger.addHandler(console)
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

    def __init__(self, folder: Path, enabled: bool = True) -> None:
        self.enabled = enabled
        self._jsonl = folder / "metrics.jsonl"
        self._tb = None
        if enabled:
            folder.mkdir(parents=True, exist_ok=True)
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional: the JSON log still has everything
                SummaryWriter = None
            if SummaryWriter is not None:
                self._tb = SummaryWriter(str(folder / "tb"))

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


def read_scalars(path: Path) -> dict[int, dict[str, float]]:
    """The last logged values per iteration (a resumed run re-logs iterations it redoes)."""
    out: dict[int, dict[str, float]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        out.setdefault(record.pop("iter"), {}).update(record)
    return out
