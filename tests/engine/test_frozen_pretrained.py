"""Frozen pretrained parts: loaded from the file a config key names (one clear error when it
is missing), never trained, left out of the optimizer and the EMA average, saved once."""

from typing import Annotated

import pytest
import torch
import yaml
from torch import nn

from vsr.archs.pretrained import load_frozen
from vsr.config.experiment import load_experiment
from vsr.config.loader import ConfigError
from vsr.config.schema import LocalFile
from vsr.data.synthetic import make_motion_clips
from vsr.engine.trainer import Trainer
from vsr.registry import ARCHS


@ARCHS.register("ToyFlowGuided")
class ToyFlowGuided(nn.Module):
    """A frame arch with a frozen 'flow' part in front of a trainable body."""

    temporal = "frame"

    def __init__(self, scale: int = 2,
                 flow_weights: Annotated[str | None, LocalFile("pretrained flow weights")] = None
                 ) -> None:
        super().__init__()
        self.scale = scale
        self.flow = load_frozen(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)),
                                flow_weights)
        self.body = nn.Conv2d(6, 3 * scale * scale, 3, padding=1)

    def forward(self, x):
        return nn.functional.pixel_shuffle(self.body(torch.cat([x, self.flow(x)], 1)),
                                           self.scale)


def _cfg(tmp_path, weights) -> dict:
    clips = tmp_path / "clips"
    if not clips.exists():
        make_motion_clips(clips, 2, 3, (24, 24), seed=0, split="train")
    return {
        "name": "frozen", "output_root": str(tmp_path / "exp"),
        "model": {"type": "SupervisedVSR",
                  "arch": {"type": "ToyFlowGuided", "flow_weights": str(weights)}},
        "train": {"dataset": {"type": "GTVideoFolder", "gt_root": str(clips),
                              "degradation": {"type": "BI"}, "scale": 2, "num_frames": 2,
                              "gt_patch_size": 16},
                  "batch_size": 2, "total_iters": 3, "log_every": 1,
                  "optimizers": {"generator": {"lr": 1e-2}}, "ema": {"decay": 0.5},
                  "checkpoint": {"every": 3}},
    }


def _write(tmp_path, cfg) -> str:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_missing_pretrained_file_names_the_config_key(tmp_path):
    with pytest.raises(ConfigError, match=r"'model\.arch\.flow_weights': pretrained flow "
                                          r"weights not found: .*nope\.pth"):
        load_experiment(_write(tmp_path, _cfg(tmp_path, tmp_path / "nope.pth")))


def test_frozen_part_is_loaded_untrained_out_of_optimizer_and_ema_saved_once(tmp_path):
    torch.manual_seed(5)
    source = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3))
    source[1].running_mean.fill_(0.25)
    weights = tmp_path / "flow.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}},
               weights)  # a release's layout: wrapped, DataParallel prefix
    trainer = Trainer(load_experiment(_write(tmp_path, _cfg(tmp_path, weights))))
    flow = trainer.model.net.flow
    for key, value in source.state_dict().items():
        assert torch.equal(flow.state_dict()[key], value), key
    optimized = {id(p) for g in trainer.optimizers["generator"].param_groups for p in g["params"]}
    assert not optimized & {id(p) for p in flow.parameters()}
    assert optimized == {id(p) for p in trainer.model.net.body.parameters()}
    assert trainer.ema.net.flow is flow
    head = (trainer.exp_dir / "train.log").read_text().splitlines()
    body = trainer.model.net.body
    counted = body.weight.numel() + body.bias.numel()
    assert head[0].endswith(f"network generator: {counted:,} trainable parameters, "
                            f"{sum(p.numel() for p in flow.parameters())} frozen")
    assert head[1].endswith("resolved config:") and head[2] == "name: frozen"
    body_before = trainer.model.net.body.weight.detach().clone()
    trainer.train()
    assert not torch.equal(trainer.model.net.body.weight, body_before)
    for key, value in source.state_dict().items():  # untouched, BatchNorm statistics included
        assert torch.equal(flow.state_dict()[key], value), key
    saved = torch.load(trainer.ckpt_dir / "iter_00000003.pth", weights_only=True)
    flow_keys = [k for k in saved["model"] if k.startswith("net.flow.")]
    assert len(flow_keys) == len(source.state_dict())
    assert not [k for k in saved["ema"] if k.startswith("flow.")]
    # running it loads the EMA average with the frozen part taken from the network's weights
    from vsr.engine.checkpoint import load_weights

    fresh = ToyFlowGuided()
    load_weights(fresh, trainer.ckpt_dir / "iter_00000003.pth")
    assert torch.equal(fresh.body.weight, trainer.ema.net.body.weight)
    assert not torch.equal(fresh.body.weight, trainer.model.net.body.weight)
    assert torch.equal(fresh.flow[1].running_mean, source[1].running_mean)
