"""3-D (D, H, W) shifted-window transformer blocks of Video Swin / VRT / RVRT, with the original
module names (``residual_group.blocks.{i}.attn.qkv_self`` ...) so released weights load as they are.

Features are zero-padded to window multiples after the first LayerNorm (padded tokens take part in
the attention); odd layers roll by half the window and mask pairs from different regions with
-100; a dimension no larger than the window uses its own size as window and no shift.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

Size3 = tuple[int, int, int]


class Permute(nn.Module):
    """A fixed axis order change, standing where the original has an einops ``Rearrange``."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(*self.dims)


class Mlp(nn.Module):
    """Linear → GELU → Linear."""

    def __init__(self, dim: int, hidden: int, out: int | None = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, out or dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


def relative_position_index(window: Size3) -> Tensor:
    """(N, N) index into the bias table of the offset between every two tokens of a window."""
    coords = torch.stack(torch.meshgrid(*(torch.arange(s) for s in window), indexing="ij"))
    coords = coords.flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    rel = rel + torch.tensor([s - 1 for s in window])
    strides = torch.tensor([(2 * window[1] - 1) * (2 * window[2] - 1), 2 * window[2] - 1, 1])
    return (rel * strides).sum(-1)


def effective_window(size: Size3, window: Size3, shift: Size3) -> tuple[Size3, Size3]:
    """Window and shift for an input of ``size``: a dimension within the window is one window."""
    use_window = tuple(s if s <= w else w for s, w in zip(size, window))
    use_shift = tuple(0 if s <= w else sh for s, w, sh in zip(size, window, shift))
    return use_window, use_shift


def window_partition(x: Tensor, window: Size3) -> Tensor:
    """(B, D, H, W, C) → (B·windows, window volume, C)."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // window[0], window[0], h // window[1], window[1], w // window[2],
               window[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, math.prod(window), c)


def window_reverse(windows: Tensor, window: Size3, b: int, d: int, h: int, w: int) -> Tensor:
    """Inverse of ``window_partition`` → (B, D, H, W, C)."""
    x = windows.view(b, d // window[0], h // window[1], w // window[2], *window, -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def shift_mask(padded: Size3, window: Size3, shift: Size3, device) -> Tensor:
    """(windows, N, N) additive mask: 0 within a region of the rolled volume, -100 across."""
    labels = torch.zeros(padded, dtype=torch.long, device=device)
    for axis, (size, win, sh) in enumerate(zip(padded, window, shift)):
        if sh == 0:
            continue  # one region along this axis
        idx = torch.arange(size, device=device)
        region = (idx >= size - win).long() + (idx >= size - sh).long()
        shape = [1, 1, 1]
        shape[axis] = size
        labels = labels * 3 + region.view(shape)
    windows = window_partition(labels[None, ..., None].float(), window).squeeze(-1)
    diff = windows[:, None, :] - windows[:, :, None]
    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)


class WindowAttention3D(nn.Module):
    """Multi-head self-attention in a window with a learned relative-position bias (unless
    ``position_bias`` is off, as in RVRT Light)."""

    def __init__(self, dim: int, window: Size3, num_heads: int, qkv_bias: bool = True,
                 position_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.position_bias = position_bias
        if position_bias:
            table = (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)
            self.relative_position_bias_table = nn.Parameter(torch.zeros(table, num_heads))
            nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
            self.register_buffer("relative_position_index", relative_position_index(window))
        self.qkv_self = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        bw, n, c = x.shape
        qkv = self.qkv_self(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if self.position_bias:
            # a window shrunk to a small input reads the top-left block of the full window's index
            index = self.relative_position_index[:n, :n].reshape(-1)
            bias = self.relative_position_bias_table[index].reshape(n, n, -1).permute(2, 0, 1)
            attn = attn + bias.unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(bw // nw, nw, self.num_heads, n, n)
                    + mask[:, :n, :n].unsqueeze(1).to(attn.dtype)).view(-1, self.num_heads, n, n)
        attn = F.softmax(attn, -1, dtype=q.dtype)
        return self.proj((attn @ v).transpose(1, 2).reshape(bw, n, c))


class SwinLayer3D(nn.Module):
    """LayerNorm → (shifted) window attention → residual; LayerNorm → MLP → residual."""

    def __init__(self, dim: int, num_heads: int, window: Size3, shift: Size3,
                 mlp_ratio: float = 2.0, use_checkpoint_ffn: bool = False,
                 position_bias: bool = True) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.use_checkpoint_ffn = use_checkpoint_ffn
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3D(dim, window, num_heads, position_bias=position_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def _attention(self, x: Tensor, mask: Tensor | None) -> Tensor:
        b, d, h, w, c = x.shape
        window, shift = effective_window((d, h, w), self.window, self.shift)
        pads = [(-s) % win for s, win in zip((d, h, w), window)]
        x = F.pad(self.norm1(x), (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
        out = self.attn(window_partition(x, window), mask if shifted else None)
        x = window_reverse(out, window, b, dp, hp, wp)
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        return x[:, :d, :h, :w]

    def _ffn(self, x: Tensor) -> Tensor:
        return self.mlp(self.norm2(x))

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        x = x + self._attention(x, mask)
        if self.use_checkpoint_ffn and torch.is_grad_enabled() and x.requires_grad:
            return x + checkpoint(self._ffn, x, use_reentrant=False)
        return x + self._ffn(x)


class SwinGroup3D(nn.Module):
    """``depth`` layers, every second one shifted by half the window; (B, C, D, H, W) in and out."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: Size3,
                 mlp_ratio: float = 2.0, use_checkpoint_ffn: bool = False,
                 position_bias: bool = True) -> None:
        super().__init__()
        self.window = window
        self.shift = tuple(s // 2 for s in window)
        self.blocks = nn.ModuleList(
            SwinLayer3D(dim, num_heads, window, (0, 0, 0) if i % 2 == 0 else self.shift,
                        mlp_ratio, use_checkpoint_ffn, position_bias) for i in range(depth))

    def forward(self, x: Tensor) -> Tensor:
        _, _, d, h, w = x.shape
        window, shift = effective_window((d, h, w), self.window, self.shift)
        padded = tuple(math.ceil(s / win) * win for s, win in zip((d, h, w), window))
        mask = shift_mask(padded, window, shift, x.device)
        x = x.permute(0, 2, 3, 4, 1)
        for block in self.blocks:
            x = block(x, mask)
        return x.permute(0, 4, 1, 2, 3)


class RSTB(nn.Module):
    """Residual Swin Transformer block: x + Linear(SwinGroup3D(x)), on (B, C, D, H, W)."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: Size3,
                 mlp_ratio: float = 2.0, use_checkpoint_ffn: bool = False,
                 position_bias: bool = True) -> None:
        super().__init__()
        self.residual_group = SwinGroup3D(dim, depth, num_heads, window, mlp_ratio,
                                          use_checkpoint_ffn, position_bias)
        self.linear = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.linear(self.residual_group(x).transpose(1, 4)).transpose(1, 4)


class RSTBWithInputConv(nn.Module):
    """Conv3d 1×3×3 → LayerNorm → ``num_blocks`` RSTBs → LayerNorm on (N, T, C, H, W); ``main``
    keeps the original's indices (1 conv, 3 norm, 5 blocks, 7 norm; the rest reorder axes)."""

    def __init__(self, in_channels: int, dim: int, num_blocks: int, depth: int, num_heads: int,
                 window: Size3, mlp_ratio: float = 2.0, use_checkpoint_ffn: bool = False,
                 position_bias: bool = True) -> None:
        super().__init__()
        self.main = nn.Sequential(
            Permute(0, 2, 1, 3, 4),
            nn.Conv3d(in_channels, dim, (1, 3, 3), padding=(0, 1, 1)),
            Permute(0, 2, 3, 4, 1),
            nn.LayerNorm(dim),
            Permute(0, 4, 1, 2, 3),
            nn.Sequential(*(RSTB(dim, depth, num_heads, window, mlp_ratio, use_checkpoint_ffn,
                                 position_bias) for _ in range(num_blocks))),
            Permute(0, 2, 3, 4, 1),
            nn.LayerNorm(dim),
            Permute(0, 1, 4, 2, 3),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)
