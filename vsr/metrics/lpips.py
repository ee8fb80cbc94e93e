"""LPIPS (AlexNet, "lin", v0.1) and TecoGAN's tLP, in pure PyTorch.

LPIPS (Zhang et al., CVPR 2018) compares unit-normalised AlexNet activations after each of its
five ReLU stages: d(x, y) = Σ_l mean_hw ‖w_l ⊙ (f̂_l(x) − f̂_l(y))‖², with inputs in [−1, 1]
shifted and scaled per channel first. Two weight files are needed and neither is downloaded: the
linear weights ``w_l`` (LPIPS's ``alex.pth``: ``lin{0..4}.model.1.weight``) and the ImageNet
AlexNet backbone in torchvision's layout (``features.{0,3,6,8,10}.{weight,bias}``, e.g.
``alexnet-owt-7be5be79.pth``). Both are config keys naming local files. The backbone's numbers
are tested here only with seeded weights (no ImageNet weights on the development machines), so
published LPIPS values need the real file.

tLP ("tLP100", TecoGAN) = 100 · |LPIPS(gt_{t−1}, gt_t) − LPIPS(sr_{t−1}, sr_t)| on the cropped
frames, valued where the previous frame was scored too.
"""

from __future__ import annotations

from typing import Annotated, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.config.schema import LocalFile
from vsr.io.color import to_uint8_grid
from vsr.io.weights import foreign_state_dict, load_state_strict, read_weights_file
from vsr.metrics.protocol import Protocol
from vsr.metrics.sequence import ConsecutivePairMetric, SequenceMetric
from vsr.registry import METRICS

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
# (out channels, kernel, stride, padding, max-pool before it) of AlexNet's five convs
ALEXNET = ((64, 11, 4, 2, False), (192, 5, 1, 2, True), (384, 3, 1, 1, True),
           (256, 3, 1, 1, False), (256, 3, 1, 1, False))
_TORCHVISION_INDEX = (0, 3, 6, 8, 10)  # features.<i> of each conv in torchvision's AlexNet

BackboneFile = Annotated[str, LocalFile("AlexNet ImageNet weights (torchvision layout)")]
LinFile = Annotated[str, LocalFile("LPIPS v0.1 linear weights (alex.pth)")]


class AlexNetLPIPS(nn.Module):
    """The LPIPS network; parameter names are torchvision's (``features.*``) and LPIPS's
    (``lin*.model.1.weight``) so both files load strictly as they are."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Module()
        channels = 3
        for index, (out, kernel, stride, pad, _) in zip(_TORCHVISION_INDEX, ALEXNET):
            self.features.add_module(str(index), nn.Conv2d(channels, out, kernel, stride, pad))
            channels = out
        for i, (out, *_rest) in enumerate(ALEXNET):
            lin = nn.Module()
            lin.model = nn.Sequential(nn.Dropout(), nn.Conv2d(out, 1, 1, bias=False))
            self.add_module(f"lin{i}", lin)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)
        self.eval()

    def activations(self, x: Tensor) -> list[Tensor]:
        x = (x - self.shift) / self.scale
        out = []
        for index, (*_spec, pool) in zip(_TORCHVISION_INDEX, ALEXNET):
            if pool:
                x = F.max_pool2d(x, 3, 2)
            x = F.relu(getattr(self.features, str(index))(x))
            out.append(x)
        return out

    @torch.no_grad()
    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Distance per image of (N, 3, H, W) batches in [−1, 1]."""
        total = 0
        for i, (a, b) in enumerate(zip(self.activations(x), self.activations(y))):
            a = a / (a.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            b = b / (b.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            total = total + getattr(self, f"lin{i}").model((a - b) ** 2).mean(dim=(2, 3))
        return total.flatten()

    @classmethod
    def from_files(cls, backbone: str, lin: str) -> AlexNetLPIPS:
        net = cls()
        state = {k: v for k, v in foreign_state_dict(read_weights_file(backbone)).items()
                 if k.startswith("features.")}  # torchvision's file also holds the classifier
        state.update(foreign_state_dict(read_weights_file(lin)))
        load_state_strict(net, state, f"{backbone} + {lin}")
        return net.eval()


class _LPIPSMetric:
    """Shared set-up: the network and the protocol's uint8 rounding and crop (RGB only)."""

    kwargs_schema = Protocol

    def __init__(self, backbone: BackboneFile, lin: LinFile, protocol: Protocol | None = None,
                 **protocol_kwargs: Any) -> None:
        self.protocol = protocol if protocol is not None else Protocol(
            **{"channel": "rgb", **protocol_kwargs})
        if self.protocol.channel != "rgb":
            raise ValueError("LPIPS compares RGB frames: channel must be 'rgb'")
        self.net = AlexNetLPIPS.from_files(backbone, lin)

    def prepared(self, frame: Tensor) -> Tensor:
        """A (3, H, W) frame in [0, 1] as LPIPS's input: optionally on the uint8 grid (what a
        saved PNG holds), cropped, in [−1, 1]."""
        x = frame.detach().to("cpu", torch.float64)
        x = to_uint8_grid(x) / 255 if self.protocol.round_to_8bit else x
        return (self.protocol.crop(x) * 2 - 1).float()[None]

    def distance(self, a: Tensor, b: Tensor) -> float:
        return float(self.net(self.prepared(a), self.prepared(b))[0])


@METRICS.register("LPIPS")
class LPIPS(_LPIPSMetric, SequenceMetric):
    """LPIPS between each output frame and its GT (lower is better)."""

    def frame(self, sr: Tensor, gt: Tensor, prev_sr: Tensor | None, prev_gt: Tensor | None,
              **conditions: Any) -> float:
        return self.distance(sr, gt)


@METRICS.register("tLP")
class TLP(_LPIPSMetric, ConsecutivePairMetric):
    """100 · |LPIPS(gt_{t−1}, gt_t) − LPIPS(sr_{t−1}, sr_t)| (lower is better)."""

    def pair(self, prev_sr: Tensor, sr: Tensor, prev_gt: Tensor, gt: Tensor) -> float:
        return 100 * abs(self.distance(prev_gt, gt) - self.distance(prev_sr, sr))
