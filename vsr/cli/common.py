"""What several commands share: building the network a config names, with its weights."""

from __future__ import annotations

import sys

import torch
import yaml
from torch import nn

from vsr.config.loader import ConfigError, Provenance, config_from_data, one_line


def arch_config(text: str) -> tuple[dict, Provenance]:
    """The config ``--arch`` stands for. The text is parsed as one YAML value of its own (a name
    or a ``{type: ...}`` mapping), never spliced into config text, so it cannot set other keys."""
    try:
        arch = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--arch {text!r}: invalid YAML: {one_line(exc)}") from None
    if not isinstance(arch, (str, dict)):
        raise ConfigError(f"--arch {text!r}: expected an arch name or a mapping such as "
                          f"'{{type: ELSR, scale: 4}}'")
    return config_from_data({"name": "infer", "model": {"type": "SupervisedVSR", "arch": arch}},
                            "--arch")


def build_net(cfg, weights: str | None, device: torch.device) -> nn.Module:
    """The model's inference network with ``weights`` (or the config's), in eval mode."""
    from vsr.engine.checkpoint import load_weights
    from vsr.registry import MODELS

    net = MODELS.build(cfg.model).net
    path = weights or cfg.weights
    if path:
        load_weights(net, path)
    elif any(True for _ in net.parameters()):
        print(f"warning: {type(net).__name__} has parameters but no weights were given "
              f"(--weights or weights=...): running its initialisation", file=sys.stderr)
    return net.to(device).eval()
