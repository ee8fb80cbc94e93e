"""Named scoring protocols are the configs/_base_ fragments the test configs inherit: the same
metric specs, averaging and GT reflect pad, and each fragment is a valid test section."""

from pathlib import Path

import pytest

from vsr.config.experiment import load_experiment, validate_experiment
from vsr.config.loader import ConfigError, load_config
from vsr.metrics.named_protocols import PROTOCOLS, load_protocol, protocol_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name, config", [
    ("rrn", "bicubic/bicubic_x4_vid4_bd_rrn.yaml"),
    ("basicvsr", "bicubic/bicubic_x4_vid4_bi.yaml"),
    ("tecogan", "bicubic/bicubic_x4_vid4_bd_tecogan.yaml"),
])
def test_a_named_protocol_is_what_its_test_config_scores_with(name, config):
    cfg = load_experiment(ROOT / "configs" / config, check_paths=False)
    protocol = load_protocol(name)
    assert protocol.metrics == cfg.test.metrics
    assert protocol.averaging.mode == cfg.test.averaging
    assert protocol.gt_reflect_pad == cfg.test.datasets["Vid4"].get("gt_reflect_pad", 0)
    assert protocol.dataset == "Vid4"


def test_protocol_objects_describe_the_published_conventions():
    describe = {n: {m: metric.protocol.describe() for m, metric in
                    load_protocol(n).build_metrics().items()} for n in PROTOCOLS}
    assert describe["rrn"]["PSNR"] == "Y(matlab), crop 8 px, all frames, float"
    assert load_protocol("rrn").gt_reflect_pad == 8
    assert describe["basicvsr"]["SSIM"] == "Y(matlab), no crop, all frames, float"
    assert describe["tecogan"]["PSNR"] == ("Y(duf), crop_8x8 (centred, multiple of 32, >= 8 px "
                                           "each side), frames skip first 2, last 2, uint8")
    assert set(describe["tecogan"]) == {"PSNR", "SSIM", "tOF"}
    assert describe["reds4-rgb"]["PSNR"] == "RGB, no crop, all frames, uint8"
    assert load_protocol("reds4-rgb").dataset == "REDS4"


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_every_fragment_is_a_valid_test_section(name):
    raw, prov = load_config(protocol_file(name))
    model = {"type": "SupervisedVSR", "arch": {"type": "Bicubic", "scale": 4}}
    cfg = validate_experiment({**raw, "name": "x", "model": model}, prov, check_paths=False)
    assert list(cfg.test.metrics) == list(load_protocol(name).metrics)


def test_overrides_and_bad_keys_are_named():
    assert load_protocol("tecogan", overrides=["test.averaging=frame"]).averaging.mode == "frame"
    with pytest.raises(ConfigError, match="'test.averaging'"):
        load_protocol("rrn", overrides=["test.averaging=median"])
    with pytest.raises(ConfigError, match=r"'test.metrics.PSNR.crop_boarder': unknown key"):
        load_protocol("rrn", overrides=["test.metrics.PSNR.crop_boarder=4"])
    with pytest.raises(ConfigError, match="unknown protocol; expected one of rrn, basicvsr"):
        load_protocol("vrt")
