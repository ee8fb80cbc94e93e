"""Checkpoints: atomic writes, keep-last-N and best-by-metric, exact resume, and loading weights
(ours or an original release's key layout) into an inference network."""

from __future__ import annotations

import io
import os
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vsr.errors import CheckpointError
from vsr.io.image import atomic_write_bytes

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
    """The file's contents, loaded with ``weights_only=True`` and never otherwise: a file that
    needs more than tensors and plain containers is refused, not unpickled."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's message would advise weights_only=False: we never do
        problem = _load_problem(exc)
        raise CheckpointError(f"{path} is not a readable checkpoint: {problem}") from None
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"{path} is not a readable checkpoint: it holds a "
                              f"{type(ckpt).__name__}, not a mapping of weights")
    return ckpt


def _load_problem(exc: Exception) -> str:
    """What was wrong with the file, from torch's message, without its advice."""
    text = str(exc)
    unsafe = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if unsafe and not unsafe[1].startswith("torch."):  # torch's own are allowed: a cut-off name
        return (f"it holds a Python object ({unsafe[1]}) beyond tensors and plain containers, "
                "which is not loaded since loading it could run code")
    detail = re.search(r"WeightsUnpickler error: ([^\n]+)", text)
    first = detail[1] if detail else (text.strip().splitlines() or [type(exc).__name__])[0]
    return f"truncated or corrupt ({first.split('. ')[0].rstrip('.')})"


_FOREIGN_WRAPPERS = ("state_dict", "params", "model")


def foreign_state_dict(ckpt: Mapping[str, Any]) -> dict:
    """The state dict of a file another code base saved: unwrapped from a key such as
    ``state_dict`` (PyTorch tools), ``params`` (BasicSR) or ``model``, and without the
    ``module.`` prefix of ``nn.DataParallel`` (e.g. the RRN and FOCAS releases)."""
    for wrapper in _FOREIGN_WRAPPERS:
        if isinstance(ckpt.get(wrapper), Mapping):
            ckpt = ckpt[wrapper]
            break
    return {key.removeprefix("module."): value for key, value in ckpt.items()}


def inference_state_dict(ckpt: dict) -> dict:
    """The weights to run: EMA weights of our checkpoints when present, else the network's;
    a foreign file unwrapped by ``foreign_state_dict`` (the archs keep the original key names,
    so released files need nothing more)."""
    if ckpt.get(MARKER):
        if ckpt.get("ema") is not None:
            return ckpt["ema"]
        return {k[len("net."):]: v for k, v in ckpt["model"].items() if k.startswith("net.")}
    return foreign_state_dict(ckpt)


def load_weights(net: nn.Module, path: str | os.PathLike) -> None:
    """Load weights strictly into ``net``, naming missing and unexpected keys on mismatch."""
    state = inference_state_dict(read_checkpoint(path))
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:8]}{'…' if len(missing) > 8 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:8]}{'…' if len(unexpected) > 8 else ''}")
        if wrong:
            parts.append("shape mismatch " + ", ".join(
                f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                for k in wrong[:4]))
        raise ValueError(f"weights {path} do not fit {type(net).__name__}: " + "; ".join(parts))
    net.load_state_dict(state)
