"""Every test run records the weights it used (path, sha256), the vsr commit, torch and the device,
and two sets of weights never share a results folder."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import torch
import yaml

from vsr.archs.elsr import ELSR
from vsr.cli.main import main
from vsr.engine.provenance import sha256_of, vsr_commit
from vsr.io.image import write_image

ROOT = Path(__file__).resolve().parents[2]


def _setup(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for i in range(2):
        write_image(tmp_path / "gt" / "clip" / f"{i:04d}.png",
                    rng.integers(0, 256, (16, 16, 3), np.uint8))
    for seed in (0, 1):
        torch.manual_seed(seed)
        torch.save(ELSR(scale=4).state_dict(), tmp_path / f"w{seed}.pth")
    cfg = {"name": "elsr", "output_root": str(tmp_path / "exp"),
           "model": {"type": "SupervisedVSR", "arch": {"type": "ELSR", "scale": 4}},
           "test": {"datasets": {"d": {"type": "VideoFolderTest", "gt_root": str(tmp_path / "gt"),
                                       "degradation": {"type": "BI"}, "scale": 4}},
                    "metrics": {"PSNR": {"type": "PSNR"}}}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_two_weights_files_get_two_folders_each_naming_its_file_and_hash(tmp_path):
    cfg = _setup(tmp_path)
    folders = []
    for seed in (0, 1):
        weights = tmp_path / f"w{seed}.pth"
        assert main(["test", "-c", str(cfg), "--weights", str(weights)]) == 0
        sha = hashlib.sha256(weights.read_bytes()).hexdigest()
        folder = tmp_path / "exp" / f"elsr-w{seed}-{sha[:8]}"
        folders.append(folder)
        result = json.loads((folder / "results" / "d.json").read_text())
        assert result["run"]["weights"] == {"path": str(weights.resolve()), "sha256": sha}
        assert result["run"]["torch"] == torch.__version__
        assert result["run"]["device"].startswith("cpu")
        assert result["run"]["precision"] == "fp32"
        assert f"sha256 {sha[:12]}" in (folder / "results" / "d.md").read_text()
        assert yaml.safe_load((folder / "config.yaml").read_text())["weights"] == str(weights)
        assert json.loads((folder / "run.json").read_text())["weights"]["sha256"] == sha
    scores = [json.loads((f / "results" / "d.json").read_text())["average"]["PSNR"]
              for f in folders]
    assert scores[0] != scores[1]  # different weights, different numbers, both kept


def test_name_flag_chooses_the_folder_and_must_be_plain(tmp_path, capsys):
    cfg = _setup(tmp_path)
    assert main(["test", "-c", str(cfg), "--weights", str(tmp_path / "w0.pth"),
                 "--name", "mine"]) == 0
    assert (tmp_path / "exp" / "mine" / "results" / "d.json").is_file()
    assert main(["test", "-c", str(cfg), "--name", "../up"]) == 2
    assert "--name '../up': expected a plain name" in capsys.readouterr().err
    assert not (tmp_path / "up").exists()


def test_commit_is_the_checkouts_head():
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    if head.returncode != 0:
        assert vsr_commit() is None
        return
    assert vsr_commit().removesuffix("+dirty") == head.stdout.strip()


def test_sha256_streams_the_file(tmp_path):
    data = bytes(range(256)) * 9000  # over one read block
    (tmp_path / "f").write_bytes(data)
    assert sha256_of(tmp_path / "f") == hashlib.sha256(data).hexdigest()
