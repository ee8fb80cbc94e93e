"""Engine inputs: unreadable checkpoints, a missing device, a model/data scale mismatch."""

from __future__ import annotations

import pytest
import torch

from vsr.archs.elsr import ELSR
from vsr.config.loader import ConfigError
from vsr.data.concat import ConcatDataset
from vsr.engine.builders import check_training_scale
from vsr.engine.checkpoint import load_weights, read_checkpoint
from vsr.engine.device import resolve_device
from vsr.errors import CheckpointError, DeviceError, VSRError


def _saved(tmp_path, legacy: bool = False):
    path = tmp_path / "w.pth"
    torch.save(ELSR(scale=2).state_dict(), path, _use_new_zipfile_serialization=not legacy)
    return path


@pytest.mark.parametrize("legacy", [False, True])
def test_truncated_checkpoint_is_named_without_advice_to_unpickle(tmp_path, legacy):
    path = _saved(tmp_path, legacy)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError) as info:
        load_weights(ELSR(scale=2), path)
    message = str(info.value)
    assert message.startswith(f"{path} is not a readable checkpoint: truncated or corrupt")
    assert "weights_only" not in message and "\n" not in message


def test_checkpoint_with_python_objects_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "obj.pth"
    torch.save({"net": ConfigError("x")}, path)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert "vsr.config.loader.ConfigError" in str(info.value)
    assert "weights_only" not in str(info.value)


def test_cuda_without_a_gpu_is_a_device_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="'cuda' was requested"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


class _Data:
    def __init__(self, scale):
        self.scale = scale


def test_model_and_data_scale_must_agree():
    check_training_scale(ELSR(scale=4), _Data(4))
    with pytest.raises(ConfigError, match=r"'train.dataset.scale' is 2 but the model \(ELSR, "
                                          r"'model.arch.scale'\) upscales by 4"):
        check_training_scale(ELSR(scale=4), _Data(2))


def test_each_part_of_a_concat_dataset_is_checked():
    concat = ConcatDataset.__new__(ConcatDataset)
    concat.parts = [_Data(4), _Data(3)]
    with pytest.raises(VSRError, match=r"'train.dataset.datasets.1.scale' is 3"):
        check_training_scale(ELSR(scale=4), concat)
