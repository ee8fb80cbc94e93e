"""Exponential moving average of a network's weights, used for validation and saved."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, net: nn.Module, decay: float, start_iter: int = 0) -> None:
        self.decay = decay
        self.start_iter = start_iter
        self.net = copy.deepcopy(net).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, net: nn.Module, iteration: int) -> None:
        """Before ``start_iter`` the average tracks the weights exactly."""
        decay = self.decay if iteration >= self.start_iter else 0.0
        source = net.state_dict()
        for key, value in self.net.state_dict().items():
            if value.dtype.is_floating_point:
                value.mul_(decay).add_(source[key].detach(), alpha=1 - decay)
            else:
                value.copy_(source[key])
