"""Partial weight loading (x2 -> x4 heads) and multi-stage recipes: stage 2 starts from stage
1's weights, a rerun skips finished stages and resumes an interrupted one."""

import pytest
import torch
import yaml

from vsr.archs.elsr import ELSR
from vsr.cli.main import main
from vsr.config.loader import ConfigError
from vsr.config.recipe import load_recipe
from vsr.data.synthetic import make_motion_clips
from vsr.engine import checkpoint as ckpt
from vsr.engine.stages import run_stages, stage_configs
from vsr.errors import CheckpointError

HEAD = ("layer5.weight", "layer5.bias")


def test_x4_from_x2_weights_loads_all_but_the_head_and_reinitialises_it(tmp_path):
    torch.manual_seed(0)
    x2 = ELSR(scale=2)
    with torch.no_grad():
        for p in x2.parameters():
            p.add_(1.0)  # far from any initialisation
    torch.save(x2.state_dict(), tmp_path / "x2.pth")
    torch.manual_seed(1)
    x4 = ELSR(scale=4)
    init = {k: v.clone() for k, v in x4.state_dict().items()}

    report = ckpt.load_weights(x4, tmp_path / "x2.pth", strict=False)

    body = [k for k in x4.state_dict() if k not in HEAD]
    assert list(report.loaded) == body and len(body) == 7
    assert report.mismatched == (("layer5.bias", (12,), (48,)),
                                 ("layer5.weight", (12, 6, 3, 3), (48, 6, 3, 3)))
    assert report.missing == () and report.unexpected == ()
    for key in body:
        assert torch.equal(x4.state_dict()[key], x2.state_dict()[key]), key
    for key in HEAD:
        assert torch.equal(x4.state_dict()[key], init[key]), key
    lines = report.lines()
    assert "loaded 7 keys" in lines[0]
    assert lines[1].startswith("skipped (shape mismatch, kept at initialisation): layer5.bias "
                               "file (12,) vs model (48,)")
    with pytest.raises(ValueError, match=r"layer5.weight: file \(12, 6, 3, 3\) vs model"):
        ckpt.load_weights(ELSR(scale=4), tmp_path / "x2.pth")


def test_partial_load_reports_missing_and_unexpected_keys_and_refuses_no_overlap(tmp_path):
    state = ELSR(scale=4).state_dict()
    state["extra.weight"] = torch.zeros(2)
    del state["layer1.bias"]
    torch.save(state, tmp_path / "w.pth")
    report = ckpt.load_weights(ELSR(scale=4), tmp_path / "w.pth", strict=False)
    assert report.missing == ("layer1.bias",) and report.unexpected == ("extra.weight",)
    assert len(report.loaded) == 8 and not report.complete
    torch.save({"other.weight": torch.zeros(3)}, tmp_path / "none.pth")
    with pytest.raises(CheckpointError, match="share no key"):
        ckpt.load_weights(ELSR(scale=4), tmp_path / "none.pth", strict=False)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    make_motion_clips(root / "train", 2, 3, (32, 32), seed=0, split="train")
    make_motion_clips(root / "test", 1, 2, (32, 32), seed=1, split="test")
    return root


def _stage(tmp_path, clips, name: str, scale: int, loss: str) -> str:
    cfg = {
        "name": name, "output_root": str(tmp_path / "exp"), "device": "cpu",
        "model": {"type": "SupervisedVSR", "arch": {"type": "ELSR", "scale": scale},
                  "loss": {"type": loss}},
        "train": {
            "dataset": {"type": "GTVideoFolder", "gt_root": str(clips / "train"),
                        "degradation": {"type": "BI"}, "scale": scale, "num_frames": 1,
                        "gt_patch_size": 16},
            "batch_size": 2, "total_iters": 4, "log_every": 2, "val_every": 2,
            "optimizers": {"generator": {"lr": 1e-2}}, "ema": {"decay": 0.5},
            "checkpoint": {"every": 2, "keep_last": 1, "best_metric": "t/PSNR"},
        },
        "test": {"datasets": {"t": {"type": "VideoFolderTest", "gt_root": str(clips / "test"),
                                    "degradation": {"type": "BI"}, "scale": scale}},
                 "metrics": {"PSNR": {"type": "PSNR", "channel": "y"}}},
    }
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
    return f"{name}.yaml"


def _recipe(tmp_path, clips) -> str:
    recipe = {"stages": [{"config": _stage(tmp_path, clips, "s1", 2, "L1Loss")},
                         {"config": _stage(tmp_path, clips, "s2", 4, "MSELoss"),
                          "init": "best", "strict": False}]}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return str(path)


