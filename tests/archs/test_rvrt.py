"""RVRT against the original network_rvrt.py (fixtures rvrt_blocks, rvrt_full, rvrt_gda_inputs;
fixtures/parity/README.md §7) with the recipe weights loaded from a release-layout file."""

from __future__ import annotations

import pytest
import torch

from tests.archs.rvrt_recipe import rvrt_recipe_weights
from tests.conftest import load_fixture
from vsr.archs.ops.swin3d import relative_position_index
from vsr.archs.rvrt import RVRT
from vsr.engine.checkpoint import load_weights
from vsr.registry import ARCHS


@pytest.fixture(scope="module")
def weights() -> dict:
    return rvrt_recipe_weights()


@pytest.fixture(scope="module")
def model(weights, tmp_path_factory) -> RVRT:
    """RVRT loaded strictly from a file in the release layout (state under 'params')."""
    path = tmp_path_factory.mktemp("rvrt") / "001_RVRT_videosr_bi_REDS_30frames.pth"
    torch.save({"params": weights}, path)
    net = RVRT().eval()
    load_weights(net, path)
    return net


def test_state_dict_is_the_release_layout(model) -> None:
    fixture = load_fixture("rvrt_full.pt")
    entries = fixture["state_dict_keys"]
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == \
        [(key, shape) for key, shape, _, _ in entries]
    assert sum(p.numel() for p in model.parameters()) == 10_782_295
    assert torch.equal(relative_position_index((1, 8, 8)), fixture["relative_position_index_64"])
    assert torch.equal(relative_position_index((2, 8, 8)), fixture["relative_position_index_128"])


def test_blocks_match_original(model) -> None:
    fixture = load_fixture("rvrt_blocks.pt")
    with torch.no_grad():
        shallow = model.feat_extract(fixture["feat_extract_in"])
        backbone = model.backbone["backward_1"](fixture["backbone_in"])
        up = model.upsampler(fixture["upsampler_in"])
    torch.testing.assert_close(shallow, fixture["feat_extract_out"], rtol=0, atol=2e-5)
    torch.testing.assert_close(backbone, fixture["backbone_backward_1_out"], rtol=0, atol=2e-5)
    torch.testing.assert_close(up, fixture["upsampler_out"], rtol=0, atol=2e-5)


def test_full_two_frame_forward_matches_original(model) -> None:
    fixture = load_fixture("rvrt_full.pt")
    lq = fixture["lq"]
    with torch.no_grad():
        flows_backward, flows_forward = model.compute_flows(lq)
        out = model(lq)
    torch.testing.assert_close(flows_backward, fixture["flows_backward"], rtol=0, atol=1e-5)
    torch.testing.assert_close(flows_forward, fixture["flows_forward"], rtol=0, atol=1e-5)
    torch.testing.assert_close(out, fixture["out"], rtol=0, atol=2e-5)


def test_is_registered_as_a_clip_arch() -> None:
    net = ARCHS.build({"type": "RVRT", "embed_dim": 12, "num_heads": 2, "deformable_groups": 4,
                       "attention_heads": 4})
    assert isinstance(net, RVRT) and (net.temporal, net.scale) == ("clip", 4)
    with pytest.raises(ValueError, match="x4"):
        RVRT(scale=2)
