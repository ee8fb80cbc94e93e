"""What a model is to the engine: networks, which optimizer owns which parameters, and what one
training step computes. Loops, devices, AMP, gradient sync and checkpoints belong to the engine.
"""

from __future__ import annotations

from typing import Protocol

from torch import Tensor, nn


class StepContext(Protocol):
    """Handed to ``training_step`` by the Trainer."""

    iteration: int

    def optimize(self, optimizer: str, loss: Tensor) -> None:
        """Backward ``loss`` and step optimizer ``optimizer`` (AMP scaling, gradient all-reduce
        across ranks, clipping and zeroing included). A model with several optimizers (GANs)
        calls it once per optimizer it decides to step."""


class VSRModel(nn.Module):
    """Base of every model. ``net`` is the network used for inference, validation and EMA."""

    net: nn.Module

    def optimizer_params(self) -> dict[str, list[tuple[str, nn.Parameter]]]:
        """Named trainable parameters per optimizer name (the keys of ``train.optimizers``)."""
        raise NotImplementedError

    def training_step(self, batch: dict[str, Tensor], ctx: StepContext) -> dict[str, float]:
        """Compute losses, call ``ctx.optimize`` for each optimizer; return scalars to log."""
        raise NotImplementedError
