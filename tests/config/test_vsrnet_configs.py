"""The VSRNet configs: NVVL's recipe, and the CPU pair that trains from an mp4 or from its PNG
frames with one difference, the dataset root."""

import dataclasses
from pathlib import Path

import pytest

from vsr.config.experiment import load_experiment
from vsr.config.loader import ConfigError

ROOT = Path(__file__).resolve().parents[2] / "configs"


def test_nvvl_recipe():
    cfg = load_experiment(ROOT / "vsrnet/vsrnet_nvvl_540p.yaml", check_paths=False)
    arch, data = cfg.model["arch"], cfg.train.dataset
    assert (arch["lr_input"], arch["num_frames"], cfg.model["loss"]) == (
        "simulate", 3, {"type": "MSELoss", "y_formula": "jpeg"})
    assert (data["degradation"], data["scale"], data["gt_patch_size"]) == (
        {"type": "none"}, 1, (512, 960))
    generator = cfg.train.optimizers["generator"]
    assert (generator.type, generator.lr, generator.weight_decay, cfg.train.amp) == (
        "Adam", 1e-3, 4e-4, "fp16")
    assert cfg.test.metrics["PSNR"]["crop_sides"] == (12, 0, 0, 12)


def test_missing_flownet_weights_name_the_key(tmp_path):
    missing = tmp_path / "FlowNet2-SD_checkpoint.pth.tar"
    with pytest.raises(ConfigError, match=r"'model.arch.flownet_weights': FlowNet2-SD checkpoint "
                                          r"not found: .*FlowNet2-SD_checkpoint.pth.tar"):
        load_experiment(ROOT / "vsrnet/vsrnet_nvvl_540p.yaml",
                        [f"model.arch.flownet_weights={missing}"])


def test_mp4_and_png_cpu_configs_differ_in_the_dataset_root_only():
    mp4, png = (load_experiment(ROOT / f"vsrnet/cpu/vsrnet_x4_bi_{kind}_cpu.yaml",
                                check_paths=False) for kind in ("mp4", "png"))
    assert mp4.train.dataset["gt_root"].endswith("bbb_scenes/360p/train.txt")
    assert png.train.dataset["gt_root"].endswith("bbb_scenes/360p_png")
    same = {**dataclasses.asdict(png), "name": mp4.name}
    same["train"]["dataset"]["gt_root"] = mp4.train.dataset["gt_root"]
    assert same == dataclasses.asdict(mp4)
