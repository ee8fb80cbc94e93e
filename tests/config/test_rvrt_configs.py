"""configs/rvrt: every RVRT config loads, builds its arch and carries its protocol (MODELS.md
§4.2, §4.4); the training configs carry the KAIR recipe."""

from __future__ import annotations

from pathlib import Path

import pytest

from vsr.archs.rvrt import RVRT
from vsr.config.experiment import load_experiment
from vsr.registry import ARCHS, DATASETS, METRICS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs" / "rvrt").glob("*.yaml"))
SPYNET = ["model.arch.spynet_path=null"]  # the pretrained SpyNet file is not in the repository


def load(name: str):
    path = ROOT / "configs" / "rvrt" / name
    overrides = SPYNET if "spynet_path" in path.read_text() else None
    return load_experiment(path, overrides, check_paths=False)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_loads_and_builds(path: Path) -> None:
    cfg = load(path.name)
    arch = ARCHS.build(cfg.model["arch"])
    assert isinstance(arch, RVRT)
    for spec in cfg.test.metrics.values():
        METRICS.build(spec)
    if cfg.train is not None:
        assert cfg.train.dataset["type"] in DATASETS


def test_test_protocols() -> None:
    vid4 = load("rvrt_x4_vid4_bi.yaml")
    assert vid4.model["arch"]["pad_multiple"] == 8 and vid4.test.tile is None
    assert vid4.test.chunk.frames >= 49  # Vid4's longest clip, whole
    psnr = vid4.test.metrics["PSNR"]
    assert (psnr["channel"], psnr["crop_border"], psnr["round_to_8bit"]) == ("y", 0, True)
    assert load("rvrt_x4_vid4_bd.yaml").test.datasets["Vid4"]["degradation"] == \
        {"type": "BD_MATLAB"}
    reds = load("rvrt_x4_reds4.yaml")
    assert (reds.test.chunk.frames, reds.test.chunk.overlap) == (100, 2)
    assert (reds.test.tile.size, reds.test.tile.overlap) == ((128, 128), 20)
    assert reds.test.metrics["PSNR"]["channel"] == "rgb"
    for name, degradation in [("rvrt_x4_vimeo_t_bi.yaml", "BI"), ("rvrt_x4_vimeo_t_bd.yaml",
                                                                    "BD_MATLAB")]:
        vimeo = load(name)
        assert vimeo.test.sequence_start.mirror
        assert vimeo.test.datasets["Vimeo90K-T"]["degradation"]["type"] == degradation
        metric = vimeo.test.metrics["PSNR"]
        assert (metric["skip_first"], metric["skip_last"], metric["channel"]) == (3, 3, "y")


def test_training_recipes() -> None:
    reds = load("rvrt_x4_train_reds_bi.yaml")
    opt = reds.train.optimizers["generator"]
    assert (opt.type, opt.lr, opt.betas) == ("Adam", 4e-4, (0.9, 0.99))
    assert [(g.pattern, g.lr_mult, g.frozen_iters) for g in opt.param_groups] == \
        [(r"spynet\.", 0.25, 30000)]
    sched = reds.train.schedulers["generator"]
    assert (sched.type, sched.restarts, sched.period) == ("cosine", True, 600000)
    assert sched.eta_min_ratio * opt.lr == pytest.approx(1e-7)
    assert reds.model["loss"] == {"type": "CharbonnierLoss", "eps": 1e-9}
    assert reds.model["arch"]["use_checkpoint_ffn"] and reds.train.dataset["num_frames"] == 30
    for name, degradation in [("rvrt_x4_train_vimeo_bi.yaml", "BI"),
                              ("rvrt_x4_train_vimeo_bd.yaml", "BD_MATLAB")]:
        vimeo = load(name)
        opt = vimeo.train.optimizers["generator"]
        assert opt.lr == 2e-4 and opt.param_groups[0].frozen_iters == 0
        assert vimeo.model["mirror_sequence"] and vimeo.train.dataset["num_frames"] == 7
        assert vimeo.train.dataset["degradation"]["type"] == degradation
        assert vimeo.train.schedulers["generator"].period == 300000
