"""TecoGAN-PyTorch's training data for FRVSR and TecoGAN (MODELS.md §3.4, §3.5).

One item is a ``num_frames`` sequence (tempo_extent, 10) starting at any frame of a clip, read
from GT frame folders, a BasicSR LMDB, TecoGAN's raw-bytes LMDB or videos (``open_store``):

* **BD** (``codes/data/unpaired_lmdb_dataset.py`` + ``base_model.prepare_data``): a GT crop
  enlarged by 2·int(3σ) px is cropped and augmented; the LR is its 9×9 σ = 1.5 Gaussian blur
  *without padding*, sampled with stride 4 (``BD_TecoGAN`` mode ``train``); the GT loses its
  int(3σ) = 4 px border, so LR pixel k sits on GT pixel 4k.
* **BI** (``paired_lmdb_dataset.py``): GT and a stored MATLAB-bicubic LR set (``lr_root``),
  cropped together on the LR grid.

"Moving first frame" (probability 0.3, ``moving_factor: 0.7``): the whole sequence is cut out
of the start frame alone, frame t at cumulative integer offset Σ_{i≤t} floor(U(lo, hi)) — BD
(−3.5, 4.5) in GT px, BI (−1.5, 1.5) in LR px (GT ×scale). Sequences running past a clip's end
are reflected, ``(…, n−2, n−1, n−2, …)``, once, as the original does; a start is served only if
one reflection reaches (so a 7-frame Vimeo septuplet serves 10-frame sequences from its first 4
frames; with ``n ≥ num_frames`` every frame is a start, as in TecoGAN).

Augmentation as the original: one spatial flip (none, H or W, 1/3 each), temporal flip (50 %;
the original's BI loader has none, so ``use_reverse`` defaults to BD only), rot90 k ∈ 0..3.
All randomness comes from the ``(index, seed)`` key; items are ``{"lr", "gt", "key"}`` with
(T, C, h, w) / (T, C, H, W) float32 RGB in [0, 1], like the other training sets.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from vsr.config.schema import Check, PositiveFloat, PositiveInt
from vsr.data.degradation_spec import DegradationSpec
from vsr.data.degradations import bd_tecogan
from vsr.data.storage import DataPathLike, FrameRef, FrameStore, open_store
from vsr.data.transforms import frames_to_tensor, to_float
from vsr.data.video_folder import (
    FrameSizeError,
    MetaEntries,
    Vid4,
    check_scale,
    pair_frames,
    select_clips,
)
from vsr.errors import VSRError
from vsr.registry import DATASETS

Probability = Annotated[float, Check("a probability in [0, 1]", lambda v: 0 <= v <= 1)]
# floor(U(lo, hi)) per frame and axis: BD in GT pixels, BI in LR pixels (the *_lmdb_dataset.py)
MOVING_RANGE = {"BD": (-3.5, 4.5), "BI": (-1.5, 1.5)}
TOS3_CLIPS = ("bridge", "face", "room")


class ClipTooShortError(VSRError, ValueError):
    """A clip has too few frames to serve even one reflected sequence."""


# --------------------------------------------------------------------------- pure helpers


def moving_offsets(rng: np.random.Generator, num_frames: int, degradation: str) -> np.ndarray:
    """(T, 2) integer (dy, dx) steps of a moving-first-frame sequence, floor(U(lo, hi))."""
    lo, hi = MOVING_RANGE[degradation]
    return np.floor(rng.uniform(lo, hi, size=(num_frames, 2))).astype(np.int64)


def moving_windows(offsets: np.ndarray, height: int, width: int) -> tuple[np.ndarray, int, int]:
    """Top-left corners (T, 2) of each frame's window in the source and the window size (h, w).

    Positions are the cumulative offsets shifted to start at 0; the window is the frame minus the
    positions' range, so every window fits.
    """
    pos = np.cumsum(offsets, axis=0)
    low = pos.min(axis=0)
    span = pos.max(axis=0) - low
    return pos - low, int(height - span[0]), int(width - span[1])


def moving_sequence(frame: Tensor, topleft: np.ndarray, height: int, width: int,
                    step: int = 1) -> Tensor:
    """(T, C, height·step, width·step) windows of one (C, H, W) frame at ``topleft·step``."""
    return torch.stack([frame[:, t * step : (t + height) * step, s * step : (s + width) * step]
                        for t, s in topleft.tolist()])


def reflected_indices(start: int, num_frames: int, total: int) -> list[int]:
    """Frame indices of a sequence from ``start``; past the end reflected once: i → 2(n−1) − i."""
    indices = [i if i < total else 2 * (total - 1) - i for i in range(start, start + num_frames)]
    if indices and min(indices) < 0:
        raise ValueError(f"a {num_frames}-frame sequence from frame {start} of a {total}-frame "
                         f"clip runs past one reflection")
    return indices


def sequence_starts(total: int, num_frames: int) -> int:
    """How many starts of a ``total``-frame clip a single end reflection serves (0: too short)."""
    return max(min(total, 2 * total - num_frames), 0)


@dataclass(frozen=True)
class TecoAugment:
    """One draw of TecoGAN's augmentation: spatial flip (None, -2 = H, -1 = W), temporal flip,
    rot90 count. Three draws always, so disabling one does not shift the others."""

    flip_dim: int | None = None
    reverse: bool = False
    rot90: int = 0

    @classmethod
    def sample(cls, rng: np.random.Generator, flip: bool = True, reverse: bool = True,
               rot90: bool = True) -> TecoAugment:
        axis, back, k = int(rng.integers(1, 4)), int(rng.integers(0, 2)), int(rng.integers(0, 4))
        return cls({1: None, 2: -2, 3: -1}[axis] if flip else None, reverse and back < 1,
                   k if rot90 else 0)

    def __call__(self, clip: Tensor) -> Tensor:
        """(T, C, H, W) in the original's order: flip, temporal flip, rot90 over (H, W)."""
        if self.flip_dim is not None:
            clip = clip.flip(self.flip_dim)
        if self.reverse:
            clip = clip.flip(0)
        return torch.rot90(clip, self.rot90, dims=(-2, -1)) if self.rot90 else clip


