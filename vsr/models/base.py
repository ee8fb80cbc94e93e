"""What a model is to the engine: its networks, which optimizer trains which network, and what
one training step computes. Loops over iterations, devices, AMP, DistributedDataParallel,
gradient isolation and checkpoints belong to the engine.

A model lists its trainable networks by optimizer name (``trainable``). Each is an ``nn.Module``
whose ``forward`` computes everything one optimizer's loss needs from it — for a recurrent
generator the whole training clip (``vsr.models.clip.ClipRunner``), so the recurrent steps run
inside one forward and the engine can wrap the network in ``DistributedDataParallel``. In
``training_step`` the model calls ``ctx.nets[name](...)`` for a forward whose loss ``name``'s
optimizer will step (the wrapped network: gradients synchronised), and the plain module
(``self.trainable()[name]`` or its own attribute) when another optimizer's loss only passes
through it (TecoGAN's generator loss through the discriminator). ``ctx.optimize(name, loss)``
updates ``name``'s parameters only: no gradient of one loss reaches another optimizer's step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from torch import Tensor, nn


class StepContext(Protocol):
    """Handed to ``training_step`` by the Trainer."""

    iteration: int
    nets: Mapping[str, nn.Module]  # the trainable networks as the engine runs them (DDP)

    def optimize(self, optimizer: str, loss: Tensor) -> None:
        """Backward ``loss`` into the parameters of optimizer ``optimizer`` only and step it (AMP
        scaling, gradient synchronisation, clipping and zeroing included). A model with several
        optimizers calls it once per optimizer it decides to step."""

    def agree(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on every rank: use it for any decision that
        changes which optimizers step (which collectives run)."""

    def mean(self, value: float) -> float:
        """``value`` averaged over ranks (a criterion computed on the global batch)."""


class VSRModel(nn.Module):
    """Base of every model. ``net`` is the network used for inference, validation and EMA."""

    net: nn.Module

    def trainable(self) -> dict[str, nn.Module]:
        """The network each optimizer trains, by optimizer name (the keys of
        ``train.optimizers``); its parameters with ``requires_grad`` are the optimizer's."""
        raise NotImplementedError

    def training_step(self, batch: dict[str, Tensor], ctx: StepContext) -> dict[str, float]:
        """Compute losses, call ``ctx.optimize`` for each optimizer; return scalars to log."""
        raise NotImplementedError
