"""Exponential moving average of a network's weights, used for validation and saved.

Frozen pretrained parts (``vsr.archs.pretrained``) are shared with the network, not copied:
they never change, so averaging them would only double their memory and their checkpoint size.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from vsr.archs.pretrained import frozen_prefixes, is_frozen, is_frozen_key


class EMA:
    def __init__(self, net: nn.Module, decay: float, start_iter: int = 0) -> None:
        self.decay = decay
        self.start_iter = start_iter
        shared = {id(m): m for m in net.modules() if is_frozen(m)}
        self.net = copy.deepcopy(net, memo=shared).eval().requires_grad_(False)
        self._frozen = frozen_prefixes(net)

    @torch.no_grad()
    def update(self, net: nn.Module, iteration: int) -> None:
        """Before ``start_iter`` the average tracks the weights exactly."""
        decay = self.decay if iteration >= self.start_iter else 0.0
        source = net.state_dict()
        for key, value in self.state_dict().items():
            if value.dtype.is_floating_point:
                value.mul_(decay).add_(source[key].detach(), alpha=1 - decay)
            else:
                value.copy_(source[key])

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged entries only (frozen parts are the network's own)."""
        return {k: v for k, v in self.net.state_dict().items()
                if not is_frozen_key(k, self._frozen)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        own = self.state_dict()
        if set(state) != set(own):
            raise ValueError(f"EMA state does not fit: missing {sorted(set(own) - set(state))[:8]}"
                             f", unexpected {sorted(set(state) - set(own))[:8]}")
        for key, value in state.items():
            own[key].copy_(value)
