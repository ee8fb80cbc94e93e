"""Dataset paths in a config are read under the data root: data_root:, else VSR_DATA, else data/."""

from __future__ import annotations

import pytest
import yaml

from vsr.config.experiment import load_experiment
from vsr.config.loader import ConfigError
from vsr.config.schema import MissingDataPath
from vsr.data import storage  # noqa: F401  (registers the datasets)


def _config(tmp_path, **extra):
    data = {"name": "x", "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic"}},
            "test": {"datasets": {"Vid4": {"type": "Vid4", "root": "Vid4", "degradation": "BI"}}},
            **extra}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def roots(tmp_path, monkeypatch):
    env, own = tmp_path / "env_root", tmp_path / "own_root"
    for root in (env, own):
        (root / "Vid4").mkdir(parents=True)
    monkeypatch.setenv("VSR_DATA", str(env))
    monkeypatch.chdir(tmp_path)
    return env, own


def test_relative_dataset_path_is_read_under_vsr_data(tmp_path, roots):
    env, _ = roots
    cfg = load_experiment(_config(tmp_path))
    assert cfg.test.datasets["Vid4"]["root"] == str(env / "Vid4")
    assert cfg.data_root == str(env)


def test_the_configs_data_root_wins_over_vsr_data(tmp_path, roots):
    _, own = roots
    cfg = load_experiment(_config(tmp_path, data_root=str(own)))
    assert cfg.test.datasets["Vid4"]["root"] == str(own / "Vid4")
    assert load_experiment(_config(tmp_path), [f"data_root={own}"]).data_root == str(own)


def test_default_root_is_data_beside_the_current_directory(tmp_path, roots, monkeypatch):
    monkeypatch.delenv("VSR_DATA")
    (tmp_path / "data" / "Vid4").mkdir(parents=True)
    cfg = load_experiment(_config(tmp_path))
    assert cfg.test.datasets["Vid4"]["root"] == str(tmp_path / "data" / "Vid4")


def test_dot_slash_and_absolute_paths_are_taken_as_given(tmp_path, roots):
    (tmp_path / "results" / "made").mkdir(parents=True)
    cfg = load_experiment(_config(tmp_path), ["test.datasets.Vid4.root=./results/made"])
    assert cfg.test.datasets["Vid4"]["root"] == str(tmp_path / "results" / "made")
    cfg = load_experiment(_config(tmp_path), [f"test.datasets.Vid4.root={tmp_path / 'results'}"])
    assert cfg.test.datasets["Vid4"]["root"] == str(tmp_path / "results")


def test_a_missing_dataset_path_names_the_key_the_folder_and_the_root(tmp_path, roots):
    env, _ = roots
    with pytest.raises(MissingDataPath) as info:
        load_experiment(_config(tmp_path), ["test.datasets.Vid4.root=Vid5"])
    message = str(info.value)
    assert message.startswith("command line: 'test.datasets.Vid4.root': no such file or folder: "
                              f"{env / 'Vid5'} (a relative path is read under the data root "
                              f"{env}, from VSR_DATA;")
    assert isinstance(info.value, ConfigError)


def test_a_missing_list_file_inside_a_union_is_reported_not_swallowed(tmp_path, roots):
    env, _ = roots
    (env / "seq").mkdir()
    data = {"name": "x", "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic"}},
            "test": {"datasets": {"V": {"type": "Vimeo90KTest", "gt_root": "seq",
                                        "list_file": "sep_testlist.txt", "degradation": "BI"}}}}
    path = tmp_path / "vimeo.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(MissingDataPath, match=r"'test.datasets.V.list_file': no such file or "
                                              r"folder: .*env_root/sep_testlist.txt"):
        load_experiment(path)
    (env / "sep_testlist.txt").write_text("00001/0001\n")
    cfg = load_experiment(path)
    assert cfg.test.datasets["V"]["list_file"] == str(env / "sep_testlist.txt")
    # a clip list given inline is not a path
    cfg = load_experiment(path, ["test.datasets.V.list_file=[00001/0001]"])
    assert cfg.test.datasets["V"]["list_file"] == ["00001/0001"]
