"""Reading weight files safely (tensors only, never pickled code) and fitting them to a network
strictly, for every layer that loads weights: archs (frozen pretrained parts such as FlowNet2-SD
or SpyNet) and the engine (checkpoints, released models)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vsr.errors import CheckpointError

_FOREIGN_WRAPPERS = ("state_dict", "params", "model")


def read_weights_file(path: str | os.PathLike) -> dict:
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


def foreign_state_dict(ckpt: Mapping[str, Any]) -> dict:
    """The state dict of a file another code base saved: unwrapped from a key such as
    ``state_dict`` (PyTorch tools, FlowNet2's ``.pth.tar``), ``params`` (BasicSR, KAIR) or
    ``model``, and without the ``module.`` prefix of ``nn.DataParallel``."""
    for wrapper in _FOREIGN_WRAPPERS:
        if isinstance(ckpt.get(wrapper), Mapping):
            ckpt = ckpt[wrapper]
            break
    return {key.removeprefix("module."): value for key, value in ckpt.items()}


@dataclass(frozen=True)
class LoadReport:
    """How a state dict met a network: the keys loaded, and those skipped with why. Skipped
    network keys keep their initialisation (a head whose shape changed, x2 -> x4)."""

    source: str
    loaded: tuple[str, ...]
    missing: tuple[str, ...]  # in the network, not in the file: left at their initialisation
    unexpected: tuple[str, ...]  # in the file, not in the network: ignored
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]  # key, file, network

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def lines(self) -> list[str]:
        """The report as log lines, one per kind of key."""
        out = [f"weights {self.source}: loaded {len(self.loaded)} keys {list(self.loaded)}"]
        if self.mismatched:
            out.append("skipped (shape mismatch, kept at initialisation): " + ", ".join(
                f"{k} file {file} vs model {own}" for k, file, own in self.mismatched))
        if self.missing:
            out.append(f"skipped (not in the file, kept at initialisation): {list(self.missing)}")
        if self.unexpected:
            out.append(f"skipped (not in the model, ignored): {list(self.unexpected)}")
        return out


def compare_state(net: nn.Module, state: Mapping[str, torch.Tensor],
                  source: str | os.PathLike) -> LoadReport:
    """Which keys of ``state`` fit ``net`` (same name and shape) and which do not."""
    own = net.state_dict()
    shared = set(own) & set(state)
    mismatched = tuple((k, tuple(state[k].shape), tuple(own[k].shape))
                       for k in sorted(shared) if own[k].shape != state[k].shape)
    wrong = {k for k, _, _ in mismatched}
    return LoadReport(source=str(source),
                      loaded=tuple(k for k in own if k in shared and k not in wrong),
                      missing=tuple(sorted(set(own) - set(state))),
                      unexpected=tuple(sorted(set(state) - set(own))),
                      mismatched=mismatched)


def load_state_partial(net: nn.Module, state: Mapping[str, torch.Tensor],
                       source: str | os.PathLike) -> LoadReport:
    """Load the keys of ``state`` that fit ``net``; the others keep their initialisation. For
    fine-tuning from another configuration's weights; the report says what was skipped."""
    report = compare_state(net, state, source)
    if not report.loaded:
        raise CheckpointError(f"weights {source} share no key of the same shape with "
                              f"{type(net).__name__}: " + "; ".join(report.lines()[1:]))
    net.load_state_dict({k: state[k] for k in report.loaded}, strict=False)
    return report


def load_state_strict(net: nn.Module, state: Mapping[str, torch.Tensor],
                      source: str | os.PathLike) -> LoadReport:
    """Load ``state`` into ``net``, naming missing and unexpected keys and shape mismatches."""
    report = compare_state(net, state, source)
    if not report.complete:
        missing, unexpected = list(report.missing), list(report.unexpected)
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:8]}{'…' if len(missing) > 8 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:8]}{'…' if len(unexpected) > 8 else ''}")
        if report.mismatched:
            parts.append("shape mismatch " + ", ".join(
                f"{k}: file {file} vs model {own}" for k, file, own in report.mismatched[:4]))
        raise ValueError(f"weights {source} do not fit {type(net).__name__}: " + "; ".join(parts))
    net.load_state_dict(state)
    return report
