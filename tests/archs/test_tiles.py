"""Spatial tiles: exact stitching, every temporal mode and scale, refusals, lock-step streaming,
and the tiled-vs-whole numbers on Vid4 calendar for Bicubic, ELSR and RRN-3L."""

import pytest
import torch
from torch import nn

from tests.archs.test_sequence import ClipNet, FrameNet, RecurrentNet, WindowNet
from tests.conftest import shared_path
from vsr.archs.bicubic import Bicubic
from vsr.archs.sequence import FrameTimer, stream
from vsr.archs.tiles import TileSpec, _Layout, axis_weights, stream_tiled, tile_starts


def test_tile_starts_cover_the_axis_and_end_at_the_border():
    assert tile_starts(144, 64, 16) == [0, 48, 80]
    assert tile_starts(180, 64, 32) == [0, 32, 64, 96, 116]
    assert tile_starts(40, 64, 8) == [0]


def test_window_is_zero_at_tile_edges_and_sums_to_one():
    weights = axis_weights(144, 64, 16, 2)
    total = torch.zeros(288)
    for region, w in weights:
        total[region] += w
    torch.testing.assert_close(total, torch.ones(288), rtol=0, atol=1e-6)
    (_, first), (second_region, second), _ = weights
    assert second_region == slice(96, 224)
    assert float(second[:8].abs().max()) == 0  # a quarter of the 16-px overlap, at HR scale 2
    assert float(first[-8:].abs().max()) == 0
    assert float(second[8]) == pytest.approx(0.5 / 16)


@pytest.mark.parametrize(("size", "tile", "overlap", "scale"),
                         [((37, 53), (16, 20), 5, 3), ((30, 30), (12, 12), 11, 2),
                          ((20, 9), (64, 64), 8, 4)])
def test_stitching_tiles_of_one_image_gives_it_back_bit_for_bit(size, tile, overlap, scale):
    """Includes three-way overlaps (overlap 11 of 12) and a frame smaller than the tile."""
    layout = _Layout(size, TileSpec(tile, overlap), scale)
    image = torch.rand(3, size[0] * scale, size[1] * scale)
    assert torch.equal(layout.stitch([image[:, ys, xs] for ys, xs in layout.regions]), image)
    constant = torch.full_like(image, 0.3)
    assert torch.equal(layout.stitch([constant[:, ys, xs] for ys, xs in layout.regions]),
                       constant)


@pytest.mark.parametrize("net", [FrameNet(), WindowNet(), RecurrentNet("next"), ClipNet()],
                         ids=["frame", "window", "recurrent", "clip"])
def test_every_temporal_mode_tiled_equals_whole(net):
    """Receptive fields of a few LR px (recurrent: growing by one per frame, 6 px at frame 5)
    lie inside the quarter-overlap margin (7 px) of 28-px overlaps, so tiles change nothing."""
    lr = torch.rand(5, 3, 48, 64)
    with torch.no_grad():
        whole = torch.stack(list(stream(net, iter(lr), chunk=4)))
        tiled = torch.stack(list(stream_tiled(net, iter(lr), TileSpec((32, 32), 28), chunk=4)))
        crude = torch.stack(list(stream_tiled(net, iter(lr), TileSpec((16, 16), 0), chunk=4)))
    assert tiled.shape == whole.shape == (5, 3, 96, 128)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)
    assert float((crude - whole).abs().max()) > 1e-3  # without overlap the seams show


def test_any_scale_bicubic_x3():
    """Exact up to one float32 ulp: at x3 the kernel weights come from ``x / 3`` of the tile's own
    pixel index, rounded differently from the whole frame's (x4's ``x / 4`` is exact)."""
    lr = torch.rand(2, 3, 30, 41)
    whole = torch.stack(list(stream(Bicubic(3), iter(lr))))
    tiled = torch.stack(list(stream_tiled(Bicubic(3), iter(lr), TileSpec((16, 16), 8))))
    torch.testing.assert_close(tiled, whole, rtol=0, atol=2.5e-7)
    crude = torch.stack(list(stream_tiled(Bicubic(3), iter(lr), TileSpec((16, 16), 4))))
    assert float((crude - whole).abs().max()) > 1e-3


