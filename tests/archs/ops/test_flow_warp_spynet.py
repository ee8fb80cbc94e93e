"""flow_warp and SpyNet against RVRT's originals (fixture spynet.pt, README §7.1)."""

from __future__ import annotations

import pytest
import torch

from tests.archs.rvrt_recipe import rvrt_recipe_weights, sub_state
from tests.conftest import load_fixture
from vsr.archs.ops.flow_warp import flow_warp
from vsr.archs.ops.spynet import SpyNet


@pytest.fixture(scope="module")
def spynet_fixture() -> dict:
    return load_fixture("spynet.pt")


@pytest.fixture(scope="module")
def spynet(spynet_fixture) -> SpyNet:
    model = SpyNet().eval()
    state = sub_state(rvrt_recipe_weights(), "spynet.")
    assert list(state) == [entry[0] for entry in spynet_fixture["state_dict_keys"]]
    model.load_state_dict(state)
    return model


@pytest.mark.parametrize("padding", ["zeros", "border"])
def test_flow_warp_matches_original(spynet_fixture, padding) -> None:
    flow = spynet_fixture["warp_flow"].permute(0, 3, 1, 2)  # original (N, H, W, 2) -> (N, 2, H, W)
    out = flow_warp(spynet_fixture["warp_input"], flow, padding_mode=padding)
    torch.testing.assert_close(out, spynet_fixture[f"warp_{padding}"], rtol=0, atol=1e-5)


def test_flow_warp_by_whole_pixels_shifts_and_zero_flow_is_identity() -> None:
    x = torch.rand(1, 2, 5, 6)
    torch.testing.assert_close(flow_warp(x, torch.zeros(1, 2, 5, 6)), x, rtol=0, atol=1e-6)
    flow = torch.zeros(1, 2, 5, 6)
    flow[:, 0] = 1.0  # sample one pixel to the right
    out = flow_warp(x, flow)
    torch.testing.assert_close(out[..., :-1], x[..., 1:], rtol=0, atol=1e-6)
    assert out[..., -1].abs().max() == 0  # zeros padding beyond the right edge


def test_spynet_flow_matches_original(spynet_fixture, spynet) -> None:
    with torch.no_grad():
        flow = spynet(spynet_fixture["ref"], spynet_fixture["supp"])
        levels = spynet.flow_levels(spynet_fixture["ref"], spynet_fixture["supp"], (2, 3, 4, 5))
    torch.testing.assert_close(flow, spynet_fixture["flow"], rtol=0, atol=1e-5)
    assert len(levels) == len(spynet_fixture["flow_levels"]) == 4
    for ours, theirs in zip(levels, spynet_fixture["flow_levels"]):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


def test_spynet_loads_the_standalone_release_layout(tmp_path, spynet) -> None:
    """spynet_sintel_final holds only basic_module.* under 'params'; mean/std stay constant."""
    path = tmp_path / "spynet_sintel_final.pth"
    basic = {k: v for k, v in spynet.state_dict().items() if k.startswith("basic_module.")}
    torch.save({"params": basic}, path)
    loaded = SpyNet(path)
    for key, value in spynet.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)
    torch.save({"params": {**basic, "extra.weight": torch.ones(1)}}, path)
    with pytest.raises(ValueError, match="unexpected keys"):
        SpyNet(path)


def test_spynet_takes_frames_smaller_than_its_pyramid(spynet) -> None:
    """Frames up to 32 px are resized to 64 (the original's 32 would leave an empty coarsest
    level) and the flow is scaled back to their size."""
    ref, supp = torch.rand(2, 1, 3, 12, 16)
    with torch.no_grad():
        flow = spynet(ref, supp)
        zero = spynet(ref, ref)
    assert flow.shape == (1, 2, 12, 16) and torch.isfinite(flow).all()
    assert (flow - zero).abs().max() > 1e-3
