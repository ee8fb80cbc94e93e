"""Config values that make no sense are rejected at load time naming the key and who set it;
values YAML reads oddly (``1e-3``) are read as meant."""

from __future__ import annotations

import pytest
import yaml

from vsr.config.experiment import load_experiment
from vsr.config.loader import ConfigError

TRAIN = {
    "name": "x",
    "model": {"type": "SupervisedVSR", "arch": {"type": "ELSR", "scale": 4}},
    "train": {"dataset": {"type": "GTVideoFolder", "gt_root": ".", "scale": 4, "num_frames": 3,
                          "degradation": "BI"},
              "batch_size": 1, "total_iters": 10, "optimizers": {"net": {"lr": 0.001}}},
}


def _write(path, data):
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(("override", "key", "expected"), [
    ("train.checkpoint.every=0", "train.checkpoint.every", "a value > 0"),
    ("train.log_every=0", "train.log_every", "a value > 0"),
    ("train.val_every=0", "train.val_every", "a value > 0"),
    ("train.total_iters=-5", "train.total_iters", "a value > 0"),
    ("train.batch_size=0", "train.batch_size", "a value > 0"),
    ("train.checkpoint.keep_last=-1", "train.checkpoint.keep_last", "a value >= 0"),
    ("name=../../x", "name", "a plain name"),
    ("name=a/b", "name", "a plain name"),
    ("train.dataset.degradation={type: BD, sigma: 0}", "train.dataset.degradation.sigma",
     "a value > 0"),
    ("train.dataset.degradation={type: BD, kernel_size: -3}",
     "train.dataset.degradation.kernel_size", "a value > 0"),
])
def test_nonsense_values_name_the_key(tmp_path, override, key, expected):
    path = _write(tmp_path / "exp.yaml", TRAIN)
    with pytest.raises(ConfigError) as info:
        load_experiment(path, [override])
    assert str(info.value).startswith(f"command line: '{key}': expected {expected}")


def test_float_written_without_a_dot_is_a_float(tmp_path):
    """PyYAML reads ``1e-3`` as the string '1e-3'; where the schema wants a float it is 0.001."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(TRAIN).replace("lr: 0.001", "lr: 1e-3"))
    assert yaml.safe_load(path.read_text())["train"]["optimizers"]["net"]["lr"] == "1e-3"
    assert load_experiment(path).train.optimizers["net"].lr == 0.001
    with pytest.raises(ConfigError, match="'train.optimizers.net.lr': expected a number"):
        load_experiment(path, ["train.optimizers.net.lr=fast"])


def test_override_typo_is_blamed_on_the_command_line(tmp_path):
    path = _write(tmp_path / "exp.yaml", TRAIN)
    with pytest.raises(ConfigError) as info:
        load_experiment(path, ["trian.total_iters=5"])
    assert str(info.value).startswith("command line: 'trian': unknown key")


def test_missing_key_after_delete_is_blamed_on_the_file_that_deleted(tmp_path):
    _write(tmp_path / "base.yaml", TRAIN)
    child = _write(tmp_path / "child.yaml", {
        "_base_": "base.yaml", "train": {"_delete_": True, "dataset": TRAIN["train"]["dataset"],
                                         "batch_size": 2, "optimizers": {"net": {"lr": 0.1}}}})
    with pytest.raises(ConfigError) as info:
        load_experiment(child)
    assert str(info.value) == f"{child}: 'train.total_iters': missing required value"


def test_bad_yaml_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("name: x\nmodel: {type: [\n")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert str(info.value).startswith(f"{path.resolve()}: invalid YAML") and "\n" not in str(
        info.value)
