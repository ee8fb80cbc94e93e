"""RVRT, the Recurrent Video Restoration Transformer of Liang et al. (NeurIPS 2022), for ×4 VSR.

The video is cut into clips of two frames. Shallow features come from a Swin-3D stage; four
passes (backward_1, forward_1, backward_2, forward_2) then carry a clip feature through the
sequence: the previous clip's propagated feature is aligned to the current clip by guided
deformable attention (offsets = optical flow from SpyNet + a learned residual), concatenated with
every earlier branch and refined by a Swin-3D backbone. A Swin-3D reconstruction, a pixel-shuffle
upsampler and a bilinear skip give the HR clip. Module names and the state-dict layout are the
original's (``JingyunLiang/RVRT`` ``models/network_rvrt.py``), so the released checkpoints
(weights under ``params``) load strictly; the CUDA ``deform_attn`` op is replaced by
``vsr.archs.ops.deform_attn``.
"""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsr.archs.base import TemporalMode
from vsr.archs.ops.deform_attn import deform_attn
from vsr.archs.ops.flow_warp import flow_warp
from vsr.archs.ops.spynet import SpyNet
from vsr.archs.ops.swin3d import Mlp, Permute, RSTBWithInputConv
from vsr.config.schema import LocalFile
from vsr.registry import ARCHS

PASSES = ("backward_1", "forward_1", "backward_2", "forward_2")
CLIP_SIZE = 2


def channels_last_linear(dim_in: int, dim_out: int) -> nn.Sequential:
    """A Linear over the channels of (N, T, C, H, W), indexed like the original (``.1``)."""
    return nn.Sequential(Permute(0, 1, 3, 4, 2), nn.Linear(dim_in, dim_out),
                         Permute(0, 1, 4, 2, 3))


