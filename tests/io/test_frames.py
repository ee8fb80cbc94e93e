"""Frame sources and sinks over folders and videos, and the uint8 <-> float tensor helpers."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import shared_path
from tests.io.test_video import smooth_frames
from vsr.io.frames import (
    FolderFrameSink,
    FolderFrameSource,
    VideoFrameSource,
    frame_to_tensor,
    open_frame_sink,
    open_frame_source,
    tensor_to_frame,
)
from vsr.io.image import FrameReadError, read_image, write_image
from vsr.io.video import VideoReader, VideoWriter


def make_folder(folder: Path, frames: list[np.ndarray]) -> None:
    for i, frame in enumerate(frames):
        write_image(folder / f"{i:08d}.png", frame)


# -- sources -------------------------------------------------------------------------------


def test_folder_source_yields_frames_in_name_order(tmp_path: Path) -> None:
    frames = smooth_frames(3)
    make_folder(tmp_path / "clip", frames)
    source = open_frame_source(tmp_path / "clip")
    assert isinstance(source, FolderFrameSource)
    assert (source.name, len(source), source.size, source.fps) == ("clip", 3, (64, 96), None)
    for got, want in zip(source, frames, strict=True):
        assert got.dtype == np.uint8 and np.array_equal(got, want)
    assert open_frame_source(tmp_path / "clip", fps=24).fps == 24


def test_folder_source_errors_name_the_culprit(tmp_path: Path) -> None:
    with pytest.raises(FrameReadError, match="not found.*missing"):
        open_frame_source(tmp_path / "missing")

    frames = smooth_frames(3)
    make_folder(tmp_path / "corrupt", frames)
    (tmp_path / "corrupt" / "00000001.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(FrameReadError, match=r"00000001\.png"):
        list(open_frame_source(tmp_path / "corrupt"))

    make_folder(tmp_path / "mixed", [*frames[:2], frames[2][:, :48]])
    source = open_frame_source(tmp_path / "mixed")
    with pytest.raises(FrameReadError, match=r"00000002\.png is 64x48; expected 64x96"):
        list(source)

    single = tmp_path / "mixed" / "00000000.png"
    with pytest.raises(FrameReadError, match="single image"):
        open_frame_source(single)


def test_video_source_over_real_clip() -> None:
    source = open_frame_source(shared_path("data", "clips", "big_buck_bunny_720p_1mb.mp4"))
    assert isinstance(source, VideoFrameSource)
    assert source.name == "big_buck_bunny_720p_1mb"
    assert (len(source), source.fps, source.size, source.has_audio) == (132, 25, (720, 1280), True)
    first = next(iter(source))
    assert first.shape == (720, 1280, 3) and first.dtype == np.uint8


def test_video_source_of_garbage_is_a_frame_read_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(FrameReadError, match=r"bad\.mkv"):
        open_frame_source(bad)


# -- sinks ---------------------------------------------------------------------------------


def test_folder_sink_writes_numbered_lossless_pngs(tmp_path: Path) -> None:
    frames = smooth_frames(3)
    with pytest.warns(UserWarning, match="cannot hold audio"):
        sink = open_frame_sink(tmp_path / "out", fps=None, audio_from=tmp_path / "a.mp4")
    assert isinstance(sink, FolderFrameSink)
    with sink:
        for frame in frames:
            sink.write(frame)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["00000000.png", "00000001.png", "00000002.png"]
    for name, frame in zip(names, frames):
        assert np.array_equal(read_image(tmp_path / "out" / name), frame)
    with pytest.raises(FileExistsError, match="already holds images"):
        open_frame_sink(tmp_path / "out", fps=25)


def test_video_sink_by_suffix_round_trips(tmp_path: Path) -> None:
    frames = smooth_frames(6)
    with pytest.raises(ValueError, match="needs a frame rate"):
        open_frame_sink(tmp_path / "out.mp4", fps=None)
    with open_frame_sink(tmp_path / "out.MKV", fps=Fraction(24000, 1001)) as sink:
        assert isinstance(sink, VideoWriter)
        for frame in frames:
            sink.write(frame)
    reader = VideoReader(tmp_path / "out.MKV")
    assert reader.fps == Fraction(24000, 1001)
    assert sum(1 for _ in reader) == 6


def test_video_sink_aborts_on_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        with open_frame_sink(tmp_path / "out.mp4", fps=25) as sink:
            sink.write(smooth_frames(1)[0])
            raise KeyError("upstream failure")
    assert list(tmp_path.iterdir()) == []


# -- tensors -------------------------------------------------------------------------------


def test_frame_tensor_round_trip_is_exact_for_every_level() -> None:
    frame = (np.arange(256 * 3) % 256).astype(np.uint8).reshape(16, 16, 3)
    tensor = frame_to_tensor(frame)
    assert tensor.shape == (3, 16, 16) and tensor.dtype == torch.float32
    assert tensor[:, 0, 0].tolist() == pytest.approx([0 / 255, 1 / 255, 2 / 255])
    assert tensor.max().item() == 1.0 and tensor.min().item() == 0.0
    assert np.array_equal(tensor_to_frame(tensor), frame)


def test_tensor_to_frame_rounds_and_clamps() -> None:
    values = torch.tensor([-0.2, 0.0, 100.4 / 255, 100.6 / 255, 1.0, 1.7])
    tensor = values.view(1, 1, 6).expand(3, 1, 6)
    frame = tensor_to_frame(tensor)
    assert frame.shape == (1, 6, 3) and frame.dtype == np.uint8
    assert frame[0, :, 0].tolist() == [0, 0, 100, 101, 255, 255]
    assert frame.flags["C_CONTIGUOUS"]


def test_tensor_helpers_keep_leading_batch_dims() -> None:
    clip = np.stack(smooth_frames(4))
    tensor = frame_to_tensor(clip)
    assert tensor.shape == (4, 3, 64, 96)
    assert torch.equal(tensor[2, 1], torch.from_numpy(clip[2, :, :, 1]).float() / 255)
    assert np.array_equal(tensor_to_frame(tensor), clip)
    with pytest.raises(ValueError, match="uint8"):
        frame_to_tensor(clip.astype(np.float32))


def test_atomic_writes_get_the_umask_mode(tmp_path: Path) -> None:
    import os

    from vsr.io.image import atomic_write_bytes

    mask = os.umask(0o022)
    os.umask(mask)
    atomic_write_bytes(tmp_path / "f.bin", b"x")
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o666 & ~mask
