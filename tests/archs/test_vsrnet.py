"""VSRNet reproduces NVVL's forward (vsrnet.pt), both align_corners variants; its state dict has
the original's keys; bad windows give one clear error; the dataset-LR mode is a ×4 model."""

import pytest
import torch

from tests.archs.weight_recipe import recipe_state_dict
from tests.conftest import load_fixture
from vsr.archs.pretrained import is_frozen
from vsr.archs.vsrnet import VSRNet, rgb_to_ycbcr, ycbcr_to_rgb
from vsr.metrics.psnr_ssim import PSNR

TOL = {"flow2": 2e-3, "warped": 1e-4, "y_pred": 1e-5, "rgb_out": 1e-5, "psnr": 1e-3}


@pytest.fixture(scope="module")
def fixture() -> dict:
    return load_fixture("vsrnet.pt")


def _run(fx: dict, align_corners: bool) -> dict:
    net = VSRNet(num_frames=3, align_corners=align_corners).eval()
    state = recipe_state_dict(fx["state_dict_keys"], own=net.state_dict())
    assert list(state) == list(net.state_dict())  # FlowNetSD_network.* first, as the original
    net.load_state_dict(state, strict=True)
    clip = fx["frames_uint8"].permute(0, 3, 1, 2).float().div(255)[None]  # (1, 3, 3, H, W)
    with torch.no_grad():
        return net.forward_details(clip)


def _psnr_top_right(y: torch.Tensor, target: torch.Tensor) -> float:
    """NVVL's validation PSNR: Y, [:, :, 12:, :-12]; grey RGB has JPEG Y equal to its value."""
    metric = PSNR(channel="y", y_formula="jpeg", crop_sides=(12, 0, 0, 12))
    return metric(y[0].expand(3, -1, -1), target[0].expand(3, -1, -1))


@pytest.mark.parametrize("variant, align_corners", [("modern", False), ("legacy", True)])
def test_forward_matches_fixture(fixture, variant, align_corners):
    out, ref = _run(fixture, align_corners), fixture[variant]
    for flow, expected in zip(out["flow2"], fixture["flow2"]):
        assert (flow - expected).abs().max() < TOL["flow2"]
    for warped, expected in zip(out["warped"], ref["warped"]):
        assert (warped - expected).abs().max() < TOL["warped"]
    assert (out["y"] - ref["y_pred"]).abs().max() < TOL["y_pred"]
    if "rgb_out" in ref:
        assert (out["rgb"] - ref["rgb_out"]).abs().max() < TOL["rgb_out"]
    # the original's loss target is its degraded centre Y (a view overwritten in place)
    target = out["y_in"][:, 1]
    assert torch.equal(target, ref["target_used"]) if "target_used" in ref else True
    assert ((out["y"] - target) ** 2).mean().item() == pytest.approx(ref["loss"], abs=1e-7)
    assert abs(_psnr_top_right(out["y"], target) - ref["psnr"]) < TOL["psnr"]
    symmetric = PSNR(channel="y", y_formula="jpeg", crop_border=12)(
        out["y"][0].expand(3, -1, -1), target[0].expand(3, -1, -1))
    assert abs(symmetric - ref["psnr"]) > 0.01  # the two crops are different protocols


def test_variants_differ_and_warp_moves_pixels(fixture):
    modern, legacy = _run(fixture, False), _run(fixture, True)
    assert (modern["y"] - legacy["y"]).abs().max() > 1e-4
    assert (legacy["warped"][0] - legacy["y_in"][:, 0]).abs().max() > 0.1


def test_ycbcr_round_trip_and_parameter_count():
    rgb = torch.rand(2, 3, 5, 7) * 255
    assert torch.allclose(ycbcr_to_rgb(*rgb_to_ycbcr(rgb)), rgb, atol=1e-3)
    net = VSRNet(num_frames=3)
    own = sum(p.numel() for n, p in net.named_parameters() if not n.startswith("FlowNetSD"))
    assert own == 159_777  # MODELS.md §6.1
    assert is_frozen(net.FlowNetSD_network)
    assert not any(p.requires_grad for p in net.FlowNetSD_network.parameters())
    net.train()
    assert not net.FlowNetSD_network.training and net.conv1.training


def test_bad_windows_give_one_clear_error():
    with pytest.raises(ValueError, match="odd number of frames.*num_frames=4"):
        VSRNet(num_frames=4)
    net = VSRNet(num_frames=3, motion_compensation=False)
    with pytest.raises(ValueError, match="built for 3 frames, got a window of 5"):
        net(torch.rand(1, 5, 3, 16, 16))
    with pytest.raises(ValueError, match="multiples of 4, got 18x16"):
        net(torch.rand(1, 3, 3, 18, 16))
    with pytest.raises(ValueError, match=r"\(N, T, 3, H, W\)"):
        net(torch.rand(1, 3, 1, 16, 16))


def test_dataset_lr_mode_is_a_x4_window_model():
    torch.manual_seed(0)
    net = VSRNet(num_frames=3, lr_input="dataset").eval()
    assert net.scale == 4 and VSRNet().scale == 1
    lr = torch.rand(2, 3, 3, 16, 12)  # HR 64 x 48: FlowNetSD pads 48 -> 64 and crops back
    with torch.no_grad():
        out = net.forward_details(lr)
    assert out["rgb"].shape == (2, 3, 64, 48)
    assert out["flow2"][0].shape == (2, 2, 16, 12)
    # no pooling: the network's Y input is the bilinear x4 of the LR Y
    y_lr = rgb_to_ycbcr(lr[:, 1] * 255)[0] / 255
    expected = torch.nn.functional.interpolate(y_lr, scale_factor=4, mode="bilinear",
                                               align_corners=True)
    assert torch.allclose(out["y_in"][:, 1], expected, atol=1e-6)
    plain = VSRNet(num_frames=3, lr_input="dataset", motion_compensation=False)
    assert not hasattr(plain, "FlowNetSD_network")
    assert plain(lr).shape == (2, 3, 64, 48)
