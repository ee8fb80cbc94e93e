"""One interface for frame folders and video files, in and out, plus numpy <-> tensor helpers,
so the rest of the framework never cares where frames come from or go to."""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from vsr.io.image import (
    IMAGE_SUFFIXES,
    FrameReadError,
    FrameWriteError,
    list_frames,
    read_image,
    write_image,
)
from vsr.io.sink import FrameSink
from vsr.io.video import WRITABLE_SUFFIXES, VideoReader, VideoWriter


class FrameSource(ABC):
    """Iterable of uint8 RGB (H, W, 3) frames with a name, a size and, if known, a rate."""

    name: str
    fps: Fraction | None
    size: tuple[int, int]
    has_audio: bool = False  # whether an audio track can be copied to the output

    @property
    @abstractmethod
    def frame_count(self) -> int | None:
        """Number of frames, or None when the container does not say."""

    @property
    def expected_frames(self) -> int | None:
        """Frames the source should yield (a count or an estimate from the duration)."""
        return self.frame_count

    @abstractmethod
    def __iter__(self) -> Iterator[np.ndarray]: ...

    def __len__(self) -> int:
        if self.frame_count is None:
            raise TypeError(f"frame count of {self.name} is unknown")
        return self.frame_count


class FolderFrameSource(FrameSource):
    """Sorted images of a folder; all must share the first frame's size."""

    def __init__(self, folder: str | os.PathLike, fps: Fraction | float | None = None) -> None:
        self.folder = Path(folder)
        self.paths = list_frames(self.folder)
        self.name = self.folder.name
        self.fps = Fraction(fps) if fps is not None else None
        self.size = read_image(self.paths[0]).shape[:2]

    @property
    def frame_count(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.paths:
            frame = read_image(path)
            if frame.shape[:2] != self.size:
                raise FrameReadError(
                    f"frame {path} is {frame.shape[0]}x{frame.shape[1]}; expected "
                    f"{self.size[0]}x{self.size[1]} like {self.paths[0].name}"
                )
            yield frame


class VideoFrameSource(FrameSource):
    """Frames of a video file, decoded one at a time."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.reader = VideoReader(path)
        self.path = self.reader.path
        self.name = self.path.stem
        self.fps = self.reader.fps
        self.size = self.reader.size

    @property
    def frame_count(self) -> int | None:
        return self.reader.frame_count

    @property
    def expected_frames(self) -> int | None:
        return self.reader.expected_frames

    @property
    def has_audio(self) -> bool:
        return self.reader.has_audio

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.reader)


def open_frame_source(path: str | os.PathLike, fps: Fraction | float | None = None) -> FrameSource:
    """A folder of images or a video file; ``fps`` only fills in a folder's missing rate."""
    path = Path(path)
    if path.is_dir():
        return FolderFrameSource(path, fps)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise FrameReadError(f"{path} is a single image; expected a frame folder or a video file")
    if not path.exists():
        raise FrameReadError(f"frame source not found: {path} (expected a frame folder or video)")
    return VideoFrameSource(path)


class FolderFrameSink(FrameSink):
    """Frames as ``%08d.png`` files, each written atomically.

    A folder that already holds images is refused unless ``replace``, which deletes them first:
    mixing new frames with a longer old run's leftovers would silently corrupt the sequence.
    """

    def __init__(self, folder: str | os.PathLike, replace: bool = False) -> None:
        self.folder = Path(folder)
        old = [p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES] \
            if self.folder.is_dir() else []
        if old and not replace:
            raise FileExistsError(f"output folder {self.folder} already holds images; clear it")
        try:
            for path in old:
                path.unlink()
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FrameWriteError(f"cannot write {self.folder}: {exc.strerror or exc}") from exc
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        write_image(self.folder / f"{self.frames_written:08d}.png", frame)  # errors name the file
        self.frames_written += 1

    def close(self) -> None:
        """Nothing to flush: every frame is already complete on disk."""

    def abort(self) -> None:
        """Frames already written stay; each is whole, and they show how far the run got."""


def is_video_output(path: str | os.PathLike) -> bool:
    """Whether an output path names a video file (a writable container suffix) rather than a
    frames folder (no suffix, or an existing folder); any other suffix is an error, so that a
    typo like ``out.mpg`` does not quietly become a folder of PNGs."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in WRITABLE_SUFFIXES:
        return True
    if not suffix or path.is_dir():
        return False
    raise ValueError(
        f"output {path}: cannot write {suffix} files; expected a video ending in "
        f"{', '.join(WRITABLE_SUFFIXES)} or a frames folder path without an extension"
    )


def open_frame_sink(
    path: str | os.PathLike,
    fps: Fraction | float | str | None,
    audio_from: str | os.PathLike | None = None,
    *,
    encoder: dict | None = None,
    replace: bool = False,
) -> FrameSink:
    """A video writer for a video suffix, else a PNG folder (where fps, audio and ``encoder``
    do not apply). ``encoder`` holds VideoWriter's codec/crf/preset; a video always replaces
    the old file on close, a folder's old images are deleted first only with ``replace``."""
    path = Path(path)
    if is_video_output(path):
        if fps is None:
            raise ValueError(f"writing video {path} needs a frame rate; got fps=None")
        return VideoWriter(path, fps, audio_from=audio_from, **(encoder or {}))
    if audio_from is not None:
        warnings.warn(
            f"frame folder {path} cannot hold audio; ignoring audio_from={audio_from}",
            stacklevel=2,
        )
    return FolderFrameSink(path, replace=replace)


def frame_to_tensor(frame: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float32 (..., 3, H, W) in [0, 1], the layout networks expect."""
    if frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 frame, got {frame.dtype}")
    return torch.from_numpy(np.ascontiguousarray(frame)).movedim(-1, -3).float().div_(255)


def tensor_to_frame(tensor: torch.Tensor) -> np.ndarray:
    """float (..., 3, H, W) in [0, 1] -> uint8 (..., H, W, 3), rounding and clamping to 0..255."""
    out = tensor.detach().float().mul(255).round_().clamp_(0, 255).to(torch.uint8)
    return np.ascontiguousarray(out.movedim(-3, -1).cpu().numpy())
