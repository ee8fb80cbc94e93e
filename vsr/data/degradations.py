"""HR → LR degradations, registered in ``DEGRADATIONS``.

Papers call several different operations "BI" and "BD" and their numbers are only comparable
under the exact same one (MODELS.md §7.1). Each variant here reproduces one published recipe; the
Gaussian ones share one core, :func:`blur_downsample`, which expresses blur, border and sampling
phase as one (LR, HR) matrix per axis, so every recipe is the same two float64 matmuls.

All functions take an HR clip (T, C, H, W) float in [0, 1] and return the LR clip (T, C, h, w) in
the input dtype.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import torch
from torch import Tensor

from vsr.archs.ops.matlab_resize import imresize, symmetric_index
from vsr.config.schema import PositiveFloat, PositiveInt
from vsr.registry import DEGRADATIONS

BORDERS = ("reflect", "symmetric", "replicate")


def quantize_uint8(x: Tensor) -> Tensor:
    """Round to the 8-bit grid (half away from zero, as MATLAB and PNG writers), keep [0,1] floats.

    Stored LR is uint8, so models trained or tested on PNG LR see these values, not the floats.
    """
    return torch.floor(x.to(torch.float64).clamp(0, 1) * 255 + 0.5).div(255).to(x.dtype)


def border_index(index: Tensor, size: int, border: str) -> Tensor:
    """Map indices outside [0, size) back inside.

    ``reflect`` mirrors without repeating the edge (numpy/torch 'reflect', OpenCV REFLECT_101),
    ``symmetric`` repeats it (MATLAB 'symmetric', OpenCV REFLECT), ``replicate`` clamps.
    """
    if border == "reflect":
        if size == 1:
            return torch.zeros_like(index)
        period = 2 * (size - 1)
        index = index.remainder(period)
        return torch.where(index >= size, period - index, index)
    if border == "symmetric":
        return symmetric_index(index, size)
    if border == "replicate":
        return index.clamp(0, size - 1)
    raise ValueError(f"unknown border {border!r}; expected one of {BORDERS}")


def gaussian_kernel1d(
    size: int, sigma: float, truncate: float | None = None, dtype: torch.dtype = torch.float64
) -> Tensor:
    """Normalised 1-D Gaussian of ``size`` taps centred on the middle of the window.

    Even sizes are centred between two taps (MATLAB ``fspecial``). ``truncate`` zeroes taps beyond
    ``int(truncate * sigma + 0.5)`` like scipy's ``gaussian_filter`` (the DUF kernel).
    """
    if size < 1 or not sigma > 0:
        raise ValueError(f"a Gaussian kernel needs kernel_size >= 1 and sigma > 0, got "
                         f"kernel_size={size}, sigma={sigma}")
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    weights = torch.exp(-0.5 * x**2 / sigma**2)
    if truncate is not None:
        weights = weights * (x.abs() <= int(truncate * sigma + 0.5))
    return (weights / weights.sum()).to(dtype)


def gaussian_kernel2d(
    size: int, sigma: float, truncate: float | None = None, dtype: torch.dtype = torch.float64
) -> Tensor:
    """Outer product of :func:`gaussian_kernel1d`: the 2-D kernel the recipes publish."""
    k = gaussian_kernel1d(size, sigma, truncate, torch.float64)
    return torch.outer(k, k).to(dtype)


def blur_sample_matrix(
    in_size: int,
    kernel: Tensor,
    stride: int,
    phase: int,
    border: str | None,
    n_out: int | None = None,
) -> Tensor:
    """(n_out, in_size) matrix: correlate with ``kernel`` and keep every ``stride``-th sample.

    LR pixel k is the kernel centred on HR pixel ``phase + stride * k``; for even kernels the
    centre tap is index ``(len - 1) // 2`` (MATLAB ``imfilter``). Taps outside the image follow
    ``border``; ``border=None`` keeps only positions whose window fits inside (a 'valid' conv).
    ``n_out`` defaults to every centre in [phase, in_size).
    """
    size = kernel.numel()
    offsets = torch.arange(size) - (size - 1) // 2
    if n_out is None:
        if border is None:
            last = in_size - 1 - int(offsets[-1])
            if phase + int(offsets[0]) < 0:
                raise ValueError("border=None needs phase >= the kernel's left radius")
            n_out = (last - phase) // stride + 1
        else:
            n_out = math.ceil((in_size - phase) / stride)
    centres = phase + stride * torch.arange(n_out)
    index = centres[:, None] + offsets[None, :]
    if border is not None:
        index = border_index(index, in_size, border)
    elif index.min() < 0 or index.max() >= in_size:
        raise ValueError("border=None: sampled windows run outside the image")
    matrix = torch.zeros(n_out, in_size, dtype=torch.float64)
    matrix.scatter_add_(1, index, kernel.to(torch.float64).expand(n_out, size).contiguous())
    return matrix


def blur_downsample(
    clip: Tensor,
    scale: int,
    kernel_size: int,
    sigma: float,
    border: str | None = "reflect",
    phase: int = 0,
    truncate: float | None = None,
    n_out: tuple[int, int] | None = None,
) -> Tensor:
    """Separable Gaussian blur then sampling every ``scale`` pixels: the core of every BD recipe.

    Computed in float64 as ``A_h @ x @ A_w^T`` (see :func:`blur_sample_matrix`); returns the
    input dtype, unrounded.
    """
    h, w = clip.shape[-2:]
    recipe = (kernel_size, sigma, truncate, scale, phase, border)
    mat_h = _cached_blur_matrix(h, *recipe, n_out and n_out[0])
    mat_w = _cached_blur_matrix(w, *recipe, n_out and n_out[1])
    lr = mat_h.to(clip.device) @ clip.to(torch.float64) @ mat_w.to(clip.device).T
    return lr.to(clip.dtype)


@functools.lru_cache(maxsize=16)
def _cached_blur_matrix(in_size: int, kernel_size: int, sigma: float, truncate: float | None,
                        stride: int, phase: int, border: str | None, n_out: int | None) -> Tensor:
    """Built once per frame size and recipe: every training item and test frame reuses it."""
    kernel = gaussian_kernel1d(kernel_size, sigma, truncate)
    return blur_sample_matrix(in_size, kernel, stride, phase, border, n_out)


def _check_clip(clip: Tensor) -> None:
    if clip.ndim != 4:
        raise ValueError(f"expected an HR clip (T, C, H, W), got shape {tuple(clip.shape)}")


@DEGRADATIONS.register("BI")
def bi(clip: Tensor, scale: PositiveInt = 4, round_to_uint8: bool = True) -> Tensor:
    """MATLAB ``imresize(HR, 1/scale, 'bicubic')`` (antialiased).

    The BI of RVRT/KAIR/BasicVSR, TecoGAN-PyTorch BI, TDAN, EDVR/REDS and Vimeo ``matlabLRx4``;
    with ``round_to_uint8`` it is bit-identical to the published LR PNGs (the input should be
    modcropped to a multiple of ``scale``, as those recipes do). Bit-exactness needs float64
    input: float32 k/255 is off by ~1e-8, which flips the rounding of a few values near .5.
    """
    _check_clip(clip)
    lr = imresize(clip, 1 / scale)
    return quantize_uint8(lr) if round_to_uint8 else lr


@DEGRADATIONS.register("BD")
def bd(
    clip: Tensor,
    scale: PositiveInt = 4,
    kernel_size: PositiveInt = 13,
    sigma: PositiveFloat = 1.6,
    border: str = "replicate",
    phase: int = 0,
    round_to_uint8: bool = True,
) -> Tensor:
    """Generic Gaussian blur-downsample: ``kernel_size`` taps of ``sigma``, ``border`` in
    ("reflect", "symmetric", "replicate"; see :func:`border_index`), LR pixel k centred on HR
    pixel ``phase + scale * k``.

    Defaults give the common "BD ×4, 13×13 σ=1.6, sampled from (0,0)" used for Bicubic baselines
    in the BD tables of DUF, TDAN, BasicVSR and later papers.
    """
    _check_clip(clip)
    lr = blur_downsample(clip, scale, kernel_size, sigma, border, phase)
    return quantize_uint8(lr) if round_to_uint8 else lr


@DEGRADATIONS.register("BD_DUF")
def bd_duf(
    clip: Tensor, scale: int = 4, hr_reflect_pad: int = 0, round_to_uint8: bool = False
) -> Tensor:
    """DUF ``gaussian_downsample`` as copied into RRN and FOCAS (and BasicSR's DUF_downsample).

    13×13 Gaussian with σ = 0.4·scale, truncated like scipy ``gaussian_filter``; reflect border;
    LR pixel k centred on HR pixel scale·k; float LR. ×3 keeps the upstream quirk of one extra
    output row/column (H//3 + 1, even when H is divisible by 3). ``hr_reflect_pad`` first
    reflect-pads the HR, as RRN's train/test loaders do with 8 px at ×4.
    """
    _check_clip(clip)
    if scale not in (2, 3, 4):
        raise ValueError(f"BD_DUF supports scales 2, 3, 4 (got {scale})")
    if hr_reflect_pad:
        p = hr_reflect_pad
        clip = torch.nn.functional.pad(clip, (p, p, p, p), mode="reflect")
    h, w = clip.shape[-2:]
    n_out = (h // 3 + 1, w // 3 + 1) if scale == 3 else None
    lr = blur_downsample(clip, scale, 13, 0.4 * scale, "reflect", 0, truncate=4.0, n_out=n_out)
    return quantize_uint8(lr) if round_to_uint8 else lr


def _cv2_gaussian_blur_uint8(clip: Tensor, sigma: float, scale: int) -> Tensor:
    """OpenCV's fixed-point uint8 GaussianBlur (default border REFLECT_101), sampled from (0,0).

    ksize (0, 0) lets OpenCV pick 11×11 for σ = 1.5; 9 to 15 all give the same bytes on Vid4
    (7 does not), so only OpenCV's own uint8 arithmetic matters for bit-exactness.
    """
    frames = quantize_uint8(clip).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    out = [cv2.GaussianBlur(f, (0, 0), sigma)[::scale, ::scale] for f in frames]
    lr = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)
    return (lr.to(torch.float64) / 255).to(clip.dtype)


@DEGRADATIONS.register("BD_TecoGAN")
def bd_tecogan(
    clip: Tensor, mode: str = "test", sigma: PositiveFloat = 1.5, scale: PositiveInt = 4
) -> Tensor:
    """TecoGAN BD: Gaussian σ = 1.5, 9 taps (1 + 2·int(3σ)), LR pixel k on HR pixel 4k.

    Modes (TecoGAN-PyTorch ``data_utils.downsample_bd`` unless noted):
    ``test``: reflect pad int(3σ), float (on-the-fly test LR);
    ``train``: no pad, float, k ↔ HR int(3σ) + 4k (training then crops the GT by int(3σ));
    ``png``: ``test`` rounded to uint8 (``scripts/resize_bd.py``, the ``Gaussian4xLR`` PNGs);
    ``release``: the official TecoGAN (TF) LR release, OpenCV ``GaussianBlur`` on the uint8 HR
    with its default reflect-101 border; bit-identical to those PNGs.
    Used by FRVSR and TecoGAN (both repos) and papers comparing on TecoGAN's Vid4/ToS3 LR.
    """
    _check_clip(clip)
    radius = int(3 * sigma)
    if mode == "release":
        return _cv2_gaussian_blur_uint8(clip, sigma, scale)
    if mode not in ("test", "train", "png"):
        raise ValueError(f"unknown BD_TecoGAN mode {mode!r}; expected test, train, png, release")
    if mode == "train":
        return blur_downsample(clip, scale, 2 * radius + 1, sigma, None, phase=radius)
    lr = blur_downsample(clip, scale, 2 * radius + 1, sigma, "reflect")
    return quantize_uint8(lr) if mode == "png" else lr


@DEGRADATIONS.register("BD_MATLAB")
def bd_matlab(clip: Tensor, scale: PositiveInt = 4, sigma: PositiveFloat = 1.6) -> Tensor:
    """KAIR ``generate_LR_*_BD.m``: ``fspecial('gaussian', ceil(3σ)·2+2, σ)``, ``imfilter``
    replicate, rows/cols 1, 1+scale, … (0-based), uint8.

    The BD of BasicVSR/BasicVSR++/IconVSR, VRT and RVRT (Vimeo-90K and Vid4 BDx4).
    """
    _check_clip(clip)
    size = math.ceil(3 * sigma) * 2 + 2
    return bd(clip, scale, size, sigma, "replicate", phase=1, round_to_uint8=True)


@DEGRADATIONS.register("none")
def no_degradation(clip: Tensor, scale: PositiveInt = 1) -> Tensor:
    """The HR clip itself, for models that make their own LR from HR frames (VSRNet's
    ``lr_input: simulate``, NVVL's training): the dataset then runs at scale 1."""
    _check_clip(clip)
    if scale != 1:
        raise ValueError(f"degradation 'none' keeps the HR frames: the dataset scale must be 1, "
                         f"got {scale}")
    return clip
