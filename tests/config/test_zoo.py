"""The model zoo (pretrained/zoo.yml): what it lists, that its archs match the published
parameter counts, and that a malformed entry is refused with the dotted key named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from vsr.config.loader import ConfigError
from vsr.config.zoo import (
    ZOO_FILE,
    load_zoo,
    missing_file_paths,
    missing_weights_message,
    parse_zoo,
)
from vsr.registry import ARCHS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def zoo():
    return load_zoo()


@pytest.fixture
def raw():
    return yaml.safe_load(ZOO_FILE.read_text())


def test_zoo_lists_the_families_and_files_of_models_md(zoo):
    assert [f.name for f in zoo.families] == ["RRN", "FOCAS", "ELSR", "FRVSR", "TecoGAN", "RVRT",
                                             "VSRNet"]
    assert len(zoo.releases()) == 12
    rrn = zoo.release("pretrained/RRN-10L.pth")  # found by a path's file name
    assert (rrn.family, rrn.sha256) == ("RRN", None)
    vid4 = next(s for s in rrn.published if s.dataset == "Vid4")
    assert (vid4.psnr, vid4.ssim, vid4.protocol) == (27.69, 0.8488, "rrn_bd")
    assert zoo.protocols["rrn_bd"].config == "configs/_base_/vid4_bd_rrn.yaml"
    assert [f.name for f in zoo.users("RRN-10L.pth")] == ["FOCAS"]
    assert zoo.release("best_X4_model.pth").sha256 == (
        "0e0dc5f8586956d6c433fb36ef623417beb7ed487182b40d6f70feead9ac371e")
    assert zoo.release("best_X2_model.pth").sha256 == (
        "17cf4c408b05bdc3fe9d3ea7f5d4689104fb90666f7995fa48b6d2132f4b9063")
    assert zoo.release("003_RVRT_videosr_bd_Vimeo_14frames.pth").published[-1].psnr == 29.54
    assert zoo.release("nope.pth") is None
    assert missing_file_paths(zoo) == []  # every config the zoo names exists


def test_zoo_archs_have_the_parameter_counts_of_models_md(zoo):
    counts = {r.file: (sum(p.numel() for p in ARCHS.build(r.arch).parameters()), r.params)
              for r in zoo.releases() if r.arch is not None}
    assert counts == {"RRN-10L.pth": (3364400, 3364400), "RRN-5L.pth": (1888560, 1888560),
                      "RRN-3L.pth": (1298224, 1298224), "best_X4_model.pth": (3469, 3469),
                      "best_X2_model.pth": (1489, 1489),
                      **{f: (2589093, 2589093) for f in (
                          "FRVSR_BD_iter400000.pth", "FRVSR_BI_iter400000.pth",
                          "TecoGAN_4x_BD_Vimeo_iter500K.pth", "TecoGAN_4x_BD_REDS_iter500K.pth")},
                      **{f: (10782295, 10782295) for f in (
                          "001_RVRT_videosr_bi_REDS_30frames.pth",
                          "002_RVRT_videosr_bi_Vimeo_14frames.pth",
                          "003_RVRT_videosr_bd_Vimeo_14frames.pth")}}


def _set(data, dotted, value):
    *path, last = dotted
    for part in path:
        data = data[part]
    if value is KeyError:
        del data[last]
    else:
        data[last] = value


@pytest.mark.parametrize("where, value, message", [
    (("families", "ELSR", "releases", 0, "sha256"), "0e0dc5f8",
     r"'families\.ELSR\.releases\[0\]\.sha256': expected 64 lower-case hex digits or null, "
     r"got '0e0dc5f8'"),
    (("families", "RRN", "releases", 1, "shaa256"), None,
     r"'families\.RRN\.releases\[1\]\.shaa256': unknown key"),
    (("families", "RRN", "releases", 0, "keys"), KeyError,
     r"'families\.RRN\.releases\[0\]\.keys': missing required key"),
    (("families", "RRN", "releases", 0, "published", 0, "protocol"), "rrn_bx",
     r"'families\.RRN\.releases\[0\]\.published\[0\]\.protocol': unknown protocol 'rrn_bx'"),
    (("families", "RRN", "releases", 0, "published", 0, "psnr"), "27.69 dB",
     r"'families\.RRN\.releases\[0\]\.published\[0\]\.psnr': expected a number or null"),
    (("families", "ELSR", "releases", 1, "file"), "RRN-10L.pth",
     r"'families\.ELSR\.releases\[1\]\.file': RRN-10L\.pth is already listed at "
     r"families\.RRN\.releases\[0\]"),
    (("families", "FOCAS", "uses", 0), "RRN-11L.pth",
     r"'families\.FOCAS\.uses\[0\]': RRN-11L\.pth is not a release file of the zoo"),
    (("families", "RVRT", "releases", 0, "sources", 0, "path"), "x.pth",
     r"'families\.RVRT\.releases\[0\]\.sources\[0\]': expected exactly one of 'path'"),
    (("families", "RRN", "releases", 0, "arch"), {"num_blocks": 10},
     r"'families\.RRN\.releases\[0\]\.arch': expected an arch spec"),
])
def test_a_malformed_entry_names_the_file_and_key(raw, where, value, message):
    bad = copy.deepcopy(raw)
    _set(bad, where, value)
    with pytest.raises(ConfigError, match=r"zoo\.yml: " + message):
        parse_zoo(bad, ZOO_FILE)


def test_invalid_yaml_and_missing_config_paths(tmp_path, raw):
    broken = tmp_path / "pretrained" / "zoo.yml"
    broken.parent.mkdir()
    broken.write_text("families: {RRN: [\n")
    with pytest.raises(ConfigError, match=r"zoo\.yml: invalid YAML"):
        load_zoo(broken)
    raw["families"]["RRN"]["releases"][2]["configs"] = ["configs/rrn/rrn_4l.yaml"]
    moved = parse_zoo(raw, ROOT / "pretrained" / "zoo.yml")
    assert missing_file_paths(moved) == [
        "families.RRN.releases[2].configs[0]: configs/rrn/rrn_4l.yaml"]


def test_missing_weights_message(tmp_path):
    text = missing_weights_message("pretrained/RRN-3L.pth")
    assert text == ("weights pretrained/RRN-3L.pth not found: RRN-3L.pth is the RRN release, not "
                    "shipped with vsr; get it from UMass-LIDS/focas `pretrained/RRN-3L.pth` (see "
                    "pretrained/README.md, the model zoo), put it at pretrained/RRN-3L.pth and "
                    "check it with `vsr weights verify pretrained/RRN-3L.pth`")
    assert missing_weights_message("w/mine.pth") == "weights w/mine.pth not found"
    broken = tmp_path / "zoo.yml"
    broken.write_text("protocols: [\n")  # a broken zoo does not hide the missing file
    assert missing_weights_message("RRN-3L.pth", broken) == "weights RRN-3L.pth not found"
