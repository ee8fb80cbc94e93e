"""Habits from BasicSR and mmagic get a hint, abbreviations are refused, help cites what users
have (no MODELS.md) and states one size convention."""

from __future__ import annotations

from pathlib import Path

import pytest

from vsr.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "configs" / "bicubic" / "bicubic_x4_vid4_bi.yaml")


def _error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def test_basicsr_opt_gets_the_spelling_to_use(capsys):
    err = _error(capsys, ["train", "-opt", CONFIG])
    assert ("the config is given with -c/--config here (BasicSR's -opt): "
            f"vsr train -c {CONFIG}") in err


def test_mmagic_positional_config_gets_the_spelling_to_use(capsys):
    err = _error(capsys, ["test", CONFIG])
    assert f"(not as a positional argument, as in mmagic): vsr test -c {CONFIG}" in err


def test_abbreviated_flags_are_refused(capsys, tmp_path):
    err = _error(capsys, ["test", "-c", CONFIG, "--resum"])
    assert "unrecognized arguments: --resum" in err
    err = _error(capsys, ["infer", "--arch", "Bicubic", "-i", "x", "-o", "y", "--max-fr", "2"])
    assert "unrecognized arguments: --max-fr" in err


def _helps() -> dict[str, str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "train" in a.choices)
    return {name: p.format_help() for name, p in sub.choices.items()} | {
        "vsr": parser.format_help()}


def test_help_cites_no_file_users_lack_and_sizes_are_height_first():
    helps = _helps()
    assert not [name for name, text in helps.items() if "MODELS.md" in text]
    for name in ("infer", "allocate"):
        assert "HEIGHTxWIDTH" in " ".join(helps[name].split())
    assert "--tile HxW" in helps["infer"] and "--resolution HxW" in helps["allocate"]
    shipped = [p for p in (ROOT / "configs").rglob("*.yaml") if "MODELS.md" in p.read_text()]
    assert shipped == []
