"""The channels-last and bf16 inference paths of RRN and ELSR stay close to fp32 NCHW.

Tolerances, measured on these shapes over seeds 0-3 (torch 2.13 CPU):
- fp32 channels-last: max |diff| <= 4.8e-7 for RRN (outputs up to ~1.4; oneDNN sums the conv
  taps in another order, a few float32 ulps), exactly 0 for ELSR. Bound: 2e-6.
- bf16 (autocast): max |diff| <= 0.6 % of the output's max |value| (ELSR; RRN 0.2 %). bf16 keeps
  8 significant bits (eps 2^-8 = 0.39 %) and every conv rounds its inputs and weights, so a few
  eps of the output scale is expected. Bound: 2 %. The diff must also be non-zero, which shows
  the autocast really ran.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from vsr.archs.elsr import ELSR
from vsr.archs.precision import Precision
from vsr.archs.rrn import RRN
from vsr.archs.sequence import stream


def run(model: nn.Module, frames: list[torch.Tensor], precision: Precision) -> torch.Tensor:
    return torch.stack(list(stream(copy.deepcopy(model), frames, precision=precision)))


@pytest.fixture(params=["RRN", "ELSR"])
def model(request: pytest.FixtureRequest) -> nn.Module:
    if request.param == "RRN":
        return RRN(scale=4, num_channels=16, num_blocks=2).eval()
    return ELSR(scale=4).eval()


@pytest.fixture
def frames() -> list[torch.Tensor]:
    return list(torch.rand(3, 3, 12, 16).unbind(0))


def test_fp32_channels_last_matches_nchw(model: nn.Module, frames: list[torch.Tensor]) -> None:
    reference = run(model, frames, Precision())
    out = run(model, frames, Precision("fp32", channels_last=True))
    assert out.dtype == torch.float32 and out.is_contiguous()
    torch.testing.assert_close(out, reference, rtol=0, atol=2e-6)


@pytest.mark.parametrize("channels_last", [False, True])
def test_bf16_is_close_to_fp32(model: nn.Module, frames: list[torch.Tensor],
                               channels_last: bool) -> None:
    reference = run(model, frames, Precision())
    out = run(model, frames, Precision("bf16", channels_last=channels_last))
    assert out.dtype == torch.float32 and out.is_contiguous()
    error = (out - reference).abs().max().item()
    scale = reference.abs().max().item()
    assert 0 < error <= 0.02 * scale
