"""VGG19 feature loss of TecoGAN (MODELS.md §3.3): 1 − mean cosine similarity over channels of
relu2_2, relu3_4, relu4_4, relu5_4 (torchvision ``features`` indices 8, 17, 26, 35), summed.
VGG19 is written here in pure PyTorch with torchvision's key layout (``features.<i>.*``); its
ImageNet weights come from a local file named in the config, never downloaded."""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.archs.pretrained import freeze
from vsr.config.schema import LocalFile
from vsr.io.weights import foreign_state_dict, load_state_strict, read_weights_file
from vsr.registry import LOSSES

VGG19_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
             512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
VGGFile = Annotated[str | None, LocalFile("VGG19 ImageNet weights (torchvision layout)")]


def vgg19_features(last: int) -> nn.Sequential:
    """torchvision's ``vgg19().features`` up to index ``last`` (ReLUs not in place)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG19_CFG:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
            channels = item
    return nn.Sequential(*layers[:last + 1])


@LOSSES.register("VGGFeatureLoss")
class VGGFeatureLoss(nn.Module):
    """weight · Σ_l (1 − mean cos(f_l(sr), f_l(gt))) on ImageNet-normalised [0,1] frames.
    ``weights`` None keeps the seeded initialisation (tests only: not a perceptual loss)."""

    def __init__(self, weights: VGGFile = None, layers: tuple[int, ...] = (8, 17, 26, 35),
                 weight: float = 0.2, eps: float = 1e-8) -> None:
        super().__init__()
        self.layers = tuple(sorted(layers))
        self.weight = weight
        self.eps = eps
        self.features = vgg19_features(self.layers[-1])
        if weights is not None:
            state = foreign_state_dict(read_weights_file(weights))
            keys = set(self.features.state_dict())
            state = {k[len("features."):]: v for k, v in state.items()
                     if k.startswith("features.") and k[len("features."):] in keys}
            load_state_strict(self.features, state, weights)
        freeze(self.features)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def extract(self, x: Tensor) -> list[Tensor]:
        out, feats = (x - self.mean) / self.std, []
        for i, layer in enumerate(self.features):
            out = layer(out)
            if i in self.layers:
                feats.append(out)
        return feats

    def forward(self, sr: Tensor, gt: Tensor) -> Tensor:
        sr, gt = sr.flatten(0, -4), gt.flatten(0, -4)
        with torch.no_grad():
            targets = self.extract(gt)
        total = sr.new_zeros(())
        for a, b in zip(self.extract(sr), targets):
            total = total + 1.0 - F.cosine_similarity(a, b, dim=1, eps=self.eps).mean()
        return self.weight * total
