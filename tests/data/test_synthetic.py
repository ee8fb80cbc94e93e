"""Demo clips from scikit-image photographs: layout, determinism, held-out test photos, motion."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vsr.data.synthetic import TEST_IMAGES, TRAIN_IMAGES, load_photo, make_motion_clips
from vsr.data.video_folder import VideoFolderTest
from vsr.io.image import list_frames, read_image

SIZE = (32, 48)


def _frames(folder: Path) -> list[np.ndarray]:
    return [read_image(p) for p in list_frames(folder)]


def test_layout_sizes_and_names(tmp_path: Path) -> None:
    folders = make_motion_clips(tmp_path, num_clips=3, num_frames=4, size=SIZE, seed=0)
    assert [f.name for f in folders] == [
        "train_000_astronaut",
        "train_001_coffee",
        "train_002_rocket",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name for f in folders]  # no temp dirs
    for folder in folders:
        assert [p.name for p in list_frames(folder)] == [f"{t:08d}.png" for t in range(4)]
        frames = _frames(folder)
        assert all(f.shape == (*SIZE, 3) and f.dtype == np.uint8 for f in frames)
        assert frames[0].std() > 5  # real photographic content, not a flat border
    # The folder layout is directly usable as a dataset.
    clips = VideoFolderTest(tmp_path, scale=4).clips()
    assert [(c.name, c.num_frames, c.lr_size) for c in clips][0] == ("train_000_astronaut", 4, SIZE)


def test_deterministic_and_independent_of_clip_count(tmp_path: Path) -> None:
    a = make_motion_clips(tmp_path / "a", 2, 3, SIZE, seed=5)
    b = make_motion_clips(tmp_path / "b", 1, 3, SIZE, seed=5)
    c = make_motion_clips(tmp_path / "c", 1, 3, SIZE, seed=6)
    for fa, fb in zip(_frames(a[0]), _frames(b[0]), strict=True):
        assert np.array_equal(fa, fb)
    assert np.abs(_frames(a[0])[0].astype(int) - _frames(c[0])[0].astype(int)).mean() > 1
    # Regenerating over an existing folder replaces it with identical frames.
    again = make_motion_clips(tmp_path / "a", 1, 3, SIZE, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(_frames(again[0]), _frames(b[0])))


def test_test_split_uses_held_out_photographs(tmp_path: Path) -> None:
    assert not set(TRAIN_IMAGES) & set(TEST_IMAGES)
    folders = make_motion_clips(tmp_path, 3, 2, SIZE, seed=0, split="test")
    assert [f.name for f in folders] == ["test_000_chelsea", "test_001_coins", "test_002_chelsea"]
    with pytest.raises(ValueError, match="split must be one of"):
        make_motion_clips(tmp_path, 1, 2, SIZE, split="val")


def test_photos_are_rgb_uint8() -> None:
    for name in TRAIN_IMAGES + TEST_IMAGES:
        photo = load_photo(name)
        assert photo.ndim == 3 and photo.shape[2] == 3 and photo.dtype == np.uint8
        assert min(photo.shape[:2]) >= 300


def test_motion_is_small_smooth_and_sub_pixel(tmp_path: Path) -> None:
    (folder,) = make_motion_clips(tmp_path, 1, 6, (64, 64), seed=3)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float64) for f in _frames(folder)]
    shifts = [np.array(cv2.phaseCorrelate(a, b)[0]) for a, b in zip(grey, grey[1:])]
    magnitudes = [float(np.hypot(*s)) for s in shifts]
    assert all(0.2 < m < 8 for m in magnitudes)  # every frame moves, none jumps
    fractions = [abs(v - round(v)) for s in shifts for v in s]
    assert max(fractions) > 0.1  # not just whole-pixel steps
    # Smooth path: consecutive per-frame shifts change little.
    assert max(np.hypot(*(s1 - s0)) for s0, s1 in zip(shifts, shifts[1:])) < 1.5
