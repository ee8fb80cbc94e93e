"""ELSR (Xu et al., arXiv 2208.14600): a ~3.5 K-parameter single-frame network, laid out as the
ELSR-torch reimplementation so its checkpoints load unchanged (MODELS.md §5.2)."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F

from vsr.registry import ARCHS


class _ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.prelu = nn.PReLU()  # one slope shared by all channels, as in the original
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.prelu(self.conv1(x)))


@ARCHS.register("ELSR")
class ELSR(nn.Module):
    """conv 3→6, one residual block, conv 6→3·s², pixel shuffle; no bicubic residual, no clamp."""

    temporal = "frame"

    def __init__(self, scale: int = 4, channels: int = 6) -> None:
        super().__init__()
        self.scale = scale
        self.layer1 = nn.Conv2d(3, channels, 3, padding=1)
        self.layer2_4 = _ResBlock(channels)
        self.layer5 = nn.Conv2d(channels, 3 * scale * scale, 3, padding=1)
        for conv in (self.layer1, self.layer2_4.conv1, self.layer2_4.conv2):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        nn.init.normal_(self.layer5.weight, std=0.001)
        nn.init.zeros_(self.layer5.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(self.layer5(self.layer2_4(self.layer1(x))), self.scale)
