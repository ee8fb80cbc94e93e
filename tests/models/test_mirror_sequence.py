"""SupervisedVSR ``mirror_sequence``: the loss is that of the clip followed by its reverse."""

from __future__ import annotations

import torch

from vsr.models.supervised import SupervisedVSR


class Recorder:
    """A StepContext that keeps the loss instead of stepping an optimizer."""

    def __init__(self, nets: dict) -> None:
        self.iteration, self.nets, self.losses = 0, nets, []

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        self.losses.append(loss.detach())


def test_mirrored_clip_loss_equals_hand_computed_loss() -> None:
    torch.manual_seed(0)
    arch = {"type": "RVRTLight", "embed_dim": 12, "num_heads": 2, "attention_heads": 4}
    model = SupervisedVSR(arch, {"type": "CharbonnierLoss", "eps": 1e-9}, mirror_sequence=True)
    lr, gt = torch.rand(1, 3, 3, 8, 8), torch.rand(1, 3, 3, 32, 32)
    ctx = Recorder(model.trainable())
    model.training_step({"lr": lr, "gt": gt}, ctx)
    with torch.no_grad():
        sr = model.net(torch.cat([lr, lr.flip(1)], 1))
    assert sr.shape[1] == 6
    expected = torch.sqrt((sr - torch.cat([gt, gt.flip(1)], 1)).square() + 1e-9).mean()
    torch.testing.assert_close(ctx.losses[0], expected, rtol=1e-5, atol=1e-6)
    plain = SupervisedVSR(arch, {"type": "CharbonnierLoss", "eps": 1e-9})
    plain.load_state_dict(model.state_dict())
    ctx_plain = Recorder(plain.trainable())
    plain.training_step({"lr": lr, "gt": gt}, ctx_plain)
    assert abs(ctx_plain.losses[0] - expected) > 1e-6  # mirroring changes the loss
