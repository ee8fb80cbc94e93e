"""Config loading: _base_ inheritance, overrides, schema errors naming file and dotted key."""

import pytest
import yaml

from vsr.config.experiment import load_experiment
from vsr.config.loader import ConfigError, load_config

BASE = {
    "seed": 3,
    "model": {"type": "SupervisedVSR", "arch": {"type": "ELSR", "scale": 4}},
    "test": {"datasets": {}, "metrics": {"PSNR": {"type": "PSNR", "channel": "y"}}},
}


def _write(path, data):
    path.write_text(yaml.safe_dump(data))
    return path


def test_base_inheritance_deep_merge_and_overrides(tmp_path):
    _write(tmp_path / "base.yaml", BASE)
    _write(tmp_path / "other.yaml", {"seed": 5, "output_root": "out"})
    child = _write(tmp_path / "child.yaml", {"_base_": ["base.yaml", "other.yaml"], "name": "x",
                                             "model": {"arch": {"scale": 2}}})
    cfg = load_experiment(child, ["seed=7", "model.arch.channels=8", "notes='a: b'"])
    assert cfg.seed == 7
    assert cfg.output_root == "out"
    assert cfg.model == {"type": "SupervisedVSR", "arch": {"type": "ELSR", "scale": 2,
                                                           "channels": 8}}
    assert cfg.notes == "a: b"


def test_delete_replaces_a_mapping(tmp_path):
    _write(tmp_path / "base.yaml", BASE)
    child = _write(tmp_path / "c.yaml", {"_base_": "base.yaml", "name": "x",
                                         "model": {"_delete_": True, "type": "SupervisedVSR",
                                                   "arch": {"type": "Bicubic"}}})
    assert load_experiment(child).model["arch"] == {"type": "Bicubic"}


@pytest.mark.parametrize(
    ("overrides", "where", "what"),
    [
        (["model.arch.num_blockz=3"], "model.arch.num_blockz", "unknown key"),
        (["seed=abc"], "seed", "expected an integer"),
        (["model.arch.type=ELRS"], "model.arch.type", "close matches: ELSR"),
        (["train.batch_size=2"], "train.dataset", "missing required value"),
        (["test.metrics.PSNR.chanel=y"], "test.metrics.PSNR.chanel", "unknown key"),
        (["device=tpu"], "device", "expected one of"),
    ],
)
def test_errors_name_source_and_dotted_key(tmp_path, overrides, where, what):
    path = _write(tmp_path / "exp.yaml", {**BASE, "name": "x"})
    with pytest.raises(ConfigError) as info:
        load_experiment(path, overrides)
    message = str(info.value)
    assert f"'{where}'" in message and what in message
    assert "command line" in message or str(path) in message


def test_error_names_the_base_file_that_set_the_key(tmp_path):
    _write(tmp_path / "base.yaml", {**BASE, "model": {"type": "SupervisedVSR",
                                                      "arch": {"type": "ELSR", "bogus": 1}}})
    child = _write(tmp_path / "child.yaml", {"_base_": "base.yaml", "name": "x"})
    with pytest.raises(ConfigError, match=r"base\.yaml: 'model\.arch\.bogus'"):
        load_experiment(child)


def test_missing_name_and_bad_yaml_and_cycles(tmp_path):
    with pytest.raises(ConfigError, match="'name': missing required value"):
        load_experiment(_write(tmp_path / "a.yaml", BASE))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: invalid YAML"):
        load_config(bad)
    _write(tmp_path / "p.yaml", {"_base_": "q.yaml"})
    _write(tmp_path / "q.yaml", {"_base_": "p.yaml"})
    with pytest.raises(ConfigError, match="circular"):
        load_config(tmp_path / "p.yaml")


def test_overrides_never_evaluate(tmp_path):
    path = _write(tmp_path / "exp.yaml", {**BASE, "name": "x"})
    cfg = load_experiment(path, ["notes=__import__('os').system('false')"])
    assert cfg.notes == "__import__('os').system('false')"
    with pytest.raises(ConfigError, match="a.b.c=value"):
        load_experiment(path, ["seed"])


def test_every_shipped_config_loads_and_its_metrics_build():
    """Each config under configs/ validates and its metrics build (no data is read, none needs to
    exist); the FOCAS eyetracking config averages per 50-frame segment as the original does."""
    from pathlib import Path

    from vsr.registry import METRICS

    root = Path(__file__).resolve().parents[2] / "configs"
    paths = sorted(p for p in root.rglob("*.yaml") if "_base_" not in p.parts)
    assert len(paths) >= 10
    from vsr.config.recipe import is_recipe, load_recipe
    from vsr.engine.stages import stage_configs

    for path in paths:
        cfgs = (stage_configs(*load_recipe(path), [], check_paths=False) if is_recipe(path)
                else [load_experiment(path, check_paths=False)])
        for cfg in cfgs:
            for spec in (cfg.test.metrics.values() if cfg.test is not None else []):
                METRICS.build(spec)
    focas = load_experiment(root / "focas" / "focas25_eyetracking.yaml", check_paths=False).test
    assert (focas.averaging, focas.segment_frames) == ("segment", 50)
    assert load_experiment(root / "rrn" / "rrn_3l_x4_vid4_bd.yaml").test.averaging == "clip"
    with pytest.raises(ConfigError, match="averaging"):
        load_experiment(root / "rrn" / "rrn_3l_x4_vid4_bd.yaml", ["test.averaging=video"])
