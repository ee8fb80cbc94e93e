"""A small two-network model (generator and discriminator, BatchNorm in both, discriminator
stepped only while a criterion on its outputs is below a threshold), registered for the trainer
tests and imported by their subprocess driver."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vsr.models.base import VSRModel
from vsr.models.clip import ClipRunner
from vsr.registry import ARCHS, MODELS


@ARCHS.register("ToyBNNet")
class ToyBNNet(nn.Module):
    """conv → BatchNorm → ReLU → conv → pixel shuffle, plus a nearest-upsampled skip."""

    temporal = "frame"

    def __init__(self, scale: int = 4, channels: int = 8) -> None:
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.BatchNorm2d(channels),
                                  nn.ReLU(), nn.Conv2d(channels, 3 * scale * scale, 3, padding=1))

    def forward(self, x):
        skip = F.interpolate(x, scale_factor=self.scale, mode="nearest")
        return skip + F.pixel_shuffle(self.body(x), self.scale)


class ToyDiscriminator(nn.Module):
    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, channels, 3, stride=2, padding=1),
                                  nn.BatchNorm2d(channels), nn.LeakyReLU(0.2),
                                  nn.Conv2d(channels, 1, 3, stride=2, padding=1))

    def forward(self, frames):
        return self.body(frames).mean(dim=(1, 2, 3))


@MODELS.register("ToyGAN")
class ToyGAN(VSRModel):
    def __init__(self, arch: dict, threshold: float = 0.0, adv_weight: float = 0.05) -> None:
        super().__init__()
        self.net = ARCHS.build(arch)
        object.__setattr__(self, "generator", ClipRunner(self.net))
        self.discriminator = ToyDiscriminator()
        self.threshold = threshold
        self.adv_weight = adv_weight
        self.last_fake = None

    def trainable(self):
        return {"generator": self.generator, "discriminator": self.discriminator}

    def discriminator_loss(self, net, real, fake):
        scores = net(torch.cat([real, fake]))
        n = real.shape[0]
        return F.softplus(-scores[:n]).mean() + F.softplus(scores[n:]).mean(), scores

    def training_step(self, batch, ctx):
        sr, _ = ctx.nets["generator"](batch["lr"])
        gt = batch["gt"]
        adversarial = F.softplus(-self.discriminator(sr.flatten(0, 1))).mean()
        g_loss = F.l1_loss(sr, gt) + self.adv_weight * adversarial
        ctx.optimize("generator", g_loss)
        real, fake = gt.flatten(0, 1), sr.detach().flatten(0, 1)
        self.last_fake = fake
        d_loss, scores = self.discriminator_loss(ctx.nets["discriminator"], real, fake)
        n = real.shape[0]
        margin = ctx.mean((scores[:n].mean() - scores[n:].mean()).item())
        if ctx.agree(margin < self.threshold):
            ctx.optimize("discriminator", d_loss)
        return {"loss": g_loss.item(), "d_loss": d_loss.item(), "margin": margin}
