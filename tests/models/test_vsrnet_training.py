"""VSRNet through the one Trainer as NVVL trains it: HR windows at scale 1 (degradation 'none',
the model pools its own LR), MSE on the JPEG Y, weight decay, FlowNetSD frozen and unchanged."""

import torch
import yaml

from vsr.config.experiment import load_experiment
from vsr.data.synthetic import make_motion_clips
from vsr.engine.logging import read_scalars
from vsr.engine.trainer import Trainer


def test_nvvl_style_training_leaves_flownet_untouched(tmp_path):
    make_motion_clips(tmp_path / "clips", 1, 4, (64, 64), seed=0, split="train")
    cfg = {
        "name": "vsrnet", "output_root": str(tmp_path / "exp"), "seed": 0, "device": "cpu",
        "model": {"type": "SupervisedVSR",
                  "arch": {"type": "VSRNet", "num_frames": 3, "lr_input": "simulate"},
                  "loss": {"type": "MSELoss", "y_formula": "jpeg"}},
        "train": {"dataset": {"type": "GTVideoFolder", "gt_root": str(tmp_path / "clips"),
                              "degradation": "none", "scale": 1, "num_frames": 3,
                              "gt_patch_size": 64},
                  "batch_size": 2, "total_iters": 2, "log_every": 1,
                  "optimizers": {"generator": {"type": "Adam", "lr": 1e-3,
                                               "weight_decay": 4e-4}},
                  "checkpoint": {"every": 2}},
    }
    path = tmp_path / "vsrnet.yaml"
    path.write_text(yaml.safe_dump(cfg))
    trainer = Trainer(load_experiment(path))
    net = trainer.model.net
    flownet = {k: v.clone() for k, v in net.FlowNetSD_network.state_dict().items()}
    conv1 = net.conv1[0].weight.detach().clone()
    trainer.train()
    assert all(torch.equal(v, flownet[k]) for k, v in net.FlowNetSD_network.state_dict().items())
    assert not any(p.requires_grad for p in net.FlowNetSD_network.parameters())
    assert not torch.equal(net.conv1[0].weight, conv1)
    losses = [v["loss"] for v in read_scalars(trainer.exp_dir / "metrics.jsonl").values()]
    assert len(losses) == 2 and all(0 < loss < 1 for loss in losses)
    log = (trainer.exp_dir / "train.log").read_text()
    assert "159,777 trainable parameters" in log  # FlowNetSD's 45M are frozen, not trained
