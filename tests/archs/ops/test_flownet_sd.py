"""FlowNetSD: the released checkpoint's key layout loads strictly, flow2 of the parity fixture
is reproduced, and sizes that are not multiples of 64 are padded and cropped back."""

import pytest
import torch

from tests.archs.weight_recipe import recipe_state_dict
from tests.conftest import load_fixture
from vsr.archs.ops.flownet_sd import FlowNetSD

PREFIX = "FlowNetSD_network."


def _fixture_weights(fx: dict) -> dict:
    """FlowNetSD's entries of the VSRNet recipe (the recipe indexes every VSRNet entry)."""
    full = recipe_state_dict(fx["state_dict_keys"], own={
        k: torch.zeros((), dtype=torch.int64) for k, *_ in fx["state_dict_keys"]})
    return {k.removeprefix(PREFIX): v for k, v in full.items() if k.startswith(PREFIX)}


def _release_file(tmp_path, state: dict):
    """A file laid out as ``FlowNet2-SD_checkpoint.pth.tar``: weights under ``state_dict``."""
    path = tmp_path / "FlowNet2-SD_checkpoint.pth.tar"
    torch.save({"epoch": 1, "best_EPE": 0.0, "state_dict": state}, path)
    return path


def test_release_key_layout_loads_strictly_and_reproduces_flow2(tmp_path):
    fx = load_fixture("vsrnet.pt")
    state = _fixture_weights(fx)
    assert list(state) == list(FlowNetSD().state_dict())  # same keys, same order
    net = FlowNetSD(_release_file(tmp_path, state)).eval()
    assert sum(p.numel() for p in net.parameters()) == 45_371_666
    rgb = fx["frames_uint8"].permute(0, 3, 1, 2).float()
    normed = (rgb - fx["rgb_mean"].view(1, 3, 1, 1)) / 255
    with torch.no_grad():
        for neighbour, expected in zip((0, 2), fx["flow2"]):
            flow2 = net(torch.cat((normed[1:2], normed[neighbour:neighbour + 1]), 1))
            assert flow2.shape == (1, 2, 32, 48)
            assert (flow2 - expected).abs().max() < 2e-3


def test_missing_or_extra_keys_are_named(tmp_path):
    state = FlowNetSD().state_dict()
    state.pop("predict_flow2.bias")
    with pytest.raises(ValueError, match=r"missing keys \[.predict_flow2.bias.\]"):
        FlowNetSD(_release_file(tmp_path, state))
    with pytest.raises(FileNotFoundError, match="nope.pth.tar"):
        FlowNetSD(tmp_path / "nope.pth.tar")


def test_other_sizes_are_padded_to_64_and_cropped_back():
    torch.manual_seed(0)
    net = FlowNetSD().eval()
    pair = torch.rand(1, 6, 64, 128)
    with torch.no_grad():
        inner = net(pair)
        cut = net(pair[..., :60, :120])  # padded by replication to 64 x 128 again
    assert cut.shape == (1, 2, 15, 30) and inner.shape == (1, 2, 16, 32)
    with pytest.raises(ValueError, match=r"\(N, 6, H, W\)"):
        net(torch.rand(1, 3, 64, 64))
