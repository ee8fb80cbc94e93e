"""The FRVSR/TecoGAN training configs and their chain load with the recipe's weights."""

from pathlib import Path

from vsr.config.experiment import load_experiment
from vsr.config.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[2] / "configs"


def test_frvsr_and_tecogan_configs_load_with_the_recipe_weights(tmp_path):
    vgg = tmp_path / "vgg19.pth"  # need not exist: check_paths=False skips local files
    frvsr = load_experiment(ROOT / "frvsr/frvsr_x4_train_bd.yaml", check_paths=False)
    assert frvsr.model["type"] == "FRVSRModel" and frvsr.train.total_iters == 400000
    data = frvsr.train.dataset  # TecoGAN's training data (MODELS.md section 3.4)
    assert (data["type"], data["degradation"], data["num_frames"], data["gt_patch_size"],
            data["moving_prob"], frvsr.train.batch_size) == ("TecoGANTrain", "BD", 10, 128, 0.3, 4)
    teco = load_experiment(ROOT / "tecogan/tecogan_x4_train_bd.yaml",
                           [f"model.feature.weights={vgg}"], check_paths=False)
    m = teco.model
    assert (m["type"], m["d_update_threshold"], m["gan"]["weight"], m["feature"]["weight"],
            m["pingpong"]["weight"]) == ("TecoGANModel", 0.4, 0.01, 0.2, 0.5)
    assert teco.train.optimizers["discriminator"].lr == 5e-5
    recipe, paths = load_recipe(ROOT / "tecogan/frvsr_tecogan_recipe_bd.yaml")
    assert [p.name for p in paths] == ["frvsr_x4_train_bd.yaml", "tecogan_x4_train_bd.yaml"]
    assert recipe.stages[1].init == "last"


def test_cpu_chain_keeps_the_recipe_but_its_size():
    """The CPU chain changes size, data and learning rates only; the TecoGAN stage drops the VGG
    feature loss (no ImageNet weights here) and sizes D to its 64-px crops."""
    recipe, paths = load_recipe(ROOT / "tecogan/cpu/recipe.yaml")
    assert [p.name for p in paths] == ["frvsr_x4_bd_vimeo_cpu.yaml", "tecogan_x4_bd_vimeo_cpu.yaml"]
    assert recipe.stages[1].init == "last"
    frvsr, teco = (load_experiment(p, check_paths=False) for p in paths)
    assert frvsr.train.total_iters == 300 and teco.train.total_iters == 200
    for cfg in (frvsr, teco):
        data = cfg.train.dataset
        assert (data["type"], data["gt_root"].endswith("Vimeo90K/sequences"), data["num_frames"],
                data["gt_patch_size"]) == ("TecoGANTrain", True, 7, 64)
    m = teco.model
    assert (m["type"], m["feature"], m["discriminator"]["spatial_size"], m["gan"]["weight"],
            m["pingpong"]["weight"], m["d_update_threshold"], teco.weights) == (
        "TecoGANModel", None, 64, 0.01, 0.5, 0.4, None)


def test_bi_and_tos3_configs_pick_their_upsampler_lr_and_test_set():
    """BI: FRNet's (and D's) bilinear upsampler, stored MATLAB-bicubic training LR, MATLAB BI
    test LR; ToS3 configs test ToS3 only, with the Vid4 protocol's five-metric base."""
    def load(name):
        return load_experiment(ROOT / name, check_paths=False)

    def test_sets(cfg):
        return {k: (v["type"], v["degradation"]) for k, v in cfg.test.datasets.items()}

    bi_lr = {"type": "BI"}
    bd_lr = {"type": "BD_TecoGAN", "mode": "png"}
    assert test_sets(load("frvsr/frvsr_x4_vid4_bi_tecogan.yaml")) == {"Vid4": ("Vid4", bi_lr)}
    assert test_sets(load("frvsr/frvsr_x4_tos3_bd_tecogan.yaml")) == {"ToS3": ("ToS3", bd_lr)}
    tos3_bi = load("frvsr/frvsr_x4_tos3_bi_tecogan.yaml")
    assert test_sets(tos3_bi) == {"ToS3": ("ToS3", bi_lr)}
    assert tos3_bi.model["arch"]["degradation"] == "BI"
    for name in ("frvsr/frvsr_x4_train_bi.yaml", "tecogan/tecogan_x4_train_bi.yaml"):
        cfg = load(name)
        data = cfg.train.dataset
        assert (data["degradation"], data["lr_root"].endswith("Bicubic4xLR.lmdb")) == ("BI", True)
        assert cfg.model["arch"]["degradation"] == "BI"
        assert test_sets(cfg) == {"Vid4": ("Vid4", bi_lr)}
    teco = load("tecogan/tecogan_x4_train_bi.yaml")
    assert (teco.model["discriminator"]["degradation"], teco.weights) == (
        "BI", "pretrained/FRVSR_BI_iter400000.pth")
