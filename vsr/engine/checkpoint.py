"""Checkpoints: atomic writes, keep-last-N and best-by-metric, exact resume, and loading weights
(ours or an original release's key layout) into an inference network."""

from __future__ import annotations

import io
import os
import random
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vsr.config.zoo import missing_weights_message
from vsr.io.image import atomic_write_bytes
from vsr.io.weights import (
    LoadReport,
    foreign_state_dict,
    load_state_partial,
    load_state_strict,
    read_weights_file,
)

MARKER = "vsr_checkpoint"
_ITER_NAME = re.compile(r"^iter_(\d+)\.pth$")


def atomic_torch_save(obj: object, path: str | os.PathLike) -> None:
    """Serialise fully in memory, then write-and-rename: a kill never leaves half a file."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def rng_state() -> dict:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": list(random.getstate()[1]),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((3, tuple(state["python"]), None))
    np.random.set_state(("MT19937", state["numpy_keys"].numpy().astype(np.uint32),
                         state["numpy_pos"], 0, 0.0))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_paths(folder: Path) -> list[tuple[int, Path]]:
    """(iteration, path) of the periodic checkpoints in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _ITER_NAME.match(p.name))]
    return sorted(found)


def latest_checkpoint(folder: Path) -> Path | None:
    paths = checkpoint_paths(folder)
    return paths[-1][1] if paths else None


def prune_checkpoints(folder: Path, keep_last: int) -> None:
    for _, path in checkpoint_paths(folder)[:-keep_last] if keep_last > 0 else []:
        path.unlink(missing_ok=True)


def read_checkpoint(path: str | os.PathLike) -> dict:
    return read_weights_file(path)


def inference_state_dict(ckpt: dict) -> dict:
    """The weights to run: the network's from our checkpoints with its EMA average over them
    when present (the EMA holds no frozen pretrained parts); a foreign file unwrapped by
    ``foreign_state_dict`` (the archs keep the original key names, so released files need
    nothing more)."""
    if ckpt.get(MARKER):
        state = {k[len("net."):]: v for k, v in ckpt["model"].items() if k.startswith("net.")}
        state.update(ckpt.get("ema") or {})
        return state
    return foreign_state_dict(ckpt)


def load_weights(net: nn.Module, path: str | os.PathLike, strict: bool = True) -> LoadReport:
    """Load weights into ``net``. Strict: every key must fit, or the error names those that do
    not. Not strict: the keys that fit are loaded and the others keep their initialisation
    (fine-tuning x4 from x2 weights re-initialises the upsampling layer); the report says
    which keys were loaded, skipped and why. A file that does not exist is named, with where
    to get it when it is a release of the model zoo (pretrained/zoo.yml)."""
    if not Path(path).is_file():
        raise FileNotFoundError(missing_weights_message(path))
    state = inference_state_dict(read_checkpoint(path))
    return (load_state_strict if strict else load_state_partial)(net, state, path)
