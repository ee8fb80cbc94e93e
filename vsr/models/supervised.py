"""Supervised VSR: one network, one pixel loss, one optimizer. Serves ELSR, RRN, FRVSR
pre-training and any arch whose training is SR-vs-GT regression."""

from __future__ import annotations

from typing import Annotated

import torch
from torch import Tensor, nn

from vsr.models.base import StepContext, VSRModel
from vsr.models.clip import ClipRunner
from vsr.registry import ARCHS, LOSSES, MODELS


@MODELS.register("SupervisedVSR")
class SupervisedVSR(VSRModel):
    """``mirror_sequence``: each training clip (LR and GT) is followed by its reverse, so a
    7-frame septuplet trains a 14-frame recurrence (KAIR's Vimeo-90K recipe for RVRT/VRT)."""

    def __init__(
        self,
        arch: Annotated[dict, ARCHS],
        loss: Annotated[dict, LOSSES] | None = None,
        mirror_sequence: bool = False,
    ) -> None:
        super().__init__()
        self.mirror_sequence = mirror_sequence
        self.net = ARCHS.build(arch)
        # not a registered submodule: its weights are ``net``'s, saved once under ``net.``
        object.__setattr__(self, "generator", ClipRunner(self.net))
        self.loss = LOSSES.build(loss or {"type": "L1Loss"})

    def trainable(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def training_step(self, batch: dict[str, Tensor], ctx: StepContext) -> dict[str, float]:
        lr, gt = batch["lr"], batch["gt"]
        if self.mirror_sequence:
            lr, gt = torch.cat([lr, lr.flip(1)], 1), torch.cat([gt, gt.flip(1)], 1)
        sr, _ = ctx.nets["generator"](lr, batch.get("conditions"))
        loss = self.loss(sr, self.generator.targets(gt))
        ctx.optimize("generator", loss)
        return {"loss": loss.item()}
