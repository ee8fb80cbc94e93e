"""What several commands share: building the network a config names, with its weights."""

from __future__ import annotations

import sys

import torch
from torch import nn


def build_net(cfg, weights: str | None, device: torch.device) -> nn.Module:
    """The model's inference network with ``weights`` (or the config's), in eval mode."""
    from vsr.engine.checkpoint import load_weights
    from vsr.registry import MODELS

    net = MODELS.build(cfg.model).net
    path = weights or cfg.weights
    if path:
        load_weights(net, path)
    elif any(True for _ in net.parameters()):
        print(f"warning: {type(net).__name__} has parameters but no weights were given "
              f"(--weights or weights=...): running its initialisation", file=sys.stderr)
    return net.to(device).eval()