class GuidedDeformAttnPack(nn.Module):
    """Aligns the previous clip's propagated feature ``v`` to the current clip ``q``.

    Offsets for each frame of the current clip toward each frame of the previous clip are
    ``max_residue · tanh(conv_offset(...))`` plus the guiding flow; keys come from the previous
    clip of the earlier pass (``k``), values from ``v``, and the result is projected back and
    refined by an MLP residual.
    """

    def __init__(self, dim: int = 144, heads: int = 12, groups: int = 12,
                 window: tuple[int, int] = (3, 3), max_residue: float = 10.0) -> None:
        super().__init__()
        self.heads, self.groups, self.window = heads, groups, tuple(window)
        self.max_residue = max_residue
        self.points = self.window[0] * self.window[1]
        proj = 2 * dim
        # registration order = the original's state-dict order
        self.proj_q = channels_last_linear(dim, proj)
        self.proj_k = channels_last_linear(dim, proj)
        self.proj_v = channels_last_linear(dim, proj)
        self.mlp = nn.Sequential(Permute(0, 1, 3, 4, 2), Mlp(dim, 2 * dim),
                                 Permute(0, 1, 4, 2, 3))
        hidden = 64
        layers: list[nn.Module] = [nn.Conv3d(dim * (1 + CLIP_SIZE) + 2 * CLIP_SIZE, hidden, 1)]
        for _ in range(4):
            layers += [nn.LeakyReLU(0.1), nn.Conv3d(hidden, hidden, (1, 3, 3), padding=(0, 1, 1))]
        layers += [nn.LeakyReLU(0.1),
                   nn.Conv3d(hidden, CLIP_SIZE * groups * self.points * 2, 1)]
        self.conv_offset = nn.Sequential(*layers)
        nn.init.zeros_(self.conv_offset[-1].weight)
        nn.init.zeros_(self.conv_offset[-1].bias)
        self.proj = channels_last_linear(proj, dim)

    def offsets(self, q: Tensor, warped: list[Tensor], flows: list[Tensor]) -> list[Tensor]:
        """Per previous-clip slot, (N, T, groups·points·2, H, W) offsets in (y, x) pairs."""
        x = torch.cat([q, *warped, *flows], 2).transpose(1, 2)
        residue = self.max_residue * torch.tanh(self.conv_offset(x).transpose(1, 2))
        per_slot = residue.chunk(CLIP_SIZE, dim=2)
        return [r + f.flip(2).repeat(1, 1, self.groups * self.points, 1, 1)
                for r, f in zip(per_slot, flows)]

    def forward(self, q: Tensor, k: Tensor, v: Tensor, warped: list[Tensor],
                flows: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """The aligned feature (N, T, C, H, W) and, per slot, the mean offset as an updated flow
        (N, T, 2, H, W), x first. Slot n of query frame j reads previous frame (j + n) mod 2."""
        offsets = self.offsets(q, warped, flows)
        n, t, _, h, w = q.shape
        queries = self.proj_q(q).flatten(0, 1)
        kv = torch.cat([self.proj_k(k), self.proj_v(v)], 2)
        per_query = torch.stack([kv[:, [(j + s) % CLIP_SIZE for s in range(CLIP_SIZE)]]
                                 for j in range(t)], 1).flatten(0, 1)
        out = deform_attn(queries, per_query, torch.cat(offsets, 2).flatten(0, 1), self.heads,
                          self.groups, self.window).view(n, t, -1, h, w)
        out = self.proj(out)
        out = out + self.mlp(out)
        updated = [o.view(n, t, -1, 2, h, w).mean(2).flip(2) for o in offsets]
        return out, updated


class Upsample(nn.Sequential):
    """×4 on (N, C, T, H, W): two [Conv3d 1×3×3 → ×2 pixel shuffle → LeakyReLU] then a Conv3d."""

    def __init__(self, num_feat: int = 64) -> None:
        layers: list[nn.Module] = []
        for _ in range(2):
            layers += [nn.Conv3d(num_feat, 4 * num_feat, (1, 3, 3), padding=(0, 1, 1)),
                       Permute(0, 2, 1, 3, 4), nn.PixelShuffle(2), Permute(0, 2, 1, 3, 4),
                       nn.LeakyReLU(0.1)]
        layers.append(nn.Conv3d(num_feat, num_feat, (1, 3, 3), padding=(0, 1, 1)))
        super().__init__(*layers)


@ARCHS.register("RVRT")
class RVRT(nn.Module):
    """RVRT ×4 (official configuration by default); (N, T, 3, H, W) → (N, T, 3, 4H, 4W).

    An odd clip is completed with its last frame (the tail mirrored) and that output dropped.
    ``spynet_path`` loads pretrained SpyNet weights for training from scratch (a released RVRT
    checkpoint holds its own). ``use_checkpoint_ffn`` recomputes the Swin MLPs of the
    propagation backbones in the backward pass to save memory.
    """

    temporal: TemporalMode = "clip"

    def __init__(self, scale: int = 4, embed_dim: int = 144, num_heads: int = 6,
                 window_size: tuple[int, int, int] = (2, 8, 8),
                 num_blocks: tuple[int, int, int] = (1, 2, 1),
                 depths: tuple[int, int, int] = (2, 2, 2), mlp_ratio: float = 2.0,
                 deformable_groups: int = 12, attention_heads: int = 12,
                 attention_window: tuple[int, int] = (3, 3), max_residue_magnitude: float = 10.0,
                 spynet_path: Annotated[str | None, LocalFile(
                     "pretrained SpyNet weights (spynet_sintel_final-3d2a1287.pth)")] = None,
                 use_checkpoint_ffn: bool = False) -> None:
        super().__init__()
        if scale != 4:
            raise ValueError(f"RVRT is defined for x4 VSR, got scale {scale}")
        self.scale = scale
        dim = embed_dim
        frame_window = (1, window_size[1], window_size[2])
        self.spynet = SpyNet(spynet_path)
        self.feat_extract = RSTBWithInputConv(3, dim, num_blocks[0], depths[0], num_heads,
                                              frame_window, mlp_ratio)
        self.backbone = nn.ModuleDict()
        self.deform_align = nn.ModuleDict()
        for i, name in enumerate(PASSES):
            self.deform_align[name] = GuidedDeformAttnPack(
                dim, attention_heads, deformable_groups, attention_window, max_residue_magnitude)
            self.backbone[name] = RSTBWithInputConv(
                (2 + i) * dim, dim, num_blocks[1], depths[1], num_heads, tuple(window_size),
                mlp_ratio, use_checkpoint_ffn)
        self.reconstruction = RSTBWithInputConv(5 * dim, dim, num_blocks[2], depths[2],
                                                num_heads, frame_window, mlp_ratio)
        self.conv_before_upsampler = nn.Sequential(nn.Conv3d(dim, 64, 1), nn.LeakyReLU(0.1))
        self.upsampler = Upsample(64)
        self.conv_last = nn.Conv3d(64, 3, (1, 3, 3), padding=(0, 1, 1))

    def compute_flows(self, lq: Tensor) -> tuple[Tensor, Tensor]:
        """(backward, forward) flows (N, T-1, 2, H, W): frame i → i+1 and i+1 → i. For a
        mirror-extended clip the forward flows are the backward ones reversed, as in the
        original."""
        n, t, c, h, w = lq.shape
        first, second = lq[:, :-1].flatten(0, 1), lq[:, 1:].flatten(0, 1)
        backward = self.spynet(first, second).view(n, t - 1, 2, h, w)
        if t % 2 == 0 and torch.equal(lq[:, : t // 2], lq[:, t // 2:].flip(1)):
            return backward, backward.flip(1)
        return backward, self.spynet(second, first).view(n, t - 1, 2, h, w)

    def forward(self, lq: Tensor) -> Tensor:
        n, t, c, h, w = lq.shape
        pad = (-t) % CLIP_SIZE
        if pad:
            lq = torch.cat([lq, lq[:, t - pad:].flip(1)], 1)
        flows_backward, flows_forward = self.compute_flows(lq)
        feats = {"shallow": list(self.feat_extract(lq).split(CLIP_SIZE, dim=1))}
        updated: dict[str, list[list[Tensor]]] = {}
        for name in PASSES:
            backward = name.startswith("backward")
            # flows in processing order: entry p brings frame p of that order to frame p + 1
            flows = flows_backward.flip(1) if backward else flows_forward
            feats[name] = self.propagate(feats, flows, name, updated)
        return self.upsample(lq, feats)[:, :t]

    def propagate(self, feats: dict[str, list[Tensor]], flows: Tensor, name: str,
                  updated: dict[str, list[list[Tensor]]]) -> list[Tensor]:
        """The clips of pass ``name`` (N, 2, C, H, W each, in time order). Backward passes run
        on the time-reversed sequence; the ``_1`` passes store their GDA's updated flows, which
        the ``_2`` passes reuse instead of SpyNet's."""
        backward = name.startswith("backward")

        def in_order(clips: list[Tensor]) -> list[Tensor]:
            return [clip.flip(1) for clip in clips[::-1]] if backward else clips

        branches = {key: in_order(clips) for key, clips in feats.items()}
        previous = branches[list(feats)[-1]]
        first_pass = name.endswith("_1")
        if first_pass:
            updated[name] = []
        prop = torch.zeros_like(branches["shallow"][0])
        out = []
        for i in range(len(previous)):
            if i > 0:
                if first_pass:
                    flow_n1, flow_n2 = self._clip_flows(flows, i)
                else:
                    flow_n1, flow_n2 = updated[name.replace("_2", "_1")][i - 1]
                warped1 = flow_warp(prop.flatten(0, 1), flow_n1.flatten(0, 1)).view_as(prop)
                warped2 = flow_warp(prop.flip(1).flatten(0, 1),
                                    flow_n2.flatten(0, 1)).view_as(prop)
                prop, new_flows = self.deform_align[name](
                    previous[i], previous[i - 1], prop, [warped1, warped2], [flow_n1, flow_n2])
                if first_pass:
                    updated[name].append(new_flows)
            refined = self.backbone[name](torch.cat([b[i] for b in branches.values()] + [prop], 2))
            prop = prop + refined
            out.append(prop)
        return in_order(out)

    @staticmethod
    def _clip_flows(flows: Tensor, i: int) -> tuple[Tensor, Tensor]:
        """Flows from clip i's frames (2i, 2i+1) to clip i-1's frames (2i-2, 2i-1), composed
        from consecutive flows: (2i→2i-2, 2i+1→2i-1) and (2i→2i-1, 2i+1→2i-2)."""
        n01, n12, n23 = flows[:, 2 * i - 2], flows[:, 2 * i - 1], flows[:, 2 * i]
        n02 = n12 + flow_warp(n01, n12)
        n13 = n23 + flow_warp(n12, n23)
        n03 = n23 + flow_warp(n02, n23)
        return torch.stack([n02, n13], 1), torch.stack([n12, n03], 1)

    def upsample(self, lq: Tensor, feats: dict[str, list[Tensor]]) -> Tensor:
        """Reconstruction of all branches, ×4 upsampler, plus the bilinear ×4 of ``lq``."""
        hr = torch.cat([torch.cat(clips, 1) for clips in feats.values()], 2)
        hr = self.reconstruction(hr)
        hr = self.conv_last(self.upsampler(self.conv_before_upsampler(hr.transpose(1, 2))))
        hr = hr.transpose(1, 2)
        n, t, c, h, w = lq.shape
        base = F.interpolate(lq.flatten(0, 1), size=hr.shape[-2:], mode="bilinear",
                             align_corners=False)
        return hr + base.view(n, t, c, *hr.shape[-2:])
