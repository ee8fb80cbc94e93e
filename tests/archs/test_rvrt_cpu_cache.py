"""``cpu_cache_length``: past that many frames RVRT keeps the propagated clips on the CPU and
reconstructs clip by clip; the output must not change."""

from __future__ import annotations

import pytest
import torch

from vsr.registry import ARCHS

SMALL = {"embed_dim": 12, "num_heads": 2, "attention_heads": 4}


def build(kind: str, cache_length: int, device: str = "cpu") -> torch.nn.Module:
    torch.manual_seed(3)
    extra = {"deformable_groups": 4} if kind == "RVRT" else {}
    net = ARCHS.build({"type": kind, **SMALL, **extra, "cpu_cache_length": cache_length})
    for module in net.modules():  # non-zero offsets, so the GDA samples off the flow
        if isinstance(module, torch.nn.Conv3d) and not module.weight.any():
            torch.nn.init.normal_(module.weight, std=0.05)
    return net.eval().to(device)


def count_reconstructions(net: torch.nn.Module, lq: torch.Tensor) -> tuple[torch.Tensor, int]:
    calls = []
    handle = net.reconstruction.register_forward_hook(lambda *_: calls.append(1))
    with torch.no_grad():
        out = net(lq)
    handle.remove()
    return out, len(calls)


@pytest.mark.parametrize("kind", ["RVRT", "RVRTLight"])
def test_cached_output_equals_resident_output(kind: str) -> None:
    lq = torch.rand(1, 5, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    resident, resident_calls = count_reconstructions(build(kind, 100), lq)
    cached, cached_calls = count_reconstructions(build(kind, 4), lq)
    assert resident.shape == cached.shape == (1, 5, 3, 64, 64)
    assert (resident_calls, cached_calls) == (1, 3)  # 5 frames = 3 clips when cached
    torch.testing.assert_close(cached, resident, rtol=0, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cache_on_cpu_while_computing_on_cuda() -> None:
    lq = torch.rand(1, 6, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = build("RVRT", 100, "cuda")(lq.cuda()).cpu()
        cached = build("RVRT", 4, "cuda")(lq.cuda())
    assert cached.device.type == "cuda"
    torch.testing.assert_close(cached.cpu(), reference, rtol=0, atol=1e-4)


def test_bad_cache_length_is_refused() -> None:
    with pytest.raises(ValueError, match="cpu_cache_length"):
        build("RVRTLight", 0)


@pytest.mark.parametrize("kind", ["RVRT", "RVRTLight"])
def test_pad_multiple_reflects_to_the_window_and_crops_back(kind: str) -> None:
    """main_test_rvrt.py: LR reflect-padded to a multiple of 8, the output cropped back."""
    lq = torch.rand(1, 2, 3, 13, 10, generator=torch.Generator().manual_seed(2))
    padded = torch.nn.functional.pad(lq[0], (0, 6, 0, 3), mode="reflect")[None]
    plain, net = build(kind, 100), build(kind, 100)
    net.pad_multiple = 8
    with torch.no_grad():
        ours = net(lq)
        expected = plain(padded)[..., :52, :40]
        unpadded = plain(lq)
    assert ours.shape == (1, 2, 3, 52, 40)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-6)
    assert (ours - unpadded).abs().max() > 1e-4  # zero-padded windows differ
