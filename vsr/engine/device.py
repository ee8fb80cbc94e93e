"""Which torch device a run uses; its own module so that asking for a device imports nothing else
of the engine."""

from __future__ import annotations

import torch

from vsr.errors import DeviceError


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` takes CUDA when present; ``cuda`` without a CUDA device is an error."""
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise DeviceError("device 'cuda' was requested (--device or the config's 'device') but "
                              "torch sees no CUDA device here; use cpu, or auto")
        return torch.device("cuda", local_rank)
    return torch.device("cpu")
