"""Training windows drawn straight from video files: random access by keyframe seeking equals a
sequential decode, the same training config reads mp4s or frame folders alike,
and bad videos are one error naming the file."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from tests.conftest import shared_path
from vsr.data.storage import VideoFrameStore, open_store
from vsr.data.video_folder import GTVideoFolder
from vsr.io import video_access
from vsr.io.image import FrameReadError, list_frames, read_image, write_image
from vsr.io.video import VideoReader, VideoReadError


def encode(path: Path, frames: list[np.ndarray], gop: int, fps: int = 25,
           pts_step: list[int] | None = None) -> None:
    """H.264 with a keyframe every ``gop`` frames (NVVL's ``-g 4``), CRF 18."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"crf": "18", "bf": "0", "sc_threshold": "0"}
        stream.codec_context.time_base = Fraction(1, fps)
        pts = 0
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = pts
            pts += pts_step[i] if pts_step else 1
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))


@pytest.fixture(scope="module")
def calendar() -> list[np.ndarray]:
    folder = shared_path("data", "Vid4", "GT", "calendar")
    return [read_image(p)[:64, :96] for p in list_frames(folder)[:12]]


@pytest.fixture
def videos(tmp_path, calendar, monkeypatch):
    monkeypatch.setenv("VSR_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "videos"
    folder.mkdir()
    encode(folder / "calendar.mp4", calendar, gop=4)
    encode(folder / "reversed.mp4", calendar[::-1], gop=4)
    return folder


def test_index_has_the_keyframes_and_is_cached(videos, monkeypatch):
    index = video_access.frame_index(videos / "calendar.mp4")
    assert len(index) == 12 and index.size == (64, 96)
    assert index.keyframe_of == (0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8)
    monkeypatch.setattr(video_access, "_scan", lambda path: pytest.fail("index not cached"))
    assert video_access.frame_index(videos / "calendar.mp4") == index


def test_random_frames_equal_a_sequential_decode(videos):
    sequential = list(VideoReader(videos / "calendar.mp4"))
    reader = video_access.VideoFrameReader(videos / "calendar.mp4")
    for number in (7, 2, 3, 11, 0, 5, 6, 4, 9):  # backwards, forwards, within and across GOPs
        assert np.array_equal(reader.read(number), sequential[number])


def test_the_same_training_set_reads_mp4s_or_their_frames(tmp_path, videos):
    store = open_store(videos)
    assert isinstance(store, VideoFrameStore) and store.clips() == ["calendar", "reversed"]
    for clip in store.clips():  # the frames the mp4s decode to, as a frame-folder dataset
        for i, frame in enumerate(VideoReader(videos / f"{clip}.mp4")):
            write_image(tmp_path / "frames" / clip / f"{i:08d}.png", frame)
    kwargs = dict(degradation="BI", scale=4, num_frames=3, gt_patch_size=32, use_vflip=True)
    from_mp4 = GTVideoFolder(videos, **kwargs)
    from_png = GTVideoFolder(tmp_path / "frames", **kwargs)
    assert len(from_mp4) == len(from_png) == 2 * 10
    for key in [(0, 1), (9, 2), (10, 3), (19, 4), (5, 5)]:
        a, b = from_mp4[key], from_png[key]
        assert a["key"].split("/")[0] == b["key"].split("/")[0]
        assert torch.equal(a["gt"], b["gt"]) and torch.equal(a["lr"], b["lr"])


class _Keyed(torch.utils.data.Dataset):
    """Fixed (index, seed) keys of a training set, so workers and the parent draw the same."""

    def __init__(self, dataset, keys):
        self.dataset, self.keys = dataset, keys

    def __len__(self):
        return len(self.keys)

    def __getitem__(self, i):
        return self.dataset[self.keys[i]]["gt"]


def test_forked_workers_read_mp4s_like_the_parent(videos):
    """The parent's open decoder must not reach its forked workers (a worker freeing it hung)."""
    dataset = GTVideoFolder(videos, degradation="BI", scale=4, num_frames=3, gt_patch_size=32)
    keyed = _Keyed(dataset, [(i, i) for i in range(0, 20, 3)])
    serial = torch.stack([keyed[i] for i in range(len(keyed))])  # the parent's readers stay open
    loader = torch.utils.data.DataLoader(keyed, batch_size=2, num_workers=2, timeout=60,
                                         multiprocessing_context="fork")
    assert torch.equal(torch.cat(list(loader)), serial)


def test_a_list_file_names_videos_relative_to_itself(videos):
    (videos / "train.txt").write_text("# scenes\ncalendar.mp4\n\nreversed.mp4\n")
    store = open_store(videos / "train.txt")
    assert store.clips() == ["calendar", "reversed"]
    (videos / "bad.txt").write_text("calendar.mp4\nmissing.mp4\n")
    with pytest.raises(FrameReadError, match=r"video file not found: .*missing.mp4 \(listed in "):
        open_store(videos / "bad.txt").clips()


def test_bad_videos_are_one_error_naming_the_file(tmp_path, calendar, monkeypatch):
    monkeypatch.setenv("VSR_CACHE", str(tmp_path / "cache"))
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(VideoReadError, match=r"cannot open .*text.mp4: expected a video file"):
        video_access.frame_index(tmp_path / "text.mp4")
    encode(tmp_path / "vfr.mp4", calendar[:6], gop=4, pts_step=[1, 2, 1, 3, 1, 1])
    with pytest.raises(VideoReadError, match=r"vfr.mp4: variable frame rate"):
        video_access.frame_index(tmp_path / "vfr.mp4")
    encode(tmp_path / "whole.mp4", calendar, gop=4)
    data = (tmp_path / "whole.mp4").read_bytes()
    index = video_access.frame_index(tmp_path / "whole.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    try:
        reader = video_access.VideoFrameReader(cut)
    except VideoReadError as exc:  # the index itself may not survive the cut
        assert "cut.mp4" in str(exc)
        return
    assert len(reader) <= len(index)
    with pytest.raises(VideoReadError, match=r"cut.mp4"):
        for number in range(len(index)):
            reader.read(number)
