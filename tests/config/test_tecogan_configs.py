"""The FRVSR/TecoGAN training configs and their chain load with the recipe's weights."""

from pathlib import Path

from vsr.config.experiment import load_experiment
from vsr.config.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[2] / "configs"


def test_frvsr_and_tecogan_configs_load_with_the_recipe_weights(tmp_path):
    vgg = tmp_path / "vgg19.pth"
    vgg.write_bytes(b"")
    frvsr = load_experiment(ROOT / "frvsr/frvsr_x4_train_bd.yaml", check_paths=False)
    assert frvsr.model["type"] == "FRVSRModel" and frvsr.train.total_iters == 400000
    teco = load_experiment(ROOT / "tecogan/tecogan_x4_train_bd.yaml",
                           [f"model.feature.weights={vgg}"], check_paths=False)
    m = teco.model
    assert (m["type"], m["d_update_threshold"], m["gan"]["weight"], m["feature"]["weight"],
            m["pingpong"]["weight"]) == ("TecoGANModel", 0.4, 0.01, 0.2, 0.5)
    assert teco.train.optimizers["discriminator"].lr == 5e-5
    recipe, paths = load_recipe(ROOT / "tecogan/frvsr_tecogan_recipe_bd.yaml")
    assert [p.name for p in paths] == ["frvsr_x4_train_bd.yaml", "tecogan_x4_train_bd.yaml"]
    assert recipe.stages[1].init == "last"


def test_cpu_frvsr_variant_loads():
    cfg = load_experiment(ROOT / "frvsr/frvsr_x4_bd_vimeo_cpu.yaml", check_paths=False)
    assert cfg.train.total_iters == 300 and cfg.train.dataset["gt_patch_size"] == 64
