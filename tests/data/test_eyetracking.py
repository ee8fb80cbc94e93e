"""Eye-tracking test sets: the HD_UHD_Eyetracking_Videos layout (raw .bgr + observer CSVs), the
sample generator that writes it from real frames, and any video with a gaze track."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import shared_path
from tests.scripts import load_script
from vsr.data.degradations import bd_duf
from vsr.data.eyetracking import EyeTrackingHD, GazeVideoTest, RawVideoStore
from vsr.io.frames import frame_to_tensor, open_frame_source
from vsr.io.image import FrameReadError, write_image
from vsr.io.video import VideoWriter
from vsr.registry import DATASETS

H, W = 16, 24
sample = load_script("make_eyetracking_sample")


def rgb_frames(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, H, W, 3), dtype=np.uint8)


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """Two raw videos (5 and 3 frames); gaze files for observers 5, 7 of A and 6 of B."""
    videos = tmp_path / "Videos" / "HD"
    gaze = tmp_path / "Gaze_Data" / "HD"
    videos.mkdir(parents=True)
    gaze.mkdir(parents=True)
    for name, n, seed in (("A_s24x16p25n5v0", 5, 0), ("B_s24x16p25n3v0", 3, 1)):
        (videos / f"{name}.bgr").write_bytes(rgb_frames(n, seed)[..., ::-1].tobytes())
    rows = "L,50,4,6\nR,50,6,8\nL,90,30,-2\nR,91,30,-2\n"  # frame 1: (7, 5); frame 2: (0, 23)
    for observer, name in ((5, "A_s24x16p25n5v0"), (7, "A_s24x16p25n5v0"), (6, "B_s24x16p25n3v0")):
        (gaze / f"observer{observer}_{name}.csv").write_text(rows)
    (gaze / "observer9_Unknown_s24x16p25n3v0.csv").write_text(rows)  # no such video: ignored
    return tmp_path


def test_clips_per_video_and_observer(layout: Path) -> None:
    ds = DATASETS.build({"type": "EyeTrackingHD", "root": str(layout), "frame_size": [H, W]})
    clips = ds.clips()
    assert [c.name for c in clips] == [
        "A_s24x16p25n5v0/observer5",
        "A_s24x16p25n5v0/observer7",
        "B_s24x16p25n3v0/observer6",
    ]
    assert [c.num_frames for c in clips] == [5, 5, 3]  # from the file sizes
    assert clips[0].fps == 25 and clips[0].gt_size == (H, W)
    gaze = clips[0].conditions["gaze"]
    assert gaze.points.tolist() == [[8, 12], [7, 5], [0, 23], [8, 12], [8, 12]]
    assert gaze.report.clamped == 1

    lr, gt = clips[2].streams()
    lr, gt = torch.stack(list(lr)), torch.stack(list(gt))
    hr = frame_to_tensor(rgb_frames(3, 1))  # BGR on disk -> RGB
    torch.testing.assert_close(gt, hr)
    assert lr.shape == (3, 3, H // 4, W // 4) and lr.dtype == torch.float32
    # FOCAS: DUF BD without RRN's 8-px pad, float LR
    torch.testing.assert_close(lr, bd_duf(hr.double(), 4).float())


def test_selection_and_max_frames(layout: Path) -> None:
    ds = EyeTrackingHD(layout, videos=["A_s24x16p25n5v0.bgr"], observers=[7, 6], frame_size=(H, W))
    (clip,) = ds.clips()
    assert clip.name == "A_s24x16p25n5v0/observer7"
    ds = EyeTrackingHD(layout, observers=[5], max_frames=3, frame_size=(H, W))
    (clip,) = ds.clips()
    assert clip.num_frames == 3 and len(list(clip.gt_frames())) == 3
    assert clip.conditions["gaze"].points.tolist() == [[8, 12], [7, 5], [0, 23]]
    with pytest.raises(FrameReadError, match="no gaze file .* observers \\[3\\]"):
        EyeTrackingHD(layout, observers=[3], frame_size=(H, W))
    with pytest.raises(FrameReadError, match="video file not found: .*C.bgr"):
        EyeTrackingHD(layout, videos=["C"], frame_size=(H, W))


def test_wrong_file_size_names_the_file(layout: Path) -> None:
    bad = layout / "Videos" / "HD" / "A_s24x16p25n5v0.bgr"
    bad.write_bytes(bad.read_bytes()[:-1])
    ds = EyeTrackingHD(layout, frame_size=(H, W))
    with pytest.raises(FrameReadError, match=f"{bad} is 5759 bytes, not a whole number of 24x16"):
        ds.clips()
    with pytest.raises(FrameReadError, match="not a whole number of 1920x1080"):
        RawVideoStore(layout / "Videos" / "HD").num_frames("B_s24x16p25n3v0")


def test_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(FrameReadError, match="gaze folder not found"):
        EyeTrackingHD(tmp_path)
    (tmp_path / "Gaze_Data" / "HD").mkdir(parents=True)
    with pytest.raises(FrameReadError, match="video folder not found"):
        EyeTrackingHD(tmp_path)


def test_sample_generator_writes_the_real_layout(tmp_path: Path) -> None:
    source = shared_path("data", "clips", "big_buck_bunny_720p_1mb.mp4")
    written = sample.main([str(tmp_path), "--source", str(source), "--size", "64x48"])
    assert written == 0
    names = ["BigBuckBunny1_s64x48p25n24v0", "BigBuckBunny2_s64x48p25n24v0"]
    videos = sorted(p.name for p in (tmp_path / "Videos" / "HD").iterdir())
    assert videos == [f"{n}.bgr" for n in names]
    gaze = sorted(p.name for p in (tmp_path / "Gaze_Data" / "HD").iterdir())
    assert gaze == sorted(f"observer{o}_{n}.csv" for n in names for o in (5, 6, 7))
    for name in names:
        assert (tmp_path / "Videos" / "HD" / f"{name}.bgr").stat().st_size == 24 * 48 * 64 * 3
    lines = (tmp_path / "Gaze_Data" / "HD" / gaze[0]).read_text().splitlines()
    assert len(lines) == 2 * 240  # 960 ms at one pair per 4 ms
    assert [line[:2] for line in lines[:4]] == ["L,", "R,", "L,", "R,"]

    ds = EyeTrackingHD(tmp_path, frame_size=(48, 64))
    clips = ds.clips()
    assert len(clips) == 6 and all(c.num_frames == 24 for c in clips)
    assert sum(c.conditions["gaze"].report.nan_skipped for c in clips) > 0  # blinks happen
    lr, gt = clips[0].streams()
    assert next(lr).shape == (3, 12, 16)
    first = sample.cover_resize(next(iter(open_frame_source(source))), (48, 64))
    torch.testing.assert_close(next(gt), frame_to_tensor(first))  # real frames, RGB order kept


def test_sample_gaze_has_fixations_saccades_and_blinks() -> None:
    rng = np.random.default_rng(0)
    rows = sample.gaze_samples(rng, 10_000, (1080, 1920), 4)
    again = sample.gaze_samples(np.random.default_rng(0), 10_000, (1080, 1920), 4)
    np.testing.assert_array_equal(rows, again)  # deterministic
    assert np.allclose(np.diff(rows[:, 0]), 4)
    blink = np.isnan(rows[:, 1])
    assert 0 < blink.mean() < 0.2
    step = np.hypot(*np.diff(rows[~blink][:, 1:3], axis=0).T)  # left eye, px per 4 ms
    assert np.median(step) < 4  # mostly fixating (jitter of a few px)
    assert (step > 40).sum() > 20  # fast jumps: saccades


def test_gaze_video_from_frame_folder(tmp_path: Path) -> None:
    frames = rgb_frames(4, 2)
    for i, frame in enumerate(frames):
        write_image(tmp_path / "clip" / f"{i:03d}.png", frame)
    (clip,) = GazeVideoTest(tmp_path / "clip", fps=30).clips()
    assert (clip.name, clip.num_frames, clip.fps) == ("clip", 4, 30)
    assert clip.conditions["gaze"].points.tolist() == [[8, 12]] * 4
    lr, gt = clip.streams()
    assert torch.stack(list(lr)).shape == (4, 3, 4, 6)
    torch.testing.assert_close(torch.stack(list(gt)), frame_to_tensor(frames))

    (clip,) = GazeVideoTest(tmp_path / "clip", gaze=[3, 20]).clips()
    assert clip.conditions["gaze"].points.tolist() == [[3, 20]] * 4
    csv = tmp_path / "gaze.csv"
    csv.write_text("frame,x,y\n1,47,31\n")  # recorded at 2x: (31, 47) -> (15, 23)
    (clip,) = GazeVideoTest(tmp_path / "clip", gaze=csv, gaze_size=(32, 48)).clips()
    assert clip.conditions["gaze"].points.tolist() == [[8, 12], [15, 23], [15, 23], [15, 23]]

    (clip,) = GazeVideoTest(tmp_path / "clip", lr_input=True, scale=2).clips()
    assert clip.gt_frames() is None and clip.lr_size == (H, W)
    assert clip.conditions["gaze"].points.tolist() == [[16, 24]] * 4  # HR = 2x the LR frames
    with pytest.raises(ValueError, match="give no degradation"):
        GazeVideoTest(tmp_path / "clip", lr_input=True, degradation="BI")
    with pytest.raises(ValueError, match="not a multiple of scale 5"):
        GazeVideoTest(tmp_path / "clip", scale=5)


def test_gaze_video_from_video_file(tmp_path: Path) -> None:
    frames = np.repeat(np.linspace(0, 255, 5, dtype=np.uint8)[:, None, None, None], 3, axis=3)
    frames = np.broadcast_to(frames, (5, 32, 48, 3))
    writer = VideoWriter(tmp_path / "v.mp4", 25)
    for frame in frames:
        writer.write(np.ascontiguousarray(frame))
    writer.close()
    ds = GazeVideoTest(tmp_path / "v.mp4", gaze=[10, 40])
    (clip,) = ds.clips()
    assert (clip.name, clip.num_frames, clip.fps, clip.gt_size) == ("v", 5, 25, (32, 48))
    assert clip.lr_size == (8, 12)  # reads frame 0, then the pass below starts over
    gt = torch.stack(list(clip.gt_frames()))
    decoded = frame_to_tensor(np.stack(list(open_frame_source(tmp_path / "v.mp4"))))
    torch.testing.assert_close(gt, decoded)
    assert abs(gt.mean(dim=(1, 2, 3)) - torch.linspace(0, 1, 5)).max() < 0.02
