"""Paired crop and augmentations keep LR and GT aligned and draw only from the given Generator."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vsr.data.transforms import (
    Augment,
    frames_to_tensor,
    paired_random_crop,
    random_crop_box,
    to_float,
)


def _clip(t: int = 3, c: int = 3, h: int = 16, w: int = 24) -> torch.Tensor:
    return torch.arange(t * c * h * w, dtype=torch.float64).reshape(t, c, h, w)


def test_frames_to_tensor_and_to_float() -> None:
    frames = [np.full((2, 3, 3), v, dtype=np.uint8) for v in (0, 51, 255)]
    frames[1][0, 1] = (10, 20, 30)
    clip = frames_to_tensor(frames)
    assert clip.shape == (3, 3, 2, 3) and clip.dtype == torch.uint8
    assert clip[1, :, 0, 1].tolist() == [10, 20, 30]
    out = to_float(clip)
    assert out.dtype == torch.float32 and out.is_contiguous()
    assert out[2].min().item() == 1.0 and out[1, 0, 1, 1].item() == pytest.approx(0.2)


def test_random_crop_box_on_grid_within_bounds_and_reproducible() -> None:
    tops, lefts = set(), set()
    for seed in range(200):
        top, left, ph, pw = random_crop_box(10, 14, (4, 6), np.random.default_rng(seed), step=2)
        assert (ph, pw) == (4, 6)
        assert top % 2 == 0 and left % 2 == 0 and top + 4 <= 10 and left + 6 <= 14
        tops.add(top)
        lefts.add(left)
        again = random_crop_box(10, 14, (4, 6), np.random.default_rng(seed), step=2)
        assert again == (top, left, 4, 6)
    assert tops == {0, 2, 4, 6} and lefts == {0, 2, 4, 6, 8}


def test_random_crop_box_rejects_oversized_patch() -> None:
    with pytest.raises(ValueError, match="larger than the frame 8x8"):
        random_crop_box(8, 8, 9, np.random.default_rng(0))


def test_paired_random_crop_keeps_lr_gt_alignment() -> None:
    gt = _clip()
    lr = gt[..., ::4, ::4]  # phase-0 subsampling: LR (i, j) <-> GT (4i, 4j)
    seen = set()
    for seed in range(50):
        lr_p, gt_p = paired_random_crop(lr, gt, 8, 4, np.random.default_rng(seed))
        assert lr_p.shape == (3, 3, 2, 2) and gt_p.shape == (3, 3, 8, 8)
        torch.testing.assert_close(lr_p, gt_p[..., ::4, ::4], rtol=0, atol=0)
        seen.add(int(gt_p[0, 0, 0, 0].item()))
    assert len(seen) == 3 * 5  # every LR-grid corner of a 4x6 LR frame with a 2x2 patch


def test_paired_random_crop_errors() -> None:
    gt = _clip()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="not divisible by scale 4"):
        paired_random_crop(gt[..., ::4, ::4], gt, 6, 4, rng)
    with pytest.raises(ValueError, match="does not match GT clip 16x24"):
        paired_random_crop(gt[..., ::2, ::2], gt, 8, 4, rng)


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=4)))
def test_augment_commutes_with_block_average(flags: tuple[bool, ...]) -> None:
    """Every flip/transpose/reverse combination keeps LR = avgpool(GT) for the pair."""
    gt = torch.rand(4, 3, 8, 12, generator=torch.Generator().manual_seed(1))
    lr = F.avg_pool2d(gt, 4)
    augment = Augment(*flags)
    torch.testing.assert_close(augment(lr), F.avg_pool2d(augment(gt), 4))


def test_augment_ops_move_pixels_as_named() -> None:
    clip = _clip(t=2, c=1, h=2, w=3)
    assert torch.equal(
        Augment(hflip=True)(clip)[0, 0, 0], torch.tensor([2.0, 1.0, 0.0], dtype=clip.dtype)
    )
    assert torch.equal(Augment(vflip=True)(clip)[0, 0, 0], clip[0, 0, 1])
    assert Augment(transpose=True)(clip).shape == (2, 1, 3, 2)
    assert torch.equal(Augment(transpose=True)(clip)[0, 0, :, 1], clip[0, 0, 1])
    assert torch.equal(Augment(reverse=True)(clip)[0], clip[1])
    assert torch.equal(Augment()(clip), clip)


def test_augment_sample_probabilities_and_stable_stream() -> None:
    assert Augment.sample(np.random.default_rng(0), 0, 0, 0, 0) == Augment()
    assert Augment.sample(np.random.default_rng(0), 1, 1, 1, 1) == Augment(True, True, True, True)
    draws = [Augment.sample(np.random.default_rng(s)) for s in range(2000)]
    rate = sum(d.hflip for d in draws) / len(draws)
    assert 0.46 < rate < 0.54
    assert not any(d.vflip or d.transpose or d.reverse for d in draws)
    # Enabling vflip does not change the hflip draw of the same seed.
    for seed in range(50):
        a = Augment.sample(np.random.default_rng(seed), hflip=0.5)
        b = Augment.sample(np.random.default_rng(seed), hflip=0.5, vflip=0.5)
        assert a.hflip == b.hflip
