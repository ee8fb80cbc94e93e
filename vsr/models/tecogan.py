"""FRVSR and TecoGAN training (MODELS.md §3.3–3.4). ``FRVSRModel``: FRNet with a pixel and a
warping loss on its LR flow. ``TecoGANModel`` adds the ping-pong clip, the VGG feature loss and
the spatio-temporal discriminator, stepped only while TecoGAN's adaptive criterion is below its
threshold (decided alike on every rank)."""

from __future__ import annotations

from typing import Annotated

import torch
from torch import Tensor, nn

from vsr.archs.tecogan_disc import pingpong_triplet_flows, triplet_flows
from vsr.losses.tecogan import adaptive_distance, pingpong
from vsr.models.base import StepContext, VSRModel
from vsr.models.clip import ClipRunner
from vsr.registry import ARCHS, LOSSES, MODELS


@MODELS.register("FRVSRModel")
class FRVSRModel(VSRModel):
    """Generator loss = pixel(sr, gt) + warping(lr, lr_flow)."""

    def __init__(self, arch: Annotated[dict, ARCHS],
                 pixel: Annotated[dict, LOSSES] | None = None,
                 warping: Annotated[dict, LOSSES] | None = None) -> None:
        super().__init__()
        self.net = ARCHS.build(arch)
        object.__setattr__(self, "generator", ClipRunner(self.net))
        self.pixel = LOSSES.build(pixel or {"type": "CharbonnierLoss", "eps": 1e-6})
        self.warping = LOSSES.build(warping or {"type": "WarpingLoss"})

    def trainable(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def generator_losses(self, lr: Tensor, gt: Tensor, sr: Tensor,
                         extras: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"l_pix": self.pixel(sr, gt), "l_warp": self.warping(lr, extras["lr_flow"])}

    def training_step(self, batch: dict[str, Tensor], ctx: StepContext) -> dict[str, float]:
        lr, gt = batch["lr"], batch["gt"]
        sr, extras = ctx.nets["generator"](lr)
        losses = self.generator_losses(lr, gt, sr, extras)
        loss = sum(losses.values())
        ctx.optimize("generator", loss)
        return {"loss": loss.item(), **{k: v.item() for k, v in losses.items()}}


class RealFakePair(nn.Module):
    """The discriminator on the real and on the detached fake clip in one ``forward`` (separate
    BatchNorm batches, as TecoGAN; one forward so DistributedDataParallel sees one pass)."""

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator

    def forward(self, real: Tensor, fake: Tensor, lr: Tensor,
                flows: Tensor) -> tuple[Tensor, Tensor]:
        return (self.discriminator(real, lr, flows)[0],
                self.discriminator(fake, lr, flows)[0])


@MODELS.register("TecoGANModel")
class TecoGANModel(FRVSRModel):
    """Per iteration: the clip is made ping-pong (T → 2T−1), D is stepped on real vs detached
    fake triplets if ``mean log σ(D(real)) − mean log σ(D(fake)) < d_update_threshold`` (None:
    always), then G on pixel + warping + feature + ping-pong + GAN. ``d_updates`` (a buffer,
    checkpointed) counts D's steps."""

    def __init__(self, arch: Annotated[dict, ARCHS], discriminator: Annotated[dict, ARCHS],
                 pixel: Annotated[dict, LOSSES] | None = None,
                 warping: Annotated[dict, LOSSES] | None = None,
                 feature: Annotated[dict, LOSSES] | None = None,
                 pingpong: Annotated[dict, LOSSES] | None = None,
                 gan: Annotated[dict, LOSSES] | None = None,
                 d_update_threshold: float | None = 0.4) -> None:
        super().__init__(arch, pixel, warping)
        self.discriminator = ARCHS.build(discriminator)
        object.__setattr__(self, "d_pair", RealFakePair(self.discriminator))
        self.feature = LOSSES.build(feature) if feature else None
        self.pingpong = LOSSES.build(pingpong) if pingpong else None
        self.gan = LOSSES.build(gan or {"type": "GANLoss"})
        self.d_update_threshold = d_update_threshold
        self.register_buffer("d_updates", torch.zeros((), dtype=torch.long))

    def trainable(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.d_pair}

    def should_update_d(self, distance: float, ctx: StepContext) -> bool:
        if self.d_update_threshold is None:
            return ctx.agree(True)
        return ctx.agree(distance < self.d_update_threshold)

    def training_step(self, batch: dict[str, Tensor], ctx: StepContext) -> dict[str, float]:
        lr, gt = batch["lr"], batch["gt"]
        if self.pingpong is not None:
            lr, gt = pingpong(lr), pingpong(gt)
        sr, extras = ctx.nets["generator"](lr)
        if self.pingpong is not None:
            flows = pingpong_triplet_flows(extras["hr_flow"])
        else:
            flows = triplet_flows(self.net, lr, extras["hr_flow"])
        real, fake = ctx.nets["discriminator"](gt, sr.detach(), lr, flows)
        distance = ctx.mean(adaptive_distance(real, fake))
        d_loss = self.gan.discriminator(real, fake)
        logs = {"distance": distance, "l_gan_D": d_loss.item(),
                "p_real_D": real.float().mean().item(), "p_fake_D": fake.float().mean().item()}
        if self.should_update_d(distance, ctx):
            ctx.optimize("discriminator", d_loss)
            self.d_updates += 1
        losses = self.generator_losses(lr, gt, sr, extras)
        if self.feature is not None:
            losses["l_feat"] = self.feature(sr, gt)
        if self.pingpong is not None:
            losses["l_pp"] = self.pingpong(sr)
        # through the plain D (its optimizer is not stepped by this loss), after D's update
        fake_g = self.discriminator(sr, lr, flows)[0]
        losses["l_gan_G"] = self.gan.generator(fake_g)
        loss = sum(losses.values())
        ctx.optimize("generator", loss)
        return {"loss": loss.item(), **{k: v.item() for k, v in losses.items()}, **logs,
                "total/d_updates": float(self.d_updates)}