def random_corner(rng: np.random.Generator, height: int, width: int, size: int,
                  where: str) -> tuple[int, int]:
    """Uniform top-left corner of a ``size`` square (``random.randint(0, h - size)``)."""
    if size > height or size > width:
        raise FrameSizeError(f"{where} is {height}x{width}, smaller than the {size}x{size} crop")
    return int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))


# --------------------------------------------------------------------------- the dataset


@DATASETS.register()
class TecoGANTrain(Dataset):
    """FRVSR/TecoGAN training sequences (see the module docstring), ``ds[(index, seed)]``.

    ``degradation``: ``BD`` (LR made on the fly; ``sigma`` 1.5) or ``BI`` (``lr_root`` of
    MATLAB-bicubic frames, same clip and frame names). ``gt_patch_size`` is the GT crop after the
    BD border is removed (128 → LR 32). ``clips`` / ``meta_info`` select clips (TecoGAN's
    ``filter_file``) and give lengths without listing; item ``i`` is the ``i``-th start over all
    clips in order.
    """

    def __init__(
        self,
        gt_root: DataPathLike | FrameStore,
        degradation: Literal["BD", "BI"] = "BD",
        lr_root: DataPathLike | FrameStore | None = None,
        scale: PositiveInt = 4,
        num_frames: PositiveInt = 10,
        gt_patch_size: PositiveInt = 128,
        sigma: PositiveFloat = 1.5,
        moving_first_frame: bool = True,
        moving_prob: Probability = 0.3,
        use_flip: bool = True,
        use_rot90: bool = True,
        use_reverse: bool | None = None,
        clips: DataPathLike | Sequence[str] | None = None,
        meta_info: DataPathLike | MetaEntries | None = None,
    ) -> None:
        if degradation not in MOVING_RANGE:
            raise ValueError(f"degradation must be 'BD' or 'BI', got {degradation!r}")
        if (degradation == "BI") != (lr_root is not None):
            raise ValueError("degradation BI reads stored MATLAB-bicubic LR frames: give lr_root "
                             "with BI, and none with BD (its LR is made on the fly)"
                             if lr_root is None else "lr_root is only read with degradation BI")
        if gt_patch_size % scale:
            raise ValueError(f"gt_patch_size {gt_patch_size} is not a multiple of scale {scale}")
        self.gt_store = open_store(gt_root)
        self.lr_store = open_store(lr_root) if lr_root is not None else None
        self.degradation = degradation
        self.scale, self.num_frames, self.gt_patch_size = scale, num_frames, gt_patch_size
        self.sigma, self.border = sigma, int(3 * sigma)
        self.moving_prob = moving_prob if moving_first_frame else 0.0
        reverse = degradation == "BD" if use_reverse is None else use_reverse
        self.augment_flags = {"flip": use_flip, "reverse": reverse, "rot90": use_rot90}
        self.clip_names: list[str] = []
        self._lengths: list[int] = []
        self._frames: dict[int, list[tuple[FrameRef, FrameRef | None]]] = {}
        counts = []
        for name, nframes, _ in select_clips(self.gt_store, meta_info, clips):
            if nframes is None:  # no meta_info: listing gives the count
                self._frames[len(self.clip_names)] = self._list_clip(name, None)
                nframes = len(self._frames[len(self.clip_names)])
            starts = sequence_starts(nframes, num_frames)
            if starts == 0:
                raise ClipTooShortError(
                    f"clip {self.gt_store.locate(name)} has {nframes} frames; a {num_frames}-frame "
                    f"sequence reflected once at the clip end needs at least "
                    f"{num_frames // 2 + 1} (lower num_frames or leave the clip out)")
            self.clip_names.append(name)
            self._lengths.append(nframes)
            counts.append(starts)
        if not counts:
            raise ValueError(f"no clips selected in {self.gt_store.locate('')}")
        self._ends = np.cumsum(counts).tolist()

    def _list_clip(self, name: str, expected: int | None) -> list[tuple[FrameRef, FrameRef | None]]:
        gt = self.gt_store.frames(name, expected)
        lr = pair_frames(gt, self.lr_store, name) if self.lr_store is not None else [None] * len(gt)
        return list(zip(gt, lr))

    def __len__(self) -> int:
        return self._ends[-1]

    def sequence(self, index: int) -> tuple[str, list[tuple[FrameRef, FrameRef | None]]]:
        """Clip name and the (GT, LR) frames of sequence ``index``, reflected past the end."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} sequences")
        clip = bisect.bisect_right(self._ends, index)
        start = index - (self._ends[clip - 1] if clip else 0)
        if clip not in self._frames:
            self._frames[clip] = self._list_clip(self.clip_names[clip], self._lengths[clip])
        frames = self._frames[clip]
        return self.clip_names[clip], [frames[i] for i in
                                       reflected_indices(start, self.num_frames, len(frames))]

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        if not (isinstance(key, tuple) and len(key) == 2):
            raise TypeError(f"index training sets with (index, seed) tuples, got {key!r}")
        rng = np.random.default_rng(int(key[1]))
        name, frames = self.sequence(int(key[0]))
        moving = bool(rng.random() < self.moving_prob)
        offsets = moving_offsets(rng, self.num_frames, self.degradation) if moving else None
        if self.degradation == "BD":
            lr, gt = self._bd_item(frames, offsets, rng)
        else:
            lr, gt = self._bi_item(frames, offsets, rng)
        return {"lr": lr, "gt": gt, "key": f"{name}/{frames[0][0].stem}"}

    def _augment(self, rng: np.random.Generator) -> TecoAugment:
        return TecoAugment.sample(rng, **self.augment_flags)

    def _bd_item(self, frames: list, offsets: np.ndarray | None,
                 rng: np.random.Generator) -> tuple[Tensor, Tensor]:
        """Enlarged GT crop → augment → valid blur, stride ``scale`` → GT border removed."""
        gt = self._read_gt([g for g, _ in frames], offsets)
        size = self.gt_patch_size + 2 * self.border
        where = self._where(frames[0][0], offsets)
        top, left = random_corner(rng, *gt.shape[-2:], size, where)
        gt = self._augment(rng)(gt[..., top : top + size, left : left + size])
        lr = bd_tecogan(to_float(gt, torch.float64), mode="train", sigma=self.sigma,
                        scale=self.scale)
        b, s = self.border, self.scale
        gt = gt[..., b : b + s * lr.shape[-2], b : b + s * lr.shape[-1]]
        return lr.float().contiguous(), to_float(gt)

    def _bi_item(self, frames: list, offsets: np.ndarray | None,
                 rng: np.random.Generator) -> tuple[Tensor, Tensor]:
        """GT and stored LR, moved and cropped together on the LR grid, then augmented."""
        s = self.scale
        gt_first, lr_first = frames[0]
        if offsets is None:
            gt = frames_to_tensor(_read_frames([g for g, _ in frames]))
            lr = frames_to_tensor(_read_frames([r for _, r in frames]))
        else:
            gt, lr = frames_to_tensor([gt_first.read()]), frames_to_tensor([lr_first.read()])
        check_scale(lr_first, tuple(lr.shape[-2:]), gt_first, tuple(gt.shape[-2:]), s)
        if offsets is not None:
            topleft, h, w = moving_windows(offsets, *lr.shape[-2:])
            lr = moving_sequence(lr[0], topleft, h, w)
            gt = moving_sequence(gt[0], topleft, h, w, step=s)
        size = self.gt_patch_size // s
        top, left = random_corner(rng, *lr.shape[-2:], size, self._where(lr_first, offsets))
        lr = lr[..., top : top + size, left : left + size]
        gt = gt[..., top * s : (top + size) * s, left * s : (left + size) * s]
        augment = self._augment(rng)
        return to_float(augment(lr)), to_float(augment(gt))

    @staticmethod
    def _read_gt(refs: list[FrameRef], offsets: np.ndarray | None) -> Tensor:
        """The sequence's frames, or all of them cut out of its first frame when moving."""
        if offsets is None:
            return frames_to_tensor(_read_frames(refs))
        frame = frames_to_tensor([refs[0].read()])[0]
        return moving_sequence(frame, *moving_windows(offsets, *frame.shape[-2:]))

    @staticmethod
    def _where(ref: FrameRef, offsets: np.ndarray | None) -> str:
        return f"frame {ref}" + (" moved as a first frame" if offsets is not None else "")


