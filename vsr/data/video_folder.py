"""Datasets over folders of frame folders: ``root/<clip>/<frame>.png``, or an LMDB of them.

Training sets (``PairedVideoFolder``, ``GTVideoFolder``) serve every window of ``num_frames``
consecutive frames of every clip, indexed by ``ds[(index, seed)]`` so that all randomness comes
from the seed. Test sets (``VideoFolderTest``, ``Vid4``) hand out clips that stream one frame at
a time, so no test set is ever held in memory. Clip lists, lengths and sizes are read from the
data (or a BasicSR-style meta_info file), never keyed on a dataset's name. Every root may be a
frame folder or an LMDB (see ``vsr.data.storage``): frames are read through a ``FrameStore``.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from vsr.data.degradation_spec import Degradation, DegradationSpec, make_degradation
from vsr.data.storage import DataPathLike, FrameRef, FrameStore, open_store
from vsr.data.transforms import (
    Augment,
    frames_to_tensor,
    paired_random_crop,
    random_crop_box,
    to_float,
)
from vsr.errors import VSRError
from vsr.io.frames import frame_to_tensor
from vsr.io.image import FrameReadError
from vsr.registry import DATASETS

PathLike = str | os.PathLike
Size = tuple[int, int]
MetaEntries = Sequence[tuple[str, int | None, Size | None]]


class FrameSizeError(VSRError, ValueError):
    """Frames that should line up (LR x scale = GT, or frames of one clip) differ in size."""


# --------------------------------------------------------------------------- clip discovery


def read_meta_info(path: PathLike) -> list[tuple[str, int, Size | None]]:
    """Parse BasicSR meta_info lines ``name nframes (h,w,c)`` into (name, nframes, (h, w)).

    The size field is optional (some lists carry only name and count).
    """
    entries = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=2)
        try:
            size = None
            if len(parts) == 3:
                h, w = (int(v) for v in re.findall(r"\d+", parts[2])[:2])
                size = (h, w)
            entries.append((parts[0], int(parts[1]), size))
        except (IndexError, ValueError):
            raise ValueError(
                f"{path}:{lineno}: expected 'name nframes (h,w,c)', got {line!r}"
            ) from None
    if not entries:
        raise ValueError(f"meta_info file {path} lists no clips")
    return entries


def read_clip_list(clips: DataPathLike | Sequence[str]) -> list[str]:
    """Clip names from a list, or from a text file with one name per line (e.g. Vimeo's
    ``sep_trainlist.txt``)."""
    if isinstance(clips, (str, os.PathLike)):
        return [line.strip() for line in Path(clips).read_text().splitlines() if line.strip()]
    return list(clips)


def pair_frames(gt_frames: list[FrameRef], lr_store: FrameStore, clip: str) -> list[FrameRef]:
    """The LR frame for each GT frame, matched by file stem (the suffix may differ)."""
    by_stem = {Path(name).stem: name for name in lr_store.frame_names(clip)}
    lr_frames = []
    for gt in gt_frames:
        if gt.stem not in by_stem:
            raise FrameReadError(
                f"frame not found: {lr_store.locate(clip, gt.name)} (LR frame for GT frame {gt})"
            )
        lr_frames.append(FrameRef(lr_store, clip, by_stem.pop(gt.stem)))
    if by_stem:
        extra = lr_store.locate(clip, min(by_stem.values()))
        gt_clip = gt_frames[0].store.locate(clip)
        raise FrameReadError(f"LR frame {extra} has no GT frame in {gt_clip}")
    return lr_frames


def check_scale(
    lr_frame: FrameRef, lr_size: Size, gt_frame: FrameRef, gt_size: Size, scale: int
) -> None:
    """Raise one error naming both frames when LR x scale is not the GT size."""
    if (lr_size[0] * scale, lr_size[1] * scale) != tuple(gt_size):
        raise FrameSizeError(
            f"LR frame {lr_frame} is {lr_size[0]}x{lr_size[1]} (HxW) but GT frame {gt_frame} is "
            f"{gt_size[0]}x{gt_size[1]}; expected GT = LR x {scale}"
        )


def _read_same_size(frames: list[FrameRef]) -> list[np.ndarray]:
    """Read a window; frames of one window must share a size to be stacked."""
    images = [f.read() for f in frames]
    for frame, image in zip(frames[1:], images[1:]):
        if image.shape != images[0].shape:
            raise FrameSizeError(
                f"frame {frame} is {image.shape[0]}x{image.shape[1]} but {frames[0]} in the same "
                f"clip is {images[0].shape[0]}x{images[0].shape[1]}"
            )
    return images


def select_clips(
    store: FrameStore,
    meta_info: DataPathLike | MetaEntries | None,
    clips: DataPathLike | Sequence[str] | None,
) -> list[tuple[str, int | None, Size | None]]:
    """(name, nframes or None, size or None) per clip: from meta_info (a file, or entries already
    known, e.g. Vimeo's 7 frames per listed clip) if given, else discovered; restricted to
    ``clips`` (in that order) when given."""
    if isinstance(meta_info, (str, os.PathLike)):
        entries = read_meta_info(meta_info)
    elif meta_info is not None:
        entries = list(meta_info)
    else:
        entries = [(name, None, None) for name in store.clips()]
    if clips is None:
        return entries
    by_name = {e[0]: e for e in entries}
    selected = []
    for name in read_clip_list(clips):
        if name not in by_name:
            source = meta_info if isinstance(meta_info, (str, os.PathLike)) else store.locate("")
            raise FrameReadError(f"clip {name!r} not found in {source} ({store.locate(name)})")
        selected.append(by_name[name])
    return selected


# --------------------------------------------------------------------------- training sets


class _WindowDataset(Dataset):
    """Shared indexing: item ``i`` is the ``i``-th window over all clips in order."""

    def __init__(
        self,
        gt_root: DataPathLike | FrameStore,
        scale: int,
        num_frames: int,
        gt_patch_size: int | tuple[int, int] | None,
        meta_info: DataPathLike | MetaEntries | None,
        use_hflip: bool,
        use_vflip: bool,
        use_transpose: bool,
        use_reverse: bool,
        clips: DataPathLike | Sequence[str] | None,
    ) -> None:
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        self.gt_store = open_store(gt_root)
        self.scale = scale
        self.num_frames = num_frames
        self.gt_patch_size = gt_patch_size
        self.augment_probs = {
            "hflip": 0.5 if use_hflip else 0.0,
            "vflip": 0.5 if use_vflip else 0.0,
            "transpose": 0.5 if use_transpose else 0.0,
            "reverse": 0.5 if use_reverse else 0.0,
        }
        self.clip_names: list[str] = []
        self._frames: dict[int, list[tuple[FrameRef, FrameRef | None]]] = {}
        self._expected: list[int | None] = []
        counts = []
        for name, nframes, _ in select_clips(self.gt_store, meta_info, clips):
            if nframes is None:  # no meta_info: the listing is needed for the count anyway
                self._frames[len(self.clip_names)] = self._list_clip(name, None)
                nframes = len(self._frames[len(self.clip_names)])
            self.clip_names.append(name)
            self._expected.append(nframes)
            counts.append(max(nframes - num_frames + 1, 0))
        self._ends = np.cumsum(counts).tolist()
        if not self._ends or self._ends[-1] == 0:
            raise ValueError(f"no clip in {self.gt_store.locate('')} has {num_frames} frames")

    def _list_clip(self, name: str, expected: int | None) -> list[tuple[FrameRef, FrameRef | None]]:
        gt = self.gt_store.frames(name, expected)
        return list(zip(gt, [None] * len(gt)))

    def __len__(self) -> int:
        return self._ends[-1]

    def _window(self, index: int) -> tuple[str, list[tuple[FrameRef, FrameRef | None]]]:
        """Clip name and (GT, LR) frames of window ``index``; clips listed lazily when a
        meta_info file gave their lengths (no listing of tens of thousands of folders upfront)."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        clip = bisect.bisect_right(self._ends, index)
        start = index - (self._ends[clip - 1] if clip else 0)
        if clip not in self._frames:
            self._frames[clip] = self._list_clip(self.clip_names[clip], self._expected[clip])
        return self.clip_names[clip], self._frames[clip][start : start + self.num_frames]

    def _unpack(self, key: tuple[int, int]) -> tuple[int, np.random.Generator]:
        if not (isinstance(key, tuple) and len(key) == 2):
            raise TypeError(f"index training sets with (index, seed) tuples, got {key!r}")
        return int(key[0]), np.random.default_rng(int(key[1]))

    def _sample_augment(self, rng: np.random.Generator) -> Augment:
        return Augment.sample(rng, **self.augment_probs)


@DATASETS.register()
class PairedVideoFolder(_WindowDataset):
    """LR and GT frame folders (or LMDBs) with the same clip and frame names.

    Item ``{"lr": (T,C,h,w), "gt": (T,C,H,W), "key": "<clip>/<first frame stem>"}``, float32
    RGB in [0, 1]; draws: crop position, then hflip/vflip/transpose/reverse (one draw each).
    """

    def __init__(
        self,
        lr_root: DataPathLike | FrameStore,
        gt_root: DataPathLike | FrameStore,
        scale: int,
        num_frames: int,
        gt_patch_size: int | tuple[int, int] | None = None,
        meta_info: DataPathLike | MetaEntries | None = None,
        use_hflip: bool = True,
        use_vflip: bool = False,
        use_transpose: bool = False,
        use_reverse: bool = False,
        clips: DataPathLike | Sequence[str] | None = None,
    ) -> None:
        self.lr_store = open_store(lr_root)
        super().__init__(
            gt_root,
            scale,
            num_frames,
            gt_patch_size,
            meta_info,
            use_hflip,
            use_vflip,
            use_transpose,
            use_reverse,
            clips,
        )

    def _list_clip(self, name: str, expected: int | None) -> list[tuple[FrameRef, FrameRef | None]]:
        gt = self.gt_store.frames(name, expected)
        return list(zip(gt, pair_frames(gt, self.lr_store, name)))

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        index, rng = self._unpack(key)
        name, window = self._window(index)
        gt_paths = [g for g, _ in window]
        lr_paths = [lr for _, lr in window]
        gt_imgs = _read_same_size(gt_paths)
        lr_imgs = _read_same_size(lr_paths)
        check_scale(
            lr_paths[0], lr_imgs[0].shape[:2], gt_paths[0], gt_imgs[0].shape[:2], self.scale
        )
        lr, gt = frames_to_tensor(lr_imgs), frames_to_tensor(gt_imgs)
        if self.gt_patch_size is not None:
            lr, gt = paired_random_crop(lr, gt, self.gt_patch_size, self.scale, rng)
        augment = self._sample_augment(rng)
        return {
            "lr": to_float(augment(lr)),
            "gt": to_float(augment(gt)),
            "key": f"{name}/{gt_paths[0].stem}",
        }


@DATASETS.register()
class GTVideoFolder(_WindowDataset):
    """GT frame folders (or an LMDB) only; the LR clip is made on the fly by a registered
    degradation.

    Order per item: crop a GT patch (corner on the scale grid), augment the GT, then degrade —
    degrading last keeps the LR/GT sampling phase of the degradation (e.g. BD's LR k <-> HR 4k)
    the same for flipped samples as at test time. The degradation therefore sees only the patch,
    so its border handling applies at the patch edge. Without a patch, the GT is cropped to a
    multiple of the scale. Same item format as ``PairedVideoFolder``.
    """

    def __init__(
        self,
        gt_root: DataPathLike | FrameStore,
        degradation: DegradationSpec,
        scale: int,
        num_frames: int,
        gt_patch_size: int | tuple[int, int] | None = None,
        meta_info: DataPathLike | MetaEntries | None = None,
        use_hflip: bool = True,
        use_vflip: bool = False,
        use_transpose: bool = False,
        use_reverse: bool = False,
        clips: DataPathLike | Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            gt_root,
            scale,
            num_frames,
            gt_patch_size,
            meta_info,
            use_hflip,
            use_vflip,
            use_transpose,
            use_reverse,
            clips,
        )
        self.degradation_spec = degradation
        self.degrade = make_degradation(degradation, scale=scale)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        index, rng = self._unpack(key)
        name, window = self._window(index)
        gt_paths = [g for g, _ in window]
        gt = frames_to_tensor(_read_same_size(gt_paths))
        height, width = gt.shape[-2:]
        if self.gt_patch_size is not None:
            top, left, ph, pw = random_crop_box(height, width, self.gt_patch_size, rng, self.scale)
            gt = gt[..., top : top + ph, left : left + pw]
        else:
            s = self.scale
            gt = gt[..., : height // s * s, : width // s * s]
        gt = self._sample_augment(rng)(gt)
        lr = self.degrade(to_float(gt, torch.float64))
        gt = to_float(gt)
        if (lr.shape[-2] * self.scale, lr.shape[-1] * self.scale) != tuple(gt.shape[-2:]):
            raise FrameSizeError(
                f"degradation {self.degradation_spec!r} turned GT {tuple(gt.shape[-2:])} of "
                f"{gt_paths[0]} into LR {tuple(lr.shape[-2:])}, not GT / {self.scale}"
            )
        return {"lr": lr.float().contiguous(), "gt": gt, "key": f"{name}/{gt_paths[0].stem}"}


def window_training_set(
    gt_root: DataPathLike | FrameStore,
    lr_root: DataPathLike | FrameStore | None,
    degradation: DegradationSpec | None,
    **kwargs: Any,
) -> PairedVideoFolder | GTVideoFolder:
    """The two modes of a named training set (Vimeo-90K, REDS): stored LR frames, or LR made
    from the GT by a degradation."""
    if (lr_root is None) == (degradation is None):
        raise ValueError("give either lr_root (stored LR frames) or a degradation, not both")
    if lr_root is not None:
        return PairedVideoFolder(lr_root, gt_root, **kwargs)
    return GTVideoFolder(gt_root, degradation, **kwargs)


# --------------------------------------------------------------------------- test sets


class TestClip:
    """One test clip that streams frames: LR from files or degraded from GT, GT when present.

    Sizes are (H, W); ``gt_size`` comes from meta_info or the first GT frame, ``lr_size`` from
    the first LR frame (degrading the first GT frame when LR is made on the fly).
    """

    __test__ = False  # a data class, not a pytest test class despite its name

    def __init__(
        self,
        name: str,
        scale: int,
        lr_paths: list[FrameRef] | None,
        gt_paths: list[FrameRef] | None,
        degradation: Degradation | None = None,
        gt_size: Size | None = None,
        lr_size: Size | None = None,
        fps: float | None = None,
        gt_reflect_pad: int = 0,
        conditions: dict[str, Sequence] | None = None,
    ) -> None:
        if lr_paths is None and (gt_paths is None or degradation is None):
            raise ValueError(f"clip {name}: needs LR frames, or GT frames and a degradation")
        self.name = name
        self.scale = scale
        self.fps = fps
        self._lr_paths = lr_paths
        self._gt_paths = gt_paths
        self._degrade = degradation
        self._gt_size = gt_size
        self._lr_size = lr_size
        self._pad = gt_reflect_pad
        self.num_frames = len(lr_paths if lr_paths is not None else gt_paths)
        self.conditions = dict(conditions or {})
        for key, values in self.conditions.items():
            if len(values) != self.num_frames:
                raise ValueError(f"clip {name}: condition {key!r} has {len(values)} values for "
                                 f"{self.num_frames} frames")

    @cached_property
    def gt_size(self) -> Size | None:
        if self._gt_size is not None or self._gt_paths is None:
            return self._gt_size
        return self._gt_paths[0].read().shape[:2]

    @cached_property
    def lr_size(self) -> Size:
        if self._lr_size is not None:
            return self._lr_size
        return tuple(next(self.lr_frames()).shape[-2:])

    def lr_frames(self) -> Iterator[Tensor]:
        """LR frames (C, h, w) float32 RGB in [0, 1], one at a time."""
        if self._lr_paths is None:
            for img in self._iter_gt_images():
                yield self._degrade_image(img)
            return
        for i, path in enumerate(self._lr_paths):
            img = path.read()
            if self._gt_paths is not None:
                check_scale(path, img.shape[:2], self._gt_paths[i], self.gt_size, self.scale)
            yield frame_to_tensor(img)

    def gt_frames(self) -> Iterator[Tensor] | None:
        """GT frames (C, H, W) float32 RGB in [0, 1], or None for an LR-only clip."""
        if self._gt_paths is None:
            return None
        return (frame_to_tensor(img) for img in self._iter_gt_images())

    def streams(self) -> tuple[Iterator[Tensor], Iterator[Tensor] | None]:
        """LR and GT iterators for one evaluation pass. With LR made from GT, each GT frame is
        read once: the LR iterator hands it to the GT iterator through a queue, which stays as
        short as the model reads ahead (the GT iterator is consumed in step with the SR output).
        """
        if self._lr_paths is not None:
            return self.lr_frames(), self.gt_frames()
        pending: deque[Tensor] = deque()

        def lr() -> Iterator[Tensor]:
            for img in self._iter_gt_images():
                pending.append(frame_to_tensor(img))
                yield self._degrade_image(img)

        def gt() -> Iterator[Tensor]:
            while pending:
                yield pending.popleft()

        return lr(), gt()

    def _degrade_image(self, img: np.ndarray) -> Tensor:
        hr = to_float(frames_to_tensor([img]), torch.float64)
        return self._degrade(hr)[0].float().contiguous()

    def _iter_gt_images(self) -> Iterator[np.ndarray]:
        for path in self._gt_paths:
            img = path.read()
            if img.shape[:2] != tuple(self.gt_size):
                raise FrameSizeError(
                    f"GT frame {path} is {img.shape[0]}x{img.shape[1]} but clip {self.name} is "
                    f"{self.gt_size[0]}x{self.gt_size[1]}"
                )
            if self._pad:
                img = np.pad(img, ((self._pad,) * 2, (self._pad,) * 2, (0, 0)), mode="reflect")
            yield img

    def __repr__(self) -> str:
        return f"TestClip({self.name!r}, num_frames={self.num_frames})"


@DATASETS.register()
class VideoFolderTest:
    """Clip-wise test set over frame folders (or LMDBs), in one of three modes:

    * paired: ``lr_root`` and ``gt_root`` (clip list from the LR folder, which may hold a subset);
    * GT-only: ``gt_root`` and ``degradation`` (LR made per frame on the fly);
    * LR-only: ``lr_root`` alone (no GT: super-resolve without scoring).

    ``meta_info`` (BasicSR lines) gives clip names, lengths and sizes — of the GT frames when
    there is a GT root, else of the LR frames; ``clips`` restricts and orders the clips.
    ``gt_reflect_pad`` (GT-only mode) reflect-pads every GT frame before it is degraded and
    scored, as RRN's test does with 8 px; a metric ``crop_border`` of the same size removes it.
    """

    def __init__(
        self,
        lr_root: DataPathLike | FrameStore | None = None,
        gt_root: DataPathLike | FrameStore | None = None,
        *,
        scale: int,
        degradation: DegradationSpec | None = None,
        clips: DataPathLike | Sequence[str] | None = None,
        meta_info: DataPathLike | MetaEntries | None = None,
        gt_reflect_pad: int = 0,
    ) -> None:
        if gt_reflect_pad and degradation is None:
            raise ValueError("gt_reflect_pad needs LR made from the GT (a degradation)")
        self.gt_reflect_pad = gt_reflect_pad
        if lr_root is not None and degradation is not None:
            raise ValueError("give either lr_root (stored LR frames) or a degradation, not both")
        if lr_root is None and (gt_root is None or degradation is None):
            raise ValueError("need lr_root, or gt_root together with a degradation")
        self.lr_store = open_store(lr_root) if lr_root is not None else None
        self.gt_store = open_store(gt_root) if gt_root is not None else None
        self.scale = scale
        self.degradation = (
            make_degradation(degradation, scale=scale) if degradation is not None else None
        )
        self._entries = select_clips(self.lr_store or self.gt_store, meta_info, clips)

    def clips(self) -> list[TestClip]:
        """Clips in order; lists frame files (cheap) but reads no image."""
        result = []
        for name, nframes, size in self._entries:
            gt_paths = lr_paths = None
            if self.gt_store is not None:
                gt_paths = self.gt_store.frames(name, nframes)
                if self.lr_store is not None:
                    lr_paths = pair_frames(gt_paths, self.lr_store, name)
            else:
                lr_paths = self.lr_store.frames(name, nframes)
            has_gt = self.gt_store is not None  # meta_info sizes describe GT if any, else LR
            result.append(
                TestClip(
                    name,
                    self.scale,
                    lr_paths,
                    gt_paths,
                    self.degradation,
                    gt_size=size if has_gt else None,
                    lr_size=None if has_gt else size,
                    gt_reflect_pad=self.gt_reflect_pad,
                )
            )
        return result


@DATASETS.register()
class Vid4(VideoFolderTest):
    """Vid4-style layout: ``root/GT/<clip>/*.png``, optional ``root/<lr_subdir>/<clip>``.

    With ``lr_subdir`` the clips are those present in the LR folder (real LR sets may cover only
    some clips); otherwise LR comes from ``degradation`` and the clip list, lengths and sizes
    from ``root/meta_info_Vid4_GT.txt`` when present, else from the GT folders.
    """

    def __init__(
        self,
        root: DataPathLike,
        degradation: DegradationSpec | None = None,
        lr_subdir: str | None = None,
        scale: int = 4,
        clips: DataPathLike | Sequence[str] | None = None,
        gt_reflect_pad: int = 0,
    ) -> None:
        root = Path(root)
        meta = root / "meta_info_Vid4_GT.txt"
        super().__init__(
            lr_root=root / lr_subdir if lr_subdir is not None else None,
            gt_root=root / "GT",
            scale=scale,
            degradation=degradation,
            clips=clips,
            meta_info=meta if lr_subdir is None and meta.is_file() else None,
            gt_reflect_pad=gt_reflect_pad,
        )
