"""pretrained/README.md's zoo tables are generated from pretrained/zoo.yml and kept in sync."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "zoo_tables.py"


def _module():
    spec = importlib.util.spec_from_file_location("zoo_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_in_sync_with_the_zoo(capsys):
    assert _module().main(["--check"]) == 0, capsys.readouterr().err
    readme = (ROOT / "pretrained" / "README.md").read_text()
    assert ("| `RRN-10L.pth` | Vid4 | `rrn_bd` | 27.69 / 0.8488 (calendar 24.58, city 28.51, "
            "foliage 26.95, walk 30.75)") in readme
    assert ("| `best_X4_model.pth` | andreacoppari/ELSR-torch `checkpoints/best_X4_model.pth` | "
            "`0e0dc5f8586956d6c433fb36ef623417beb7ed487182b40d6f70feead9ac371e` |") in readme


def test_check_fails_on_drift_and_a_rewrite_fixes_only_the_tables(tmp_path, capsys):
    zoo, readme = tmp_path / "zoo.yml", tmp_path / "README.md"
    shutil.copy(ROOT / "pretrained" / "zoo.yml", zoo)
    shutil.copy(ROOT / "pretrained" / "README.md", readme)
    text = zoo.read_text()
    assert text.count("psnr: 27.69, ssim: 0.8488") == 1
    zoo.write_text(text.replace("psnr: 27.69, ssim: 0.8488", "psnr: 27.70, ssim: 0.8488"))
    readme.write_text("My intro.\n\n" + readme.read_text() + "\nMy outro.\n")
    script = _module()
    args = ["--zoo", str(zoo), "--readme", str(readme)]
    assert script.main([*args, "--check"]) == 1
    assert "is out of sync with" in capsys.readouterr().err
    assert script.main(args) == 0
    written = readme.read_text()
    assert "| Vid4 | `rrn_bd` | 27.70 / 0.8488" in written and "27.69 / 0.8488" not in written
    assert written.startswith("My intro.\n") and written.endswith("\nMy outro.\n")
    assert script.main([*args, "--check"]) == 0


def test_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Weights\n")
    with pytest.raises(SystemExit, match="the markers .* are missing"):
        _module().main(["--readme", str(readme)])
