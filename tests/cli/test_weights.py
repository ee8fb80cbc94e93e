"""``vsr weights verify`` on the real ELSR-torch release, a corrupted copy, state dicts with a
renamed or missing key, and a missing ``--weights`` file that the zoo knows."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
import torch

from tests.conftest import shared_path
from vsr.archs.rrn import RRN
from vsr.cli.main import main
from vsr.config.zoo import load_zoo
from vsr.io.image import write_image

ELSR_X4_SHA256 = "0e0dc5f8586956d6c433fb36ef623417beb7ed487182b40d6f70feead9ac371e"


@pytest.fixture
def elsr_x4():
    return shared_path("data", "weights", "elsr_torch", "best_X4_model.pth")


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_the_real_elsr_release_verifies(elsr_x4, capsys):
    assert main(["weights", "verify", str(elsr_x4)]) == 0
    out = capsys.readouterr().out
    assert f"sha256   {ELSR_X4_SHA256} matches the zoo" in out
    assert "arch     {type: ELSR, scale: 4}: 9 tensors, 3,469 parameters" in out
    assert "keys     all 9 loaded strictly (layer1.weight, layer1.bias," in out
    assert out.rstrip().endswith("OK: sha256 and key layout verified")
    assert len(out.splitlines()) == 6  # one screen


def test_a_corrupted_copy_fails_with_both_hashes(elsr_x4, tmp_path, capsys):
    copy = tmp_path / "best_X4_model.pth"
    data = bytearray(elsr_x4.read_bytes())
    data[-100] ^= 0xFF  # one byte flipped
    copy.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    assert main(["weights", "verify", str(copy)]) == 2
    assert _error(capsys) == (
        f"error: {copy}: sha256 {actual} does not match the zoo's {ELSR_X4_SHA256} for "
        f"best_X4_model.pth: a corrupt or different download; get it again from "
        f"andreacoppari/ELSR-torch `checkpoints/best_X4_model.pth`")
    renamed = tmp_path / "elsr.pth"  # another name: --model says which entry
    shutil.copy(elsr_x4, renamed)
    assert main(["weights", "verify", str(renamed), "--model", "best_X4_model"]) == 0
    assert main(["weights", "verify", str(renamed), "--model", "best_X2_model.pth"]) == 2
    assert f"sha256 {ELSR_X4_SHA256} does not match the zoo's 17cf4c40" in _error(capsys)


def test_a_renamed_or_missing_key_is_a_layout_error(elsr_x4, tmp_path, capsys):
    state = torch.load(elsr_x4, map_location="cpu", weights_only=True)
    state["layer1.kernel"] = state.pop("layer1.weight")
    del state["layer5.bias"]
    torch.save(state, tmp_path / "elsr.pth")
    assert main(["weights", "verify", str(tmp_path / "elsr.pth"), "--arch",
                 "{type: ELSR, scale: 4}"]) == 2
    assert _error(capsys) == (
        f"error: {tmp_path / 'elsr.pth'}: the keys do not fit {{type: ELSR, scale: 4}}: missing "
        f"keys (2): layer1.weight, layer5.bias; unexpected keys (1): layer1.kernel")
    assert main(["weights", "verify", str(elsr_x4), "--arch", "{type: ELSR, scale: 2}"]) == 2
    assert _error(capsys).endswith(
        "the keys do not fit {type: ELSR, scale: 2}: shape mismatch (2): layer5.bias file [48] "
        "vs arch [12], layer5.weight file [48, 6, 3, 3] vs arch [12, 6, 3, 3]")


def test_an_entry_without_a_hash_is_checked_by_its_layout(tmp_path, capsys):
    state = {f"module.{k}": v for k, v in RRN(num_blocks=3).state_dict().items()}  # DataParallel
    torch.save(state, tmp_path / "RRN-3L.pth")
    assert main(["weights", "verify", str(tmp_path / "RRN-3L.pth")]) == 0
    out = capsys.readouterr().out
    assert "(the zoo has none for RRN-3L.pth: not checked)" in out
    assert "arch     {type: RRN, scale: 4, num_channels: 128, num_blocks: 3}: 18 tensors, " \
           "1,298,224 parameters" in out
    assert out.rstrip().endswith("OK: key layout verified")
    del state["module.neuro.recon_trunk.2.conv2.bias"]
    torch.save(state, tmp_path / "RRN-3L.pth")
    assert main(["weights", "verify", str(tmp_path / "RRN-3L.pth")]) == 2
    assert _error(capsys).endswith(
        "do not fit {type: RRN, scale: 4, num_channels: 128, num_blocks: 3}: missing keys (1): "
        "neuro.recon_trunk.2.conv2.bias")


def test_what_cannot_be_verified_is_an_error(tmp_path, monkeypatch, capsys):
    # a zoo release with no sha256 and no arch in vsr (every shipped family has an arch now)
    zoo = tmp_path / "zoo.yml"
    zoo.write_text(
        "protocols: {}\n"
        "families:\n"
        "  Future:\n"
        "    title: a family vsr has no arch for\n"
        "    note: none\n"
        "    releases:\n"
        "      - {file: future.pth, sources: [{repo: a/b, path: future.pth}], sha256: null,\n"
        "         keys: w, arch: null, params: null, configs: [], published: [], ours: []}\n")
    monkeypatch.setattr("vsr.cli.weights.load_zoo", lambda: load_zoo(zoo))
    torch.save({"w": torch.zeros(1)}, tmp_path / "future.pth")
    assert main(["weights", "verify", str(tmp_path / "future.pth")]) == 2
    assert _error(capsys).endswith("nothing could be verified: the zoo knows no sha256 for "
                                   "future.pth and vsr has no Future arch")
    torch.save({"w": torch.zeros(1)}, tmp_path / "mine.pth")
    assert main(["weights", "verify", str(tmp_path / "mine.pth")]) == 2
    assert _error(capsys) == ("error: mine.pth is not a release of the model zoo "
                              "(pretrained/README.md); name its entry with --model, or check "
                              "its keys with --arch SPEC")
    assert main(["weights", "verify", str(tmp_path / "mine.pth"), "--model", "RRN-4L"]) == 2
    assert "--model 'RRN-4L': not a release of the model zoo" in _error(capsys)


def test_a_missing_weights_file_points_to_the_zoo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # paths as the user types them
    write_image(tmp_path / "lr" / "0000.png", np.zeros((8, 8, 3), np.uint8))
    infer = ["infer", "-i", "lr", "-o", "out", "--weights"]
    assert main([*infer, "pretrained/RRN-10L.pth", "--arch", "{type: RRN, num_blocks: 10}"]) == 2
    assert _error(capsys) == (
        "error: weights pretrained/RRN-10L.pth not found: RRN-10L.pth is the RRN release, not "
        "shipped with vsr; get it from junpan19/RRN `RRN/model/RRN-10L.pth` or UMass-LIDS/focas "
        "`pretrained/RRN-10L.pth` (see pretrained/README.md, the model zoo), put it at "
        "pretrained/RRN-10L.pth and check it with `vsr weights verify pretrained/RRN-10L.pth`")
    assert main([*infer, "mine.pth", "--arch", "{type: ELSR, scale: 4}"]) == 2
    assert _error(capsys) == "error: weights mine.pth not found"  # not a zoo name: no hint
    assert main(["weights", "verify", "pretrained/RRN-10L.pth"]) == 2
    assert _error(capsys).startswith("error: weights pretrained/RRN-10L.pth not found: RRN-10L")
    assert not (tmp_path / "out").exists()
