"""The one cross-fade window over an overlap, shared by spatial tiles and temporal chunks."""

from __future__ import annotations

import torch
from torch import Tensor


def rising_weights(length: int, margin: int = 0) -> Tensor:
    """Weights of the later of two pieces over their ``length``-sample overlap: 0 on the first
    ``margin`` samples (the later piece's own border, where its padding shows), a linear ramp
    ``(k + 0.5) / m`` over the middle ``m = length - 2 * margin``, 1 on the last ``margin``.

    The earlier piece takes ``1 - w`` (equal to ``w`` reversed), so the two always sum to 1."""
    if length < 0 or margin < 0 or 2 * margin > length:
        raise ValueError(f"an overlap of {length} cannot keep a margin of {margin} on each side")
    middle = length - 2 * margin
    ramp = (torch.arange(middle, dtype=torch.float64) + 0.5) / max(middle, 1)
    return torch.cat([torch.zeros(margin, dtype=torch.float64), ramp,
                      torch.ones(margin, dtype=torch.float64)]).float()
