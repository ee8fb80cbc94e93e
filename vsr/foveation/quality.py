"""How good FOCAS output is where the viewer looks: per-depth quality and foveal weighting.

The allocator needs two things: the quality of trunk features after k residual blocks (a table
normalised to [0, 1]; the original's by default, or re-measured on real frames), and a score of a
configuration under a Gaussian fixation model centred on the gaze (MODELS.md §2.4
``compute_quality``). The score here is computed in separable form, which equals the original's
dense H×W sum exactly because the Gaussian weight is a product of a row and a column term.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from vsr.archs.rrn import RRN

ORIGINAL_QUALITY = (0.0, 0.0819, 0.1489, 0.2141, 0.29608, 0.3612, 0.4264, 0.5214, 0.6834, 1.0)
"""Quality after k = 1..10 blocks, from PSNRs 31.03 … 36.39 (dataset not stated upstream)."""


def quality_after(table: Sequence[float], blocks: int) -> float:
    """Quality of features after ``blocks`` residual blocks (the table starts at one block)."""
    return float(table[blocks - 1])


def check_table(table: Sequence[float], depth: int) -> list[float]:
    """A table usable for a ``depth``-block trunk: long enough and non-decreasing.

    A measured table can dip (noise); the solver's objective is convex only for non-negative
    gains, so dips are flattened with a running maximum and reported.
    """
    if len(table) < depth:
        raise ValueError(f"quality table has {len(table)} entries; depth {depth} needs {depth}")
    values = [float(v) for v in table[:depth]]
    monotone = np.maximum.accumulate(values).tolist()
    if monotone != values:
        warnings.warn(f"quality table {values} is not increasing; using {monotone}", stacklevel=2)
    return monotone


def gaussian_profile(length: int, centre: float, sigma: float) -> np.ndarray:
    """exp(−(x − centre)²/(2σ²)) at the integer pixel positions of one axis."""
    x = np.arange(length, dtype=np.float64)
    return np.exp(-((x - centre) ** 2) / (2 * sigma**2))


def foveated_quality(
    blocks: Sequence[int],
    sides: Sequence[int],
    resolution: tuple[int, int],
    table: Sequence[float] = ORIGINAL_QUALITY,
    sigma: float = 64.0,
    gaze: tuple[int, int] | None = None,
) -> float:
    """Σ Gaussian(σ, normalised by 2πσ²) × quality of the deepest region covering each pixel.

    ``sides`` are the HR side lengths of the nested inner squares (outer to inner), centred on the
    gaze (frame centre by default) as in the original; the full frame gets ``blocks[0]``.
    """
    height, width = resolution
    h_eye, w_eye = gaze if gaze is not None else (height // 2, width // 2)
    rows = np.cumsum(np.concatenate(([0.0], gaussian_profile(height, h_eye, sigma))))
    cols = np.cumsum(np.concatenate(([0.0], gaussian_profile(width, w_eye, sigma))))

    def mass(side_h: int, side_w: int) -> float:
        """Weight inside the square [eye − side/2, eye + side/2) clipped to the frame."""
        half_h, half_w = side_h // 2, side_w // 2
        r0, r1 = max(h_eye - half_h, 0), min(h_eye + half_h, height)
        c0, c1 = max(w_eye - half_w, 0), min(w_eye + half_w, width)
        if r1 <= r0 or c1 <= c0:
            return 0.0
        return (rows[r1] - rows[r0]) * (cols[c1] - cols[c0])

    masses = [mass(height, width)] + [mass(s, s) for s in sides] + [0.0]
    score = sum(
        quality_after(table, b) * (masses[i] - masses[i + 1]) for i, b in enumerate(blocks)
    )
    return score / (2 * math.pi * sigma**2)


def load_clip(source: str, frames: int) -> Tensor:
    """Up to ``frames`` HR frames (T, 3, H, W) in [0, 1] from a folder or video, cropped to ×4."""
    from vsr.io.frames import frame_to_tensor, open_frame_source

    clip = []
    for frame in open_frame_source(source):
        clip.append(frame_to_tensor(frame))
        if len(clip) == frames:
            break
    if len(clip) < 2:
        raise ValueError(f"{source}: measuring quality needs at least 2 frames")
    hr = torch.stack(clip)
    return hr[..., : hr.shape[-2] // 4 * 4, : hr.shape[-1] // 4 * 4]


def depth_psnrs(net: RRN, hr: Tensor, progress: bool = False) -> list[float]:
    """Mean Y-PSNR of an RRN clip run with only its first k trunk blocks, k = 1..depth.

    LR is FOCAS's BD degradation of ``hr``; each depth runs the clip as the k-block RRN it stands
    for (the first k blocks' weights, its own recurrent state, streamed like any test clip). PSNR
    is on MATLAB Y (RRN's evaluation), float, no crop.
    """
    from tqdm import tqdm

    from vsr.archs.sequence import stream
    from vsr.data.degradations import bd_duf
    from vsr.metrics.psnr_ssim import PSNR

    device = next(net.parameters()).device
    lr = bd_duf(hr, 4)
    metric = PSNR(channel="y", y_formula="matlab")
    trunk = net.neuro
    out = []
    for k in tqdm(range(1, len(trunk.recon_trunk) + 1), desc="quality per depth",
                  disable=not progress, leave=False):
        shallow = RRN(trunk.scale, trunk.num_channels, k).to(device).eval()
        wanted = shallow.state_dict()  # the blocks past k are left out
        shallow.load_state_dict({key: v for key, v in net.state_dict().items() if key in wanted})
        srs = stream(shallow, lr, device)
        out.append(float(np.mean([metric(sr.clamp(0, 1), gt) for sr, gt in zip(srs, hr)])))
    return out


def normalise(psnrs: Sequence[float]) -> list[float]:
    """q_k = (PSNR_k − PSNR_1)/(PSNR_depth − PSNR_1): the original table's normalisation."""
    span = psnrs[-1] - psnrs[0]
    if span <= 0:
        raise ValueError(f"PSNR does not grow with depth ({list(psnrs)}); cannot build a table")
    return [(p - psnrs[0]) / span for p in psnrs]


def measure_quality_table(
    source: str,
    weights: str | None,
    depth: int = 10,
    num_channels: int = 128,
    frames: int = 8,
    device: str = "auto",
    progress: bool = True,
) -> tuple[list[float], list[float]]:
    """``--measure-quality``: the table re-derived on real frames with the given RRN weights.

    Returns (table, PSNR per depth).
    """
    from vsr.engine.checkpoint import load_weights
    from vsr.engine.device import resolve_device

    if weights is None:
        warnings.warn("--measure-quality without --weights measures a randomly initialised "
                      "RRN; the table will be meaningless", stacklevel=2)
    net = RRN(4, num_channels, depth)
    if weights:
        load_weights(net, weights)
    net = net.to(resolve_device(device)).eval()
    psnrs = depth_psnrs(net, load_clip(source, frames), progress)
    return normalise(psnrs), psnrs
