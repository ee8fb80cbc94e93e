"""Protocol functions: the spatial crop (border or TecoGAN's crop_8x8), skipped frames, and the
averaging of frame values into a set's number."""

import math

import pytest
import torch

from vsr.metrics.foveated import EWPSNR
from vsr.metrics.protocol import Averaging, Protocol, crop_8x8_box
from vsr.metrics.psnr_ssim import PSNR


def test_crop_8x8_on_odd_sizes_leaves_the_extra_pixel_bottom_right() -> None:
    # H = 75: 64 > 75 - 16 = 59, so 32; top (75 - 32) // 2 = 21, bottom keeps 22.
    # W = 101: 96 > 85, so 64; left (101 - 64) // 2 = 18, right keeps 19.
    assert crop_8x8_box(75, 101) == (21, 18, 32, 64)
    # Vid4 calendar 576x720: 576 > 560 -> 544 (16 px each side); 704 = 720 - 16 stays (8 px).
    assert crop_8x8_box(576, 720) == (16, 8, 544, 704)
    x = torch.arange(75 * 101, dtype=torch.float64).reshape(1, 75, 101)
    cropped = Protocol(crop_8x8=True).crop(x)
    assert cropped.shape == (1, 32, 64)
    assert cropped[0, 0, 0].item() == 21 * 101 + 18  # first kept pixel: row 21, column 18
    assert cropped[0, -1, -1].item() == 52 * 101 + 81  # last: row 52 (22 below), column 81
    with pytest.raises(ValueError, match="at least 48x48"):
        crop_8x8_box(47, 100)


def test_border_crop_and_the_metrics_use_the_protocol_crop() -> None:
    assert Protocol(crop_border=3).crop_box(20, 30) == (3, 3, 14, 24)
    assert Protocol().crop_box(20, 30) == (0, 0, 20, 30)
    with pytest.raises(ValueError, match="crop_border 10 leaves nothing"):
        Protocol(crop_border=10).crop_box(20, 30)
    with pytest.raises(ValueError, match="crop_border or crop_8x8"):
        Protocol(crop_border=8, crop_8x8=True)
    g = torch.Generator().manual_seed(0)
    sr, gt = torch.rand(3, 75, 101, generator=g), torch.rand(3, 75, 101, generator=g)
    by_hand = PSNR(channel="rgb")(sr[:, 21:53, 18:82], gt[:, 21:53, 18:82])
    assert PSNR(channel="rgb", crop_8x8=True)(sr, gt) == pytest.approx(by_hand, abs=1e-12)
    # the gaze is in uncropped pixels: crop_8x8 moves it by its own (top, left) offset
    foveated = EWPSNR(channel="rgb", crop_8x8=True)(sr, gt, gaze=(30, 40))
    plane = EWPSNR(channel="rgb")(sr[:, 21:53, 18:82], gt[:, 21:53, 18:82], gaze=(9, 22))
    assert foveated == pytest.approx(plane, abs=1e-12)


def test_skipped_frames_and_descriptions() -> None:
    p = Protocol(skip_first=2, skip_last=2)
    assert [i for i in range(7) if p.scores_frame(i, 7)] == [2, 3, 4]
    assert Protocol(channel="y", y_formula="duf", crop_8x8=True, skip_first=2, skip_last=2,
                    round_to_8bit=True).describe() == (
        "Y(duf), crop_8x8 (centred, multiple of 32, >= 8 px each side), "
        "frames skip first 2, last 2, uint8")
    assert Averaging().describe() == "mean over frames per clip, then mean over clips"
    assert Averaging("frame").describe() == "mean over all frames of the set"
    assert Averaging("segment", 50).describe() == (
        "mean over frames per 50-frame segment, then over segments per clip, then over clips")
    with pytest.raises(ValueError, match="unknown averaging 'video'"):
        Averaging("video")
    with pytest.raises(ValueError, match="segment_frames"):
        Averaging("segment", 0)


def test_averaging_arithmetic() -> None:
    values = [0.0, 1.0, None, 3.0, 4.0]  # frame 2 not scored
    assert Averaging("segment", 2).segment_means(values) == [0.5, 3.0, 4.0]
    assert Averaging("segment", 2).clip_value(values) == pytest.approx(7.5 / 3)
    assert Averaging("segment", 2).segment_means([None, None, 5.0]) == [5.0]
    assert Averaging("clip").clip_value(values) == 2.0
    clips = [(2.0, 4), (5.0, 1)]
    assert Averaging("clip").over_clips(clips) == 3.5
    assert Averaging("frame").over_clips(clips) == pytest.approx(13 / 5)
    assert math.isnan(Averaging("frame").over_clips([(math.nan, 0)]))


def test_crop_sides_crops_each_side_by_its_own_count() -> None:
    """NVVL VSRNet's validation crop [:, :, 12:, :-12] = top 12, right 12 (crop_sides)."""
    x = torch.arange(40 * 50, dtype=torch.float64).view(1, 40, 50)
    nvvl = Protocol(crop_sides=(12, 0, 0, 12))
    assert nvvl.crop_box(40, 50) == (12, 0, 28, 38)
    assert torch.equal(nvvl.crop(x), x[:, 12:, :-12])
    assert Protocol(crop_sides=(1, 2, 3, 4)).crop_box(40, 50) == (1, 3, 37, 43)
    assert "top 12, bottom 0, left 0, right 12" in nvvl.describe()
    assert Protocol(crop_border=12).crop_box(40, 50) == (12, 12, 16, 26)
    with pytest.raises(ValueError, match="one of crop_border, crop_8x8 and crop_sides"):
        Protocol(crop_border=12, crop_sides=(12, 0, 0, 12))
    with pytest.raises(ValueError, match="four px counts"):
        Protocol(crop_sides=(1, -1, 0, 0))
    with pytest.raises(ValueError, match="leaves nothing of a 40x50"):
        Protocol(crop_sides=(20, 20, 0, 0)).crop_box(40, 50)
