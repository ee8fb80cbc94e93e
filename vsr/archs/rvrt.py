"""RVRT, the Recurrent Video Restoration Transformer of Liang et al. (NeurIPS 2022), for ×4 VSR.

The video is cut into clips of two frames. Shallow features come from a Swin-3D stage; four
passes (backward_1, forward_1, backward_2, forward_2) then carry a clip feature through the
sequence: the previous clip's propagated feature is aligned to the current clip by guided
deformable attention (offsets = optical flow from SpyNet + a learned residual), concatenated with
every earlier branch and refined by a Swin-3D backbone. A Swin-3D reconstruction, a pixel-shuffle
upsampler and a bilinear skip give the HR clip. Module names and the state-dict layout are the
original's (``JingyunLiang/RVRT`` ``models/network_rvrt.py``), so the released checkpoints
(weights under ``params``) load strictly; the CUDA ``deform_attn`` op is replaced by
``vsr.archs.ops.deform_attn``. RVRT Light (same pipeline, plain-window attention) is here too.
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


class NeighbourAttnPack(nn.Module):
    """Attention of each pixel of the current clip over a 3×3 window in both frames of the
    previous clip: q/k/v projected to 2·dim, ``deform_attn`` at the given offsets (zero: the plain
    window, RVRT Light's ``AttnPack``), projected back, plus an MLP residual."""

    def __init__(self, dim: int = 144, heads: int = 12, groups: int = 12,
                 window: tuple[int, int] = (3, 3), offset_net: nn.Module | None = None) -> None:
        super().__init__()
        self.heads, self.groups, self.window = heads, groups, tuple(window)
        self.points = self.window[0] * self.window[1]
        proj = 2 * dim
        # registration order = the original's state-dict order
        self.proj_q = channels_last_linear(dim, proj)
        self.proj_k = channels_last_linear(dim, proj)
        self.proj_v = channels_last_linear(dim, proj)
        self.mlp = nn.Sequential(Permute(0, 1, 3, 4, 2), Mlp(dim, 2 * dim),
                                 Permute(0, 1, 4, 2, 3))
        if offset_net is not None:
            self.conv_offset = offset_net
        self.proj = channels_last_linear(proj, dim)

    def attend(self, q: Tensor, k: Tensor, v: Tensor, offsets: list[Tensor] | None) -> Tensor:
        """(N, T, C, H, W) aligned feature; ``offsets`` per previous-clip slot as
        (N, T, groups·points·2, H, W) (y, x) pairs, None for the plain window. Slot n of query
        frame j reads previous frame (j + n) mod 2."""
        n, t, _, h, w = q.shape
        queries = self.proj_q(q).flatten(0, 1)
        kv = torch.cat([self.proj_k(k), self.proj_v(v)], 2)
        per_query = torch.stack([kv[:, [(j + s) % CLIP_SIZE for s in range(CLIP_SIZE)]]
                                 for j in range(t)], 1).flatten(0, 1)
        if offsets is None:
            offset = q.new_zeros(n * t, CLIP_SIZE * self.groups * self.points * 2, h, w)
        else:
            offset = torch.cat(offsets, 2).flatten(0, 1)
        out = deform_attn(queries, per_query, offset, self.heads, self.groups,
                          self.window).view(n, t, -1, h, w)
        out = self.proj(out)
        return out + self.mlp(out)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        return self.attend(q, k, v, None)


class GuidedDeformAttnPack(NeighbourAttnPack):
    """Aligns the previous clip's propagated feature ``v`` to the current clip ``q``.

    Offsets for each frame of the current clip toward each frame of the previous clip are
    ``max_residue · tanh(conv_offset(...))`` plus the guiding flow; keys come from the previous
    clip of the earlier pass (``k``), values from ``v``.
    """

    def __init__(self, dim: int = 144, heads: int = 12, groups: int = 12,
                 window: tuple[int, int] = (3, 3), max_residue: float = 10.0) -> None:
        hidden = 64
        points = window[0] * window[1]
        layers: list[nn.Module] = [nn.Conv3d(dim * (1 + CLIP_SIZE) + 2 * CLIP_SIZE, hidden, 1)]
        for _ in range(4):
            layers += [nn.LeakyReLU(0.1), nn.Conv3d(hidden, hidden, (1, 3, 3), padding=(0, 1, 1))]
        layers += [nn.LeakyReLU(0.1), nn.Conv3d(hidden, CLIP_SIZE * groups * points * 2, 1)]
        super().__init__(dim, heads, groups, window, nn.Sequential(*layers))
        nn.init.zeros_(self.conv_offset[-1].weight)
        nn.init.zeros_(self.conv_offset[-1].bias)
        self.max_residue = max_residue

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
        (N, T, 2, H, W), x first."""
        offsets = self.offsets(q, warped, flows)
        n, t, _, h, w = q.shape
        updated = [o.view(n, t, -1, 2, h, w).mean(2).flip(2) for o in offsets]
        return self.attend(q, k, v, offsets), updated


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


class ClipRecurrentTransformer(nn.Module):
    """What RVRT and RVRT Light share: shallow Swin-3D features, four recurrent passes over
    2-frame clips (alignment of the previous clip's feature, then a Swin-3D backbone over every
    earlier branch), reconstruction, the ×4 upsampler and the bilinear skip. Subclasses say how
    a clip is aligned (``align``) and which flows guide it (``compute_flows``).

    An odd clip is completed with its last frame (the tail mirrored) and that output dropped.
    ``use_checkpoint_ffn`` recomputes the Swin MLPs of the propagation backbones in the backward
    pass to save memory. For a sequence longer than ``cpu_cache_length`` frames the propagated
    clip features are kept in CPU memory between uses (moved to the compute device one clip at
    a time) and the reconstruction runs clip by clip, so accelerator memory stays bounded by a
    few clips instead of growing with the sequence (the original's ``cpu_cache``).
    ``pad_multiple`` > 1 reflect-pads H and W to a multiple of it and crops the output back
    (main_test_rvrt.py pads to the window, 8, so no Swin window sees zero padding).
    """

    temporal: TemporalMode = "clip"

    def __init__(self, aligners: list[nn.Module], spynet: SpyNet | None, scale: int,
                 embed_dim: int, num_heads: int, window_size: tuple[int, int, int],
                 num_blocks: tuple[int, int, int], depths: tuple[int, int, int],
                 mlp_ratio: float, use_checkpoint_ffn: bool, position_bias: bool,
                 cpu_cache_length: int = 100, pad_multiple: int = 1) -> None:
        super().__init__()
        if scale != 4:
            raise ValueError(f"{type(self).__name__} is defined for x4 VSR, got scale {scale}")
        if cpu_cache_length < 1:
            raise ValueError(f"cpu_cache_length must be >= 1, got {cpu_cache_length}")
        self.scale = scale
        if pad_multiple < 1:
            raise ValueError(f"pad_multiple must be >= 1, got {pad_multiple}")
        self.cpu_cache_length = cpu_cache_length
        self.pad_multiple = pad_multiple
        dim = embed_dim
        frame_window = (1, window_size[1], window_size[2])
        if spynet is not None:
            self.spynet = spynet
        self.feat_extract = RSTBWithInputConv(3, dim, num_blocks[0], depths[0], num_heads,
                                              frame_window, mlp_ratio,
                                              position_bias=position_bias)
        self.backbone = nn.ModuleDict()
        self.deform_align = nn.ModuleDict()
        for i, (name, aligner) in enumerate(zip(PASSES, aligners)):
            self.deform_align[name] = aligner
            self.backbone[name] = RSTBWithInputConv(
                (2 + i) * dim, dim, num_blocks[1], depths[1], num_heads, tuple(window_size),
                mlp_ratio, use_checkpoint_ffn, position_bias)
        self.reconstruction = RSTBWithInputConv(5 * dim, dim, num_blocks[2], depths[2],
                                                num_heads, frame_window, mlp_ratio,
                                                position_bias=position_bias)
        self.conv_before_upsampler = nn.Sequential(nn.Conv3d(dim, 64, 1), nn.LeakyReLU(0.1))
        self.upsampler = Upsample(64)
        self.conv_last = nn.Conv3d(64, 3, (1, 3, 3), padding=(0, 1, 1))

    def compute_flows(self, lq: Tensor) -> tuple[Tensor, Tensor] | None:
        """(backward, forward) flows (N, T-1, 2, H, W), or None for an unguided alignment."""
        return None

    def align(self, name: str, i: int, previous: list[Tensor], prop: Tensor,
              flows: Tensor | None, updated: dict[str, list]) -> Tensor:
        """The propagated feature of clip i-1 aligned to clip i (processing order)."""
        raise NotImplementedError

    def forward(self, lq: Tensor) -> Tensor:
        h, w = lq.shape[-2:]
        pad_h, pad_w = (-h) % self.pad_multiple, (-w) % self.pad_multiple
        if pad_h or pad_w:
            padded = F.pad(lq.flatten(0, 1), (0, pad_w, 0, pad_h), mode="reflect")
            out = self._forward(padded.view(*lq.shape[:2], 3, h + pad_h, w + pad_w))
            return out[..., : self.scale * h, : self.scale * w]
        return self._forward(lq)

    def _forward(self, lq: Tensor) -> Tensor:
        t = lq.shape[1]
        pad = (-t) % CLIP_SIZE
        if pad:
            lq = torch.cat([lq, lq[:, t - pad:].flip(1)], 1)
        flows = self.compute_flows(lq)
        cache = torch.device("cpu") if lq.shape[1] > self.cpu_cache_length else None
        feats = {"shallow": [self._store(c, cache)
                             for c in self.feat_extract(lq).split(CLIP_SIZE, dim=1)]}
        updated: dict[str, list] = {}
        for name in PASSES:
            # flows in processing order: entry p brings frame p of that order to frame p + 1
            ordered = None
            if flows is not None:
                ordered = flows[0].flip(1) if name.startswith("backward") else flows[1]
            feats[name] = self.propagate(feats, ordered, name, updated, cache)
        if cache is None:
            return self.upsample(lq, feats)[:, :t]
        clips = [self.upsample(lq[:, i * CLIP_SIZE:(i + 1) * CLIP_SIZE],
                               {k: [v[i].to(lq.device)] for k, v in feats.items()}).to(cache)
                 for i in range(len(feats["shallow"]))]
        return torch.cat(clips, 1)[:, :t].to(lq.device)

    @staticmethod
    def _store(clip: Tensor, cache: torch.device | None) -> Tensor:
        """A clip feature where it is kept between uses: the CPU cache, or where it is."""
        return clip if cache is None else clip.to(cache)

    def propagate(self, feats: dict[str, list[Tensor]], flows: Tensor | None, name: str,
                  updated: dict[str, list], cache: torch.device | None = None) -> list[Tensor]:
        """The clips of pass ``name`` (N, 2, C, H, W each, in time order). Backward passes run
        on the time-reversed sequence; the first clip starts from a zero feature. With a
        ``cache`` device the stored clips live there and are fetched one clip at a time."""
        backward = name.startswith("backward")

        def in_order(clips: list[Tensor]) -> list[Tensor]:
            return [clip.flip(1) for clip in clips[::-1]] if backward else clips

        device = next(self.parameters()).device
        branches = {key: _Fetched(in_order(clips), device) for key, clips in feats.items()}
        previous = branches[list(feats)[-1]]
        prop = torch.zeros_like(branches["shallow"][0])
        out = []
        for i in range(len(previous)):
            if i > 0:
                prop = self.align(name, i, previous, prop, flows, updated)
            refined = self.backbone[name](torch.cat([b[i] for b in branches.values()] + [prop], 2))
            prop = prop + refined
            out.append(self._store(prop, cache))
        return in_order(out)

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


class _Fetched(list):
    """A list of clip features whose items are moved to ``device`` when read (a no-op for
    clips already there), so aligners index CPU-cached clips like resident ones."""

    def __init__(self, clips: list[Tensor], device: torch.device) -> None:
        super().__init__(clips)
        self.device = device

    def __getitem__(self, i):  # type: ignore[override]
        return super().__getitem__(i).to(self.device)


@ARCHS.register("RVRT")
class RVRT(ClipRecurrentTransformer):
    """RVRT ×4 (official configuration by default); (N, T, 3, H, W) → (N, T, 3, 4H, 4W).

    ``spynet_path`` loads pretrained SpyNet weights for training from scratch (a released RVRT
    checkpoint holds its own).
    """

    def __init__(self, scale: int = 4, embed_dim: int = 144, num_heads: int = 6,
                 window_size: tuple[int, int, int] = (2, 8, 8),
                 num_blocks: tuple[int, int, int] = (1, 2, 1),
                 depths: tuple[int, int, int] = (2, 2, 2), mlp_ratio: float = 2.0,
                 deformable_groups: int = 12, attention_heads: int = 12,
                 attention_window: tuple[int, int] = (3, 3), max_residue_magnitude: float = 10.0,
                 spynet_path: Annotated[str | None, LocalFile(
                     "pretrained SpyNet weights (spynet_sintel_final-3d2a1287.pth)")] = None,
                 use_checkpoint_ffn: bool = False, cpu_cache_length: int = 100,
                 pad_multiple: int = 1) -> None:
        aligners = [GuidedDeformAttnPack(embed_dim, attention_heads, deformable_groups,
                                         attention_window, max_residue_magnitude)
                    for _ in PASSES]
        super().__init__(aligners, SpyNet(spynet_path), scale, embed_dim, num_heads,
                         window_size, num_blocks, depths, mlp_ratio, use_checkpoint_ffn,
                         position_bias=True, cpu_cache_length=cpu_cache_length,
                         pad_multiple=pad_multiple)

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

    def align(self, name: str, i: int, previous: list[Tensor], prop: Tensor,
              flows: Tensor | None, updated: dict[str, list]) -> Tensor:
        """Guided deformable attention; the ``_1`` passes compose SpyNet flows and store the
        GDA's updated flows, which the ``_2`` passes reuse."""
        first_pass = name.endswith("_1")
        if first_pass:
            flow_n1, flow_n2 = self._clip_flows(flows, i)
        else:
            flow_n1, flow_n2 = updated[name.replace("_2", "_1")][i - 1]
        warped1 = flow_warp(prop.flatten(0, 1), flow_n1.flatten(0, 1)).view_as(prop)
        warped2 = flow_warp(prop.flip(1).flatten(0, 1), flow_n2.flatten(0, 1)).view_as(prop)
        aligned, new_flows = self.deform_align[name](
            previous[i], previous[i - 1], prop, [warped1, warped2], [flow_n1, flow_n2])
        if first_pass:
            updated.setdefault(name, []).append(new_flows)
        return aligned

    @staticmethod
    def _clip_flows(flows: Tensor, i: int) -> tuple[Tensor, Tensor]:
        """Flows from clip i's frames (2i, 2i+1) to clip i-1's frames (2i-2, 2i-1), composed
        from consecutive flows: (2i→2i-2, 2i+1→2i-1) and (2i→2i-1, 2i+1→2i-2)."""
        n01, n12, n23 = flows[:, 2 * i - 2], flows[:, 2 * i - 1], flows[:, 2 * i]
        n02 = n12 + flow_warp(n01, n12)
        n13 = n23 + flow_warp(n12, n23)
        n03 = n23 + flow_warp(n02, n23)
        return torch.stack([n02, n13], 1), torch.stack([n12, n03], 1)


@ARCHS.register("RVRTLight")
class RVRTLight(ClipRecurrentTransformer):
    """RVRT Light (mindspore-lab/mindediting): RVRT without SpyNet, offsets or flow warping;
    each pixel attends to the plain 3×3 window of both frames of the previous clip, and the
    Swin layers carry no relative-position bias. Module names follow RVRT (alignment under
    ``deform_align``), so RVRT weights initialise it partially."""

    def __init__(self, scale: int = 4, embed_dim: int = 144, num_heads: int = 6,
                 window_size: tuple[int, int, int] = (2, 8, 8),
                 num_blocks: tuple[int, int, int] = (1, 2, 1),
                 depths: tuple[int, int, int] = (2, 2, 2), mlp_ratio: float = 2.0,
                 attention_heads: int = 12, attention_window: tuple[int, int] = (3, 3),
                 use_checkpoint_ffn: bool = False, cpu_cache_length: int = 100,
                 pad_multiple: int = 1) -> None:
        aligners = [NeighbourAttnPack(embed_dim, attention_heads, 1, attention_window)
                    for _ in PASSES]
        super().__init__(aligners, None, scale, embed_dim, num_heads, window_size, num_blocks,
                         depths, mlp_ratio, use_checkpoint_ffn, position_bias=False,
                         cpu_cache_length=cpu_cache_length,
                         pad_multiple=pad_multiple)

    def align(self, name: str, i: int, previous: list[Tensor], prop: Tensor,
              flows: Tensor | None, updated: dict[str, list]) -> Tensor:
        return self.deform_align[name](previous[i], previous[i - 1], prop)
