"""Numeric precision and memory layout of inference, applied to each model call of a stream and
nowhere else (metrics and IO stay in float32/float64 and contiguous NCHW)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16,
                                             "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    """``dtype``: fp32 (no autocast), bf16 or fp16 (``torch.autocast`` around every model call).
    ``channels_last``: parameters and 4-D frame inputs in NHWC memory format."""

    dtype: str = "fp32"
    channels_last: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, "
                             f"got {self.dtype!r}")

    def describe(self) -> dict:
        return {"precision": self.dtype, "channels_last": self.channels_last}

    def prepare(self, arch: nn.Module, device: torch.device | str) -> None:
        """Converts the arch's parameters to channels-last (in place) and checks that the device
        runs a convolution under the requested autocast dtype, so an unsupported combination
        fails once, clearly, before any frame is read."""
        if self.channels_last:
            arch.to(memory_format=torch.channels_last)
        if PRECISIONS[self.dtype] is None:
            return
        device = torch.device(device)
        probe = torch.zeros(1, 1, 3, 3, device=device)
        try:
            with self.autocast(device):
                F.conv2d(probe, probe)
        except RuntimeError as exc:
            raise ValueError(f"precision {self.dtype}: torch {torch.__version__} cannot run it "
                               f"on {device.type} ({exc})") from None

    def autocast(self, device: torch.device | str) -> AbstractContextManager:
        dtype = PRECISIONS[self.dtype]
        if dtype is None:
            return nullcontext()
        return torch.autocast(torch.device(device).type, dtype=dtype)

    def layout(self, x: object) -> object:
        """A 4-D input in the requested memory format; anything else unchanged."""
        if self.channels_last and isinstance(x, Tensor) and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x


def to_output(x: Tensor) -> Tensor:
    """An SR frame back in float32 contiguous memory on the CPU, whatever the autocast gave."""
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    return x.cpu().contiguous()
