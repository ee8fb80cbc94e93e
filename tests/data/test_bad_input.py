"""Bad data input outside the training loop: one error naming the file or key, or one warning
when the input is used with a change (a corrupt LMDB, nonsense blur parameters, gaze that had
to be clamped or filled)."""

from __future__ import annotations

import warnings
from pathlib import Path

import lmdb
import numpy as np
import pytest
import torch

from vsr.config.loader import ConfigError
from vsr.data.degradation_spec import make_degradation
from vsr.data.degradations import gaussian_kernel1d
from vsr.data.gaze import GazeTrack
from vsr.data.storage import LmdbFrameStore, close_lmdb
from vsr.errors import VSRWarning
from vsr.io.image import FrameReadError, encode_image


def _lmdb(path: Path, frames: int = 2, meta: bool = True) -> Path:
    env = lmdb.open(str(path), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(frames):
            img = np.full((8, 8, 3), (40 * i) % 256, np.uint8)
            txn.put(f"clip/{i:04d}".encode(), encode_image(img))
    env.close()
    if meta:
        (path / "meta_info.txt").write_text(
            "".join(f"clip/{i:04d}.png (8,8,3) 1\n" for i in range(frames)))
    return path


@pytest.mark.parametrize("meta", [True, False])
def test_zero_byte_lmdb_is_a_frame_read_error_naming_it(tmp_path, meta):
    path = _lmdb(tmp_path / "x.lmdb", meta=meta)
    (path / "data.mdb").write_bytes(b"")
    store = LmdbFrameStore(path)
    with pytest.raises(FrameReadError, match=r"LMDB .*x\.lmdb cannot be read"):
        store.read("clip", store.frame_names("clip")[0])
    close_lmdb(path)


@pytest.mark.parametrize("keep", [1 / 3, 0.005])  # past the header pages; inside them
def test_truncated_lmdb_is_a_frame_read_error_naming_it(tmp_path, keep):
    """Not a crash: reading a memory-mapped page past the end of the file is a SIGBUS."""
    path = _lmdb(tmp_path / "t.lmdb", frames=40, meta=False)
    data = (path / "data.mdb").read_bytes()
    (path / "data.mdb").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FrameReadError, match=r"LMDB .*t\.lmdb (cannot be read|is truncated)"):
        store = LmdbFrameStore(path)
        for name in store.frame_names("clip"):
            store.read("clip", name)
    close_lmdb(path)


@pytest.mark.parametrize(("spec", "key"), [
    ({"type": "BD", "sigma": 0}, "sigma"),
    ({"type": "BD", "sigma": -1.6}, "sigma"),
    ({"type": "BD", "kernel_size": 0}, "kernel_size"),
    ({"type": "BD_MATLAB", "sigma": -1}, "sigma"),
    ({"type": "BD_TecoGAN", "sigma": 0}, "sigma"),
])
def test_nonsense_blur_parameters_are_rejected_naming_the_key(spec, key):
    with pytest.raises(ConfigError, match=rf"'degradation\.{key}': expected a value > 0"):
        make_degradation(spec, scale=4)


def test_an_even_blur_kernel_is_valid_and_a_good_spec_still_degrades():
    lr = make_degradation({"type": "BD", "kernel_size": 12, "sigma": 1.6}, scale=4)(
        torch.rand(1, 3, 16, 16))
    assert lr.shape == (1, 3, 4, 4)


def test_gaussian_kernel_itself_rejects_zero_sigma():
    with pytest.raises(ValueError, match="sigma > 0"):
        gaussian_kernel1d(13, 0.0)


def test_gaze_clamped_and_filled_is_one_warning_naming_the_file(tmp_path):
    path = tmp_path / "gaze.csv"
    path.write_text("frame,x,y\n0,5,5\n1,500,5\n")  # frame 1 off the 40 px wide frame; 2, 3 unset
    with pytest.warns(VSRWarning) as record:
        track = GazeTrack.from_simple_csv(path, 4, (30, 40))
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert str(path) in messages[0] and "1 clamped" in messages[0]
    assert "2 frames filled" in messages[0]
    assert track[1] == (5, 39)


def test_gaze_that_fits_gives_no_warning(tmp_path):
    path = tmp_path / "gaze.csv"
    path.write_text("frame,x,y\n0,5,5\n1,6,6\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GazeTrack.from_simple_csv(path, 2, (30, 40))


def test_ivc_gaze_out_of_range_warns(tmp_path):
    path = tmp_path / "observer1_v.csv"
    path.write_text("L,0,5000,10\nR,0,5000,10\nL,40,nan,1\nR,40,nan,1\n")
    with pytest.warns(VSRWarning, match=r"observer1_v\.csv: 1 samples, 1 NaN skipped, 1 clamped"):
        GazeTrack.from_ivc_csv(path, 2, (1080, 1920))
