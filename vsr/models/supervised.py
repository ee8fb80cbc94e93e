"""Supervised VSR: one network, one pixel loss, one optimizer. Serves ELSR, RRN, FRVSR
pre-training and any arch whose training is SR-vs-GT regression."""

from __future__ import annotations

from typing import Annotated

from torch import Tensor, nn

from vsr.archs.sequence import run_clip
from vsr.models.base import StepContext, VSRModel
from vsr.registry import ARCHS, LOSSES, MODELS


@MODELS.register("SupervisedVSR")
class SupervisedVSR(VSRModel):
    def __init__(
        self,
        arch: Annotated[dict, ARCHS],
        loss: Annotated[dict, LOSSES] | None = None,
    ) -> None:
        super().__init__()
        self.net = ARCHS.build(arch)
        self.loss = LOSSES.build(loss or {"type": "L1Loss"})

    def optimizer_params(self) -> dict[str, list[tuple[str, nn.Parameter]]]:
        return {"generator": [(n, p) for n, p in self.net.named_parameters() if p.requires_grad]}

    def training_step(self, batch: dict[str, Tensor], ctx: StepContext) -> dict[str, float]:
        sr = run_clip(self.net, batch["lr"])
        loss = self.loss(sr, batch["gt"])
        ctx.optimize("generator", loss)
        return {"loss": loss.item()}
