"""FlowNetSD (the small-displacement net of FlowNet 2.0, Ilg et al., CVPR 2017) as
NVIDIA/flownet2-pytorch builds it with ``batchNorm=False``: the frozen motion estimator of NVVL's
VSRNet (MODELS.md §6.1).

The module tree (``conv0.0``, ..., ``deconv5.0``, ``inter_conv5.0``, ``predict_flow6``,
``upsampled_flow6_to_5``, ...) is the original's, so the ``state_dict`` of the released
``FlowNet2-SD_checkpoint.pth.tar`` loads strictly as it is. The encoder halves the resolution six
times, so frames must be multiples of 64 (``forward`` pads others at the bottom/right by
replication and crops the flow back). Inference returns the finest flow ``flow2`` at a quarter of
the input size, in the network's own units (NVVL divides it by 16 after a ×4 upsampling).
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.io.weights import foreign_state_dict, load_state_strict, read_weights_file

MULTIPLE = 64
"""Six stride-2 convolutions: the encoder needs frame sizes that are multiples of 64."""


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3×3 conv with bias + LeakyReLU(0.1) (flownet2 ``conv`` without BatchNorm)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=True),
                         nn.LeakyReLU(0.1, inplace=True))


def _i_conv(cin: int, cout: int) -> nn.Sequential:
    """3×3 conv with bias and no activation (flownet2 ``i_conv``)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=True))


def _deconv(cin: int, cout: int) -> nn.Sequential:
    """4×4 stride-2 transposed conv + LeakyReLU(0.1) (flownet2 ``deconv``)."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=True),
                         nn.LeakyReLU(0.1, inplace=True))


def _predict_flow(cin: int) -> nn.Conv2d:
    return nn.Conv2d(cin, 2, 3, 1, 1, bias=True)


class FlowNetSD(nn.Module):
    """Flow from the first to the second frame of a 6-channel pair (N, 6, H, W) → flow2
    (N, 2, H/4, W/4), channel 0 = x. Inputs are mean-subtracted RGB as the caller prepares them
    (NVVL: ``(rgb − per-image channel mean) / 255``)."""

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        widths = [(6, 64, 1), (64, 64, 2), (64, 128, 1), (128, 128, 2), (128, 128, 1),
                  (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1), (512, 512, 2),
                  (512, 512, 1), (512, 1024, 2), (1024, 1024, 1)]
        names = ["conv0", "conv1", "conv1_1", "conv2", "conv2_1", "conv3", "conv3_1", "conv4",
                 "conv4_1", "conv5", "conv5_1", "conv6", "conv6_1"]
        for name, (cin, cout, stride) in zip(names, widths):
            self.add_module(name, _conv(cin, cout, stride))
        self.deconv5 = _deconv(1024, 512)
        self.deconv4 = _deconv(1026, 256)
        self.deconv3 = _deconv(770, 128)
        self.deconv2 = _deconv(386, 64)
        self.inter_conv5 = _i_conv(1026, 512)
        self.inter_conv4 = _i_conv(770, 256)
        self.inter_conv3 = _i_conv(386, 128)
        self.inter_conv2 = _i_conv(194, 64)
        self.predict_flow6 = _predict_flow(1024)
        self.predict_flow5 = _predict_flow(512)
        self.predict_flow4 = _predict_flow(256)
        self.predict_flow3 = _predict_flow(128)
        self.predict_flow2 = _predict_flow(64)
        for level in ("6_to_5", "5_to_4", "4_to_3", "3_to_2"):
            self.add_module(f"upsampled_flow{level}", nn.ConvTranspose2d(2, 2, 4, 2, 1))
        if weights is not None:
            self.load_pretrained(weights)

    def load_pretrained(self, path: str | os.PathLike) -> None:
        """Weights of a release file (``FlowNet2-SD_checkpoint.pth.tar``: under ``state_dict``),
        every key required."""
        load_state_strict(self, foreign_state_dict(read_weights_file(path)), path)

    def forward(self, pair: Tensor) -> Tensor:
        if pair.dim() != 4 or pair.shape[1] != 6:
            raise ValueError(f"FlowNetSD takes a frame pair (N, 6, H, W), got {tuple(pair.shape)}")
        h, w = pair.shape[-2:]
        pad_h, pad_w = -h % MULTIPLE, -w % MULTIPLE
        if pad_h or pad_w:
            pair = F.pad(pair, (0, pad_w, 0, pad_h), mode="replicate")
        flow = self._flow2(pair)
        return flow[..., : -(-h // 4), : -(-w // 4)] if pad_h or pad_w else flow

    def _flow2(self, x: Tensor) -> Tensor:
        out_conv2 = self.conv2_1(self.conv2(self.conv1_1(self.conv1(self.conv0(x)))))
        out_conv3 = self.conv3_1(self.conv3(out_conv2))
        out_conv4 = self.conv4_1(self.conv4(out_conv3))
        out_conv5 = self.conv5_1(self.conv5(out_conv4))
        out_conv6 = self.conv6_1(self.conv6(out_conv5))
        flow = self.predict_flow6(out_conv6)
        concat = out_conv6
        stages = [(out_conv5, self.deconv5, self.upsampled_flow6_to_5, self.inter_conv5,
                   self.predict_flow5),
                  (out_conv4, self.deconv4, self.upsampled_flow5_to_4, self.inter_conv4,
                   self.predict_flow4),
                  (out_conv3, self.deconv3, self.upsampled_flow4_to_3, self.inter_conv3,
                   self.predict_flow3),
                  (out_conv2, self.deconv2, self.upsampled_flow3_to_2, self.inter_conv2,
                   self.predict_flow2)]
        for skip, deconv, up_flow, inter_conv, predict in stages:
            concat = torch.cat((skip, deconv(concat), up_flow(flow)), 1)
            flow = predict(inter_conv(concat))
        return flow
