"""Pixel losses on RGB and on a named luma: VSRNet's recipe (MSE on the JPEG Y) is exactly
NVVL's ``MSE(sigmoid output, Y / 255)``."""

import pytest
import torch
import torch.nn.functional as F

from vsr.archs.vsrnet import VSRNet
from vsr.losses.pixel import CharbonnierLoss, L1Loss, MSELoss


def test_rgb_losses_are_the_plain_formulas():
    torch.manual_seed(0)
    sr, gt = torch.rand(2, 3, 3, 8, 8), torch.rand(2, 3, 3, 8, 8)
    assert MSELoss()(sr, gt) == pytest.approx(F.mse_loss(sr, gt).item(), rel=1e-6)
    assert L1Loss(weight=2.0)(sr, gt) == pytest.approx(2 * F.l1_loss(sr, gt).item(), rel=1e-6)
    charbonnier = torch.sqrt((sr - gt).square() + 1e-6).sum() / 6
    assert CharbonnierLoss(reduction="sum_per_frame")(sr, gt) == pytest.approx(
        charbonnier.item(), rel=1e-6)


def test_mse_on_jpeg_y_of_vsrnet_output_is_nvvl_loss():
    torch.manual_seed(0)
    net = VSRNet(num_frames=3, motion_compensation=False).train()
    window, gt = torch.rand(2, 3, 3, 16, 16), torch.rand(2, 3, 16, 16)
    details = net.forward_details(window)
    r, g, b = (gt * 255).unbind(1)
    nvvl = F.mse_loss(details["y"][:, 0], (0.299 * r + 0.587 * g + 0.114 * b) / 255)
    ours = MSELoss(y_formula="jpeg")(details["rgb"], gt)
    assert ours.item() == pytest.approx(nvvl.item(), rel=1e-5)
    assert MSELoss()(details["rgb"], gt).item() != pytest.approx(nvvl.item(), rel=1e-2)


def test_an_unknown_luma_is_named():
    with pytest.raises(ValueError, match="unknown y_formula 'ycbcr'"):
        MSELoss(y_formula="ycbcr")
