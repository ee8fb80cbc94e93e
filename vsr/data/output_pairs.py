"""Outputs a method saved, paired clip by clip and frame by frame with their ground truth: the
test set ``vsr evaluate`` scores, served to the evaluator like a test set (``clips()``, each clip
``streams()``-ing SR frames where a test clip streams LR ones).

Either side is one clip (a frame folder or a video file) or a folder of clips (frame folders and
video files, named by folder name or file stem), e.g. vsr's own ``visual/<dataset>/`` of a test
run (``<clip>/%08d.png`` or ``<clip>.mp4``). Clips pair by name. Frames pair by name (file stem)
when both sides are frame folders with the same stems, else by sorted order; a frame count or size
that differs is one error naming the clip, both sources and both numbers.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
from torch import Tensor

from vsr.data.video_folder import FrameSizeError
from vsr.errors import VSRError, VSRWarning
from vsr.io.frames import frame_to_tensor
from vsr.io.image import IMAGE_SUFFIXES, FrameReadError, list_frames, read_image
from vsr.io.video import VideoReader

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")


class PairingError(VSRError, ValueError):
    """Saved outputs and ground truth that do not pair up (clips, frame counts)."""


def _holds_images(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() for p in folder.iterdir())


def find_clips(root: str | os.PathLike) -> tuple[dict[str, Path], bool]:
    """({clip name: frame folder or video file}, whether ``root`` is itself one clip)."""
    root = Path(root)
    if root.is_file():
        if root.suffix.lower() in IMAGE_SUFFIXES:
            raise FrameReadError(f"{root} is a single image; expected a frame folder, a video "
                                 f"file or a folder of them")
        return {root.stem: root}, True
    if not root.is_dir():
        raise FrameReadError(f"{root} not found: expected a frame folder, a video file or a "
                             f"folder of them")
    if _holds_images(root):
        return {root.name: root}, True
    clips: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir() and _holds_images(path):
            name = path.name
        elif path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
            name = path.stem
        else:
            continue
        if name in clips:
            folder, video = sorted((clips[name], path), key=lambda p: not p.is_dir())
            if folder.is_dir() == video.is_dir():
                raise PairingError(f"clip {name!r} is both {folder} and {video}; remove one or "
                                   f"pass the one you mean itself")
            # a test run with save_images and save_video: the PNGs are the lossless copy
            warnings.warn(f"clip {name!r} is both frames {folder} and video {video}; the frames "
                          f"are scored (pass the video itself to score it)", VSRWarning,
                          stacklevel=2)
            path = folder
        clips[name] = path
    if not clips:
        raise FrameReadError(f"{root} holds no frames ({', '.join(IMAGE_SUFFIXES)}), frame "
                             f"folders or videos ({', '.join(VIDEO_SUFFIXES)})")
    return clips, False


def match_clips(sr_root: str | os.PathLike, gt_root: str | os.PathLike,
                clips: Sequence[str] | None = None) -> list[tuple[str, Path, Path]]:
    """(name, SR source, GT source) per clip: the SR side's clips (or ``clips``, in that order),
    each found by name on the GT side. One clip against one clip pairs whatever the names; one
    clip against a folder of clips picks the clip of the same name there."""
    sr, sr_single = find_clips(sr_root)
    gt, gt_single = find_clips(gt_root)
    if sr_single and gt_single:
        sr_path, (gt_name, gt_path) = next(iter(sr.values())), next(iter(gt.items()))
        sr, gt = {gt_name: sr_path}, {gt_name: gt_path}
    names = list(clips) if clips else list(gt if gt_single else sr)
    pairs = []
    for name in names:
        for side, found, root in (("SR", sr, sr_root), ("GT", gt, gt_root)):
            if name not in found:
                raise PairingError(f"clip {name!r}: no {side} clip of that name in {root} "
                                   f"(clips there: {', '.join(found)})")
        pairs.append((name, sr[name], gt[name]))
    return pairs


class _Side:
    """The frames of one side of a clip: a sorted frame folder or a video file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = list_frames(path) if path.is_dir() else None
        self.video = VideoReader(path) if self.frames is None else None

    @property
    def count(self) -> int | None:
        return len(self.frames) if self.frames is not None else self.video.frame_count

    @property
    def fps(self) -> Fraction | None:
        return self.video.fps if self.video is not None else None

    @property
    def files(self) -> list[Path]:
        """The files read, in pairing order (what a record's hash covers)."""
        return list(self.frames) if self.frames is not None else [self.path]

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the first frame (a video's from its header)."""
        if self.frames is not None:
            return read_image(self.frames[0]).shape[:2]
        return self.video.size

    def where(self, index: int) -> str:
        """Frame ``index`` as a user finds it: its file, or the video and the frame number."""
        if self.frames is not None:
            return str(self.frames[index])
        return f"frame {index} of {self.path}"

    def images(self) -> Iterator[np.ndarray]:
        if self.frames is not None:
            return (read_image(p) for p in self.frames)
        return iter(self.video)


class OutputPairClip:
    """One clip's saved SR frames and GT frames, paired and checked before any is scored."""

    def __init__(self, name: str, sr: Path, gt: Path, gt_reflect_pad: int = 0) -> None:
        self.name = name
        self.sr, self.gt = _Side(sr), _Side(gt)
        self.pad = gt_reflect_pad
        self.pairing = "sorted order"
        if self.sr.frames is not None and self.gt.frames is not None:
            sr_stems = {p.stem: p for p in self.sr.frames}
            if len(sr_stems) == len(self.sr.frames) and set(sr_stems) == {
                    p.stem for p in self.gt.frames}:
                self.sr.frames = [sr_stems[p.stem] for p in self.gt.frames]
                self.pairing = "name"
        counts = (self.sr.count, self.gt.count)
        if None not in counts and counts[0] != counts[1]:
            raise self._count_error(*counts)
        self.num_frames = self.gt.count if self.gt.count is not None else self.sr.count
        self.fps = self.sr.fps or self.gt.fps
        h, w = self.gt.size
        sr_size, gt_size = self.sr.size, (h + 2 * self.pad, w + 2 * self.pad)
        if tuple(sr_size) != gt_size:  # checked again per frame: frames of a folder may differ
            raise self._size_error(0, sr_size, gt_size)

    def _count_error(self, sr_count: int, gt_count: int, cut_short: bool = False) -> PairingError:
        ends = " (read to the end)" if cut_short else ""
        return PairingError(
            f"clip {self.name}: the SR {self.sr.path} holds {sr_count} frames but the GT "
            f"{self.gt.path} holds {gt_count}{ends}; frames pair one to one (by name when the "
            f"names match, else in sorted order), so both must hold the same frames")

    def _pairs(self) -> Iterator[tuple[Tensor, Tensor]]:
        end = object()
        index = -1
        pairs = itertools.zip_longest(self.sr.images(), self.gt.images(), fillvalue=end)
        for index, (sr, gt) in enumerate(pairs):
            if sr is end or gt is end:
                rest = sum(1 for _ in pairs) + 1  # the frames the longer side still holds
                counts = (index, index + rest) if sr is end else (index + rest, index)
                raise self._count_error(*counts, cut_short=True)
            if self.pad:
                gt = np.pad(gt, ((self.pad,) * 2, (self.pad,) * 2, (0, 0)), mode="reflect")
            if sr.shape != gt.shape:
                raise self._size_error(index, sr.shape, gt.shape)
            yield frame_to_tensor(sr), frame_to_tensor(gt)

    def _size_error(self, index: int, sr_shape: tuple, gt_shape: tuple) -> FrameSizeError:
        padded = ""
        if self.pad:
            h, w = gt_shape[0] - 2 * self.pad, gt_shape[1] - 2 * self.pad
            padded = (f" ({h}x{w} reflect-padded by {self.pad} px, as this protocol scores the "
                      f"GT; outputs already cropped to the GT's size are scored by a protocol "
                      f"without the pad)")
            if (h, w) == tuple(sr_shape[:2]):
                padded += "; these SR frames have the unpadded GT's size"
        return FrameSizeError(
            f"clip {self.name}: SR frame {self.sr.where(index)} is {sr_shape[0]}x{sr_shape[1]} "
            f"but GT frame {self.gt.where(index)} is {gt_shape[0]}x{gt_shape[1]}{padded} (HxW)")

    def streams(self) -> tuple[Iterator[Tensor], Iterator[Tensor]]:
        """SR and GT frames (C, H, W) float32 in [0, 1], in step: the GT frame of each pair waits
        in a queue of at most one frame for the evaluator to take after the SR one."""
        pending: deque[Tensor] = deque()

        def sr() -> Iterator[Tensor]:
            for sr_frame, gt_frame in self._pairs():
                pending.append(gt_frame)
                yield sr_frame

        def gt() -> Iterator[Tensor]:
            while pending:
                yield pending.popleft()

        return sr(), gt()

    def __repr__(self) -> str:
        return f"OutputPairClip({self.name!r}, num_frames={self.num_frames})"


class OutputPairs:
    """Saved SR outputs and their GT as a test set of clips (see the module docstring)."""

    def __init__(self, sr_root: str | os.PathLike, gt_root: str | os.PathLike,
                 clips: Sequence[str] | None = None, gt_reflect_pad: int = 0) -> None:
        self.sr_root, self.gt_root = Path(sr_root), Path(gt_root)
        self._clips = [OutputPairClip(name, sr, gt, gt_reflect_pad)
                       for name, sr, gt in match_clips(sr_root, gt_root, clips)]

    def clips(self) -> list[OutputPairClip]:
        return list(self._clips)
