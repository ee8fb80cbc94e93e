"""scripts/prepare_videos.py: scenes split at a detected cut or at timestamps, short-GOP files at
each height that a video-file training set reads, PNG folders equal to the files' frames, and
refusals that leave existing outputs alone."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import shared_path
from tests.scripts import load_script
from vsr.data.storage import open_store
from vsr.io import video_access
from vsr.io.image import list_frames, read_image
from vsr.io.video import VideoReader, VideoWriter

prepare = load_script("prepare_videos")


@pytest.fixture
def two_scenes(tmp_path, monkeypatch):
    """One 20-frame mp4: 10 frames of calendar, then 10 of city (a hard cut at frame 10)."""
    monkeypatch.setenv("VSR_CACHE", str(tmp_path / "cache"))
    frames = []
    for clip in ("calendar", "city"):
        paths = list_frames(shared_path("data", "Vid4", "GT", clip))[:10]
        frames += [read_image(p)[:96, :128] for p in paths]
    path = tmp_path / "long.mp4"
    with VideoWriter(path, 25, crf=10) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def test_a_detected_cut_splits_scenes_into_short_gop_files(two_scenes, tmp_path):
    diffs = prepare.frame_differences(VideoReader(two_scenes))
    assert int(np.argmax(diffs)) == 9  # frame 9 -> 10 is the cut, far above any other step
    assert max(diffs[:9] + diffs[10:]) < 0.12 < diffs[9]

    source = list(VideoReader(two_scenes))
    out = tmp_path / "out"
    assert prepare.main([str(two_scenes), "-o", str(out), "--detect-cuts", "--heights", "48",
                         "96", "--png"]) == 0
    for height, width in ((48, 64), (96, 128)):
        folder = out / f"{height}p"
        assert (folder / "train.txt").read_text().split() == ["long_s000.mp4", "long_s001.mp4"]
        store = open_store(folder / "train.txt")
        assert store.clips() == ["long_s000", "long_s001"]
        for name in store.clips():
            index = video_access.frame_index(folder / f"{name}.mp4")
            assert len(index) == 10 and index.size == (height, width)
            assert index.keyframe_of == (0, 0, 0, 0, 4, 4, 4, 4, 8, 8)  # --gop 4
            decoded = list(VideoReader(folder / f"{name}.mp4"))
            pngs = [read_image(p) for p in list_frames(out / f"{height}p_png" / name)]
            assert len(pngs) == 10
            first = 10 * int(name[-1])
            for i, png in enumerate(pngs):  # the PNGs are the scaled source frames, exactly
                assert np.array_equal(png, prepare.scaled(source[first + i], height))
            # the mp4 holds the same frames (CRF 18 at this tiny size: mean error about 5 levels)
            assert np.abs(np.stack(pngs).astype(int) - np.stack(decoded)).mean() < 8


def test_timestamps_split_at_their_frames(two_scenes, tmp_path):
    out = tmp_path / "out"
    assert prepare.main([str(two_scenes), "-o", str(out), "--cuts", "0.2", "0.6",
                         "--heights", "48"]) == 0  # 25 fps: frames 5 and 15
    lengths = [len(video_access.frame_index(out / "48p" / f"long_s00{k}.mp4")) for k in range(3)]
    assert lengths == [5, 10, 5]


def test_bad_input_is_one_error_and_keeps_existing_outputs(two_scenes, tmp_path, capsys):
    out = tmp_path / "out"
    assert prepare.main([str(two_scenes), "-o", str(out), "--cuts", "2.0", "--heights", "48"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --cuts 2.0: ") and "has 20 frames at 25 fps" in err
    assert not (out / "48p" / "long_s000.mp4").exists()

    assert prepare.main([str(two_scenes), "-o", str(out), "--heights", "48"]) == 0
    before = (out / "48p" / "long_s000.mp4").read_bytes()
    assert prepare.main([str(two_scenes), "-o", str(out), "--heights", "48"]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert (out / "48p" / "long_s000.mp4").read_bytes() == before

    (tmp_path / "text.mp4").write_text("not a video")
    assert prepare.main([str(tmp_path / "text.mp4"), "-o", str(out)]) == 2
    assert "cannot open" in capsys.readouterr().err
