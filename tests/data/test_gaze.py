"""GazeTrack: the IVC observer CSV derived as FOCAS does, the simple CSV, fixed points, scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vsr.data.gaze import GazeFormatError, GazeReport, GazeTrack

SIZE = (100, 200)  # (H, W)


def write(tmp_path: Path, text: str, name: str = "gaze.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def pair(t: float, xl: object, yl: object, xr: object, yr: object) -> str:
    return f"L,{t},{xl},{yl}\nR,{t},{xr},{yr}\n"


def test_ivc_csv_derivation(tmp_path: Path) -> None:
    text = (
        pair(0, 10, 20, 13, 23)  # frame 0: h = int(43) // 2 = 21, w = 23 // 2 = 11
        + pair(30, 150, 80, 150, 80)  # frame 0 again: the earliest sample wins
        + "\n"  # blank lines do not shift the pairing
        + pair(39.99, 1, 1, 1, 1)  # int(39.99) // 40 = 0: still frame 0
        + pair(41.9, 5, 5, "NaN", "NaN")  # blink: pair skipped
        + pair(45, 50.5, 60.4, 51.6, 61.3)  # frame 1: h = int(121.7) // 2 = 60, w = 51
        # frame 2: no sample -> centre (50, 100)
        + pair(120, -5, 150, -7, 160)  # frame 3: (155, -6) clamped to (99, 0)
        + pair(-50, 7, 7, 7, 7)  # before the video: skipped
        + pair(170, 30, 40, 31, 41)  # frame 4: (40, 30)
        + pair(250, 9, 9, 9, 9)  # past the end: folded into frame 4, which already has one
        + "L,260,9,9\n"  # trailing row without its right eye
    )
    track = GazeTrack.from_ivc_csv(write(tmp_path, text), num_frames=5, frame_size=SIZE)
    assert track.points.tolist() == [[21, 11], [60, 51], [50, 100], [99, 0], [40, 30]]
    assert list(track) == [(21, 11), (60, 51), (50, 100), (99, 0), (40, 30)]
    assert track.report == GazeReport(
        str(tmp_path / "gaze.csv"),
        samples=7,
        nan_skipped=1,
        clamped=1,
        outside_clip=2,
        unpaired=1,
        filled=1,
    )
    assert track.frame_size == SIZE and len(track) == 5


def test_ivc_csv_late_sample_fills_last_frame_and_fps(tmp_path: Path) -> None:
    path = write(tmp_path, pair(10, 4, 6, 4, 6) + pair(500, 20, 30, 22, 32))
    track = GazeTrack.from_ivc_csv(path, num_frames=3, frame_size=SIZE)
    # FOCAS moves samples past the end onto the last frame; the middle frame gets the centre
    assert track.points.tolist() == [[6, 4], [50, 100], [31, 21]]
    # at 50 fps frames last 20 ms: t = 10 is frame 0, t = 500 is frame 25 -> last frame again
    path = write(tmp_path, pair(10, 4, 6, 4, 6) + pair(25, 20, 30, 22, 32), "fps50.csv")
    track = GazeTrack.from_ivc_csv(path, num_frames=3, frame_size=SIZE, fps=50)
    assert track.points.tolist() == [[6, 4], [31, 21], [50, 100]]


def test_ivc_csv_default_is_1080p_centre(tmp_path: Path) -> None:
    track = GazeTrack.from_ivc_csv(write(tmp_path, pair(0, "NaN", 1, 2, 3)), num_frames=2)
    assert track.points.tolist() == [[540, 960], [540, 960]]
    assert track.report.nan_skipped == 1 and track.report.filled == 2


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (pair(0, 1, 2, 3, 4) + "L,40,5\nR,40,5,6\n", 3, "at least 4 columns"),
        ("L,0,1,2\nR,zero,3,4\n", 2, "non-numeric"),
        ("L,0,1,2\nR,0,inf,4\n", 2, "non-numeric"),
    ],
)
def test_ivc_csv_malformed_row_names_file_and_line(
    tmp_path: Path, text: str, line: int, what: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(GazeFormatError, match=f"{path}:{line}: .*{what}"):
        GazeTrack.from_ivc_csv(path, num_frames=4, frame_size=SIZE)


def test_missing_gaze_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="gaze file not found: .*nope.csv"):
        GazeTrack.from_ivc_csv(tmp_path / "nope.csv", num_frames=4)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        GazeTrack.from_simple_csv(tmp_path / "nope.csv", 4, SIZE)


def test_simple_csv(tmp_path: Path) -> None:
    text = (
        "frame, x, y\n"
        "1,10.4,20.6\n"  # frame 0 before the first row -> centre; frame 1 = (21, 10)
        "3,nan,5\n"  # skipped: frame 3 holds frame 2's gaze
        "2,300,-4\n"  # clamped to (0, 199)
        "7,1,1\n"  # not in the clip
        "5,2.5,2.49\n"  # rounds half up: (2, 3)
    )
    track = GazeTrack.from_simple_csv(write(tmp_path, text), num_frames=6, frame_size=SIZE)
    assert track.points.tolist() == [[50, 100], [21, 10], [0, 199], [0, 199], [0, 199], [2, 3]]
    report = track.report
    assert (report.samples, report.nan_skipped, report.clamped) == (3, 1, 1)
    assert (report.outside_clip, report.filled) == (1, 3)


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("x,y,frame\n0,1,2\n", 1, "header 'frame,x,y'"),
        ("frame,x,y\n0,1,2\n1,2,3,4\n", 3, "expected 3 columns"),
        ("frame,x,y\n0,1,2\n1,a,3\n", 3, "non-numeric"),
        ("frame,x,y\n1.5,1,2\n", 2, "must be an integer"),
        ("frame,x,y\n1,1,2\n\n1,3,4\n", 4, "frame 1 is listed twice"),
    ],
)
def test_simple_csv_errors(tmp_path: Path, text: str, line: int, what: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(GazeFormatError, match=f"{path}:{line}: .*{what}"):
        GazeTrack.from_simple_csv(path, 4, SIZE)


def test_fixed_and_centre() -> None:
    assert GazeTrack.fixed(3, 4, 2).points.tolist() == [[3, 4], [3, 4]]
    assert GazeTrack.centre(3, (1080, 1920)).points.tolist() == [[540, 960]] * 3
    assert GazeTrack.centre(1, (45, 81))[0] == (22, 40)
    with pytest.raises(ValueError, match=r"\(100, 5\) lies outside"):
        GazeTrack.fixed(100, 5, 2, SIZE)
    with pytest.raises(ValueError, match="shape"):
        GazeTrack(np.zeros((3, 3)))


def test_scaled_to_maps_pixel_centres() -> None:
    track = GazeTrack(np.array([[0, 0], [1079, 1919], [540, 960]]), (1080, 1920))
    assert track.scaled_to((2160, 3840)).points.tolist() == [[1, 1], [2159, 3839], [1081, 1921]]
    half = track.scaled_to((540, 960))
    assert half.points.tolist() == [[0, 0], [539, 959], [270, 480]]
    assert half.frame_size == (540, 960)
    with pytest.raises(ValueError, match="frame_size"):
        GazeTrack.fixed(1, 1, 2).scaled_to((10, 10))
