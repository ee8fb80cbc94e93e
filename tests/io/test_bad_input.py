"""Frames and outputs: an RGBA clip warns once, naming the file; a failed write names its file."""

from __future__ import annotations

import errno
import os

import cv2
import numpy as np
import pytest

from vsr.errors import VSRWarning, WriteError
from vsr.io.image import atomic_write_bytes, read_image, write_image


def test_rgba_frames_warn_once_per_clip_naming_the_file(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 2] = 200  # red in OpenCV's BGRA
    rgba[..., 3] = 10
    for clip in ("a", "b"):
        for i in range(3):
            (tmp_path / clip).mkdir(exist_ok=True)
            cv2.imwrite(str(tmp_path / clip / f"{i}.png"), rgba)
    with pytest.warns(VSRWarning) as record:
        frames = [read_image(tmp_path / clip / f"{i}.png") for clip in "ab" for i in range(3)]
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert str(tmp_path / "a" / "0.png") in messages[0] and "alpha channel" in messages[0]
    assert str(tmp_path / "b" / "0.png") in messages[1]
    assert frames[0].shape == (4, 5, 3) and tuple(frames[0][0, 0]) == (200, 0, 0)


def test_full_disk_names_the_file(tmp_path, monkeypatch):
    def full(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    target = tmp_path / "out" / "frame.png"
    with pytest.raises(WriteError) as info:
        write_image(target, np.zeros((2, 2, 3), np.uint8))
    assert str(info.value) == f"cannot write {target}: [Errno 28] No space left on device"
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    assert list((tmp_path / "out").iterdir()) == []  # no temporary file left behind


def test_a_parent_that_is_a_file_names_the_target(tmp_path):
    (tmp_path / "blocker").write_text("")
    target = tmp_path / "blocker" / "x.bin"
    with pytest.raises(WriteError, match=f"cannot write {target}: "):
        atomic_write_bytes(target, b"data")