def test_two_stage_recipe_chains_weights_and_a_rerun_skips_finished_stages(
        tmp_path, clips, monkeypatch, capsys):
    loaded = {}
    original = ckpt.load_weights

    def spy(net, path, strict=True):
        report = original(net, path, strict)
        loaded.update({k: v.clone() for k, v in net.state_dict().items()})
        return report

    monkeypatch.setattr(ckpt, "load_weights", spy)
    recipe = _recipe(tmp_path, clips)
    assert main(["train", "-c", recipe]) == 0
    summary = yaml.safe_load(capsys.readouterr().out)["stages"]
    assert [(s["name"], s["status"]) for s in summary] == [("s1", "trained"), ("s2", "trained")]
    best1 = tmp_path / "exp" / "s1" / "checkpoints" / "best.pth"
    assert summary[0]["weights"] is None and summary[1]["weights"] == str(best1)
    assert set(summary[1]["validation"]["t"]) == {"PSNR"} and summary[1]["best"] is not None

    # stage 2 started from stage 1's best weights (EMA), its head re-initialised
    stage1 = ckpt.inference_state_dict(ckpt.read_checkpoint(best1))
    for key, value in loaded.items():
        if key in HEAD:
            assert value.shape[0] == 48 and stage1[key].shape[0] == 12
        else:
            assert torch.equal(value, stage1[key]), key
    log = (tmp_path / "exp" / "s2" / "train.log").read_text()
    assert "loaded 7 keys" in log and "skipped (shape mismatch" in log
    assert yaml.safe_load((tmp_path / "exp" / "s2" / "config.yaml").read_text())[
        "weights_strict"] is False

    # a rerun trains nothing: every stage is finished, scores come from the logs
    loaded.clear()
    s2_ckpt = tmp_path / "exp" / "s2" / "checkpoints" / "iter_00000004.pth"
    stamp = s2_ckpt.stat().st_mtime_ns
    assert main(["train", "-c", recipe]) == 0
    again = yaml.safe_load(capsys.readouterr().out)["stages"]
    assert [s["status"] for s in again] == ["skipped", "skipped"]
    assert again[1]["validation"] == summary[1]["validation"]
    assert not loaded and s2_ckpt.stat().st_mtime_ns == stamp


def test_an_interrupted_stage_is_resumed_and_the_chain_continues(tmp_path, clips):
    recipe, configs = load_recipe(_recipe(tmp_path, clips))
    cfgs = stage_configs(recipe, configs, ["train.checkpoint.keep_last=0"])
    messages = []
    run_stages(recipe, cfgs[:1], log=messages.append)
    s2 = tmp_path / "exp" / "s2" / "checkpoints"
    # stage 2 was killed after its first checkpoint: cut it back to iteration 2
    cut = stage_configs(recipe, configs, ["train.checkpoint.keep_last=0", "train.total_iters=2"])
    run_stages(recipe, cut, log=messages.append)
    assert [p.name for p in sorted(s2.iterdir())] == ["best.pth", "iter_00000002.pth"]
    results = run_stages(recipe, cfgs, log=messages.append)
    assert [r.status for r in results] == ["skipped", "resumed"]
    assert "resuming at iteration 2 of 4" in messages[-1]
    assert "resumed from" in (s2.parent / "train.log").read_text()
    assert (s2 / "iter_00000004.pth").is_file()


def test_recipe_errors_name_the_stage(tmp_path, clips):
    _stage(tmp_path, clips, "s1", 2, "L1Loss")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"stages": [{"config": "s1.yaml", "init": "best"}]}))
    with pytest.raises(ConfigError, match="stages.0.init"):
        load_recipe(bad)
    bad.write_text(yaml.safe_dump({"stages": [{"config": "s1.yaml"}, {"config": "s1.yaml"}]}))
    recipe, configs = load_recipe(bad)
    with pytest.raises(ConfigError, match="stages 1 and 2 would both train in"):
        stage_configs(recipe, configs, [])
    bad.write_text(yaml.safe_dump({"stages": [{"config": "s1.yaml"},
                                              {"config": "s1.yaml", "overrides": ["name=s2"]}]}))
    recipe, configs = load_recipe(bad)
    cfgs = stage_configs(recipe, configs, ["train.val_every=null"])
    with pytest.raises(CheckpointError, match="stage 2 starts from the best checkpoint of "
                                              "stage 1.*init: last"):
        run_stages(recipe, cfgs, log=lambda _: None)
    bad.write_text(yaml.safe_dump({"stages": [{"config": "missing.yaml"}]}))
    with pytest.raises(ConfigError, match="stages.0.config"):
        load_recipe(bad)