def test_tiles_advance_in_lock_step_and_time_each_frame():
    pulled = []

    def source():
        for i in range(50):
            pulled.append(i)
            yield torch.rand(3, 20, 30)

    timer = FrameTimer()
    out = stream_tiled(RecurrentNet("next"), source(), TileSpec((12, 12), 4), timer=timer)
    next(out)
    assert len(pulled) <= 3  # one frame ahead (first_prev "next"), for all 6 tiles at once
    next(out)
    assert len(timer.seconds) == 2 and all(s > 0 for s in timer.seconds)


def test_archs_with_conditions_are_refused():
    class Gazed(FrameNet):
        conditions = ("gaze",)

    with pytest.raises(ValueError, match="conditions .*'gaze'.* untiled"):
        stream_tiled(Gazed(), iter([torch.rand(3, 8, 8)]), TileSpec((4, 4), 1))


def test_frame_size_change_is_named():
    frames = [torch.rand(3, 20, 20), torch.rand(3, 20, 20), torch.rand(3, 22, 20)]
    with pytest.raises(ValueError, match=r"LR frame 2 is \(22, 20\), frame 0 is \(20, 20\)"):
        list(stream_tiled(RecurrentNet("same"), iter(frames), TileSpec((12, 12), 4)))


def test_wrong_scale_is_named():
    net = FrameNet()  # x2 output but claims x4
    net.scale = 4
    with pytest.raises(ValueError, match="scale 4"):
        list(stream_tiled(net, iter([torch.rand(3, 20, 20)]), TileSpec((12, 12), 4)))


def test_bad_tile_spec():
    with pytest.raises(ValueError, match="overlap must be in"):
        TileSpec((16, 8), 8)



def _calendar(frames: int, crop: tuple[int, int] | None = None):
    from vsr.io.frames import frame_to_tensor
    from vsr.io.image import read_image

    lr_dir = shared_path("data", "Vid4", "real_LR", "BIx4_TDAN", "calendar")
    gt_dir = shared_path("data", "Vid4", "GT", "calendar")
    lr = [frame_to_tensor(read_image(p)) for p in sorted(lr_dir.glob("*.png"))[:frames]]
    gt = [frame_to_tensor(read_image(p)) for p in sorted(gt_dir.glob("*.png"))[:frames]]
    if crop:
        lr = [f[:, : crop[0], : crop[1]] for f in lr]
        gt = [f[:, : 4 * crop[0], : 4 * crop[1]] for f in gt]
    return lr, gt


def _bench():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "bench_tiles.py"
    spec = importlib.util.spec_from_file_location("bench_tiles", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _real(name: str) -> nn.Module:
    shared_path("data", "weights", "elsr_torch")
    shared_path("fixtures", "parity", "rrn_3l.pt")
    return _bench().models()[name]


# (arch, frames, LR crop): max abs difference per overlap as measured (scripts/bench_tiles.py),
# with headroom. Bicubic is exact from 8 px (its 4-tap kernel needs < 2 LR px of context).
@pytest.mark.parametrize(("name", "frames", "crop", "bounds"), [
    ("Bicubic", 3, None, {8: 0.0, 16: 0.0, 32: 0.0}),
    ("ELSR", 3, None, {8: 0.03, 16: 1e-5, 32: 1e-5}),
    ("RRN-3L", 2, (72, 100), {8: 0.03, 16: 3e-3, 32: 3e-5}),
])
def test_vid4_calendar_64px_tiles(name, frames, crop, bounds):
    lr, gt = _calendar(frames, crop)
    with torch.no_grad():
        result = _bench().compare(_real(name), lr, gt, list(bounds))
    for overlap, bound in bounds.items():
        measured = result["tiled"][overlap]
        assert measured["max_abs_diff"] <= bound, (overlap, measured)
        assert abs(measured["psnr_change"]) <= 1e-3, (overlap, measured)
    if name == "ELSR":  # 8 px (a 2-px margin) is inside its receptive field; 16 is not
        assert result["tiled"][8]["max_abs_diff"] > 1e-3