def _read_frames(refs: list[FrameRef]) -> list[np.ndarray]:
    """Each distinct frame read once (reflected sequences repeat frames); sizes must agree."""
    cache: dict[int, np.ndarray] = {}
    images = []
    for ref in refs:
        if id(ref) not in cache:
            cache[id(ref)] = ref.read()
        images.append(cache[id(ref)])
    for ref, image in zip(refs[1:], images[1:]):
        if image.shape != images[0].shape:
            raise FrameSizeError(f"frame {ref} is {image.shape[0]}x{image.shape[1]} but {refs[0]} "
                                 f"in the same clip is {images[0].shape[0]}x{images[0].shape[1]}")
    return images


@DATASETS.register()
class ToS3(Vid4):
    """TecoGAN's ToS3 test set (bridge, face, room) in its layout ``root/GT/<clip>/*.png`` with
    ``Gaussian4xLR`` (BD) and ``Bicubic4xLR`` (BI) beside it: LR from ``lr_subdir`` or made
    from the GT by ``degradation``, exactly as Vid4."""

    def __init__(
        self,
        root: DataPathLike,
        degradation: DegradationSpec | None = None,
        lr_subdir: str | None = None,
        scale: int = 4,
        clips: DataPathLike | Sequence[str] | None = TOS3_CLIPS,
    ) -> None:
        super().__init__(root, degradation=degradation, lr_subdir=lr_subdir, scale=scale,
                         clips=list(clips) if isinstance(clips, tuple) else clips)
