"""``vsr weights verify FILE``: check a downloaded weights file against the model zoo.

The zoo entry (pretrained/zoo.yml) is found by the file's name, or given with ``--model``;
``--arch`` checks the layout against any arch instead. The sha256 is compared where the zoo
knows it (a mismatch names both hashes), and the keys are loaded into the arch strictly: missing,
unexpected and shape-mismatched keys are listed. Exit 0 when the file is right, 2 otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vsr.config.loader import ConfigError
from vsr.config.zoo import ZOO_README, Release, load_zoo, missing_weights_message
from vsr.engine.provenance import sha256_of
from vsr.errors import CheckpointError

_LISTED = 12  # keys listed per kind in the report: one screen


def register(sub) -> None:
    parser = sub.add_parser("weights", help="released weight files (the model zoo)")
    commands = parser.add_subparsers(dest="weights_command", required=True)
    verify = commands.add_parser(
        "verify", help="check a weights file's sha256 and key layout against its zoo entry",
        description=__doc__)
    verify.add_argument("file", help="the weights file")
    which = verify.add_mutually_exclusive_group()
    which.add_argument("--model", help="the zoo entry (release file name, e.g. RRN-10L.pth, or "
                                       "its stem), when FILE is named otherwise")
    which.add_argument("--arch", help="an arch spec to check the layout against instead, e.g. "
                                      "'{type: RRN, num_blocks: 5}' (no hash check)")
    verify.set_defaults(func=run)


def _entry(file: Path, model: str | None) -> Release | None:
    zoo = load_zoo()
    if model is None:
        return zoo.release(file.name)
    found = zoo.release(model) or next(
        (r for r in zoo.releases() if Path(r.file).stem == model), None)
    if found is None:
        raise ConfigError(f"--model {model!r}: not a release of the model zoo ({zoo.path}); "
                          f"it has {', '.join(r.file for r in zoo.releases())}")
    return found


def _arch_spec(text: str) -> dict:
    from vsr.cli.common import arch_config

    cfg, _ = arch_config(text)
    arch = cfg["model"]["arch"]
    return {"type": arch} if isinstance(arch, str) else dict(arch)


def _spec_text(spec: dict) -> str:
    kwargs = "".join(f", {k}: {v}" for k, v in spec.items() if k != "type")
    return f"{{type: {spec['type']}{kwargs}}}"


def _listed(keys) -> str:
    keys = list(keys)
    more = f" … ({len(keys) - _LISTED} more)" if len(keys) > _LISTED else ""
    return ", ".join(keys[:_LISTED]) + more


def check_layout(path: Path, spec: dict) -> list[str]:
    """Load the file's keys into the arch strictly; the report's lines, or a CheckpointError
    that lists every kind of key that does not fit."""
    from vsr.engine.checkpoint import inference_state_dict, read_checkpoint
    from vsr.io.weights import compare_state
    from vsr.registry import ARCHS

    net = ARCHS.build(spec)
    state = inference_state_dict(read_checkpoint(path))
    report = compare_state(net, state, path)
    params = sum(p.numel() for p in net.parameters())
    head = f"arch     {_spec_text(spec)}: {len(net.state_dict())} tensors, {params:,} parameters"
    if not report.complete:
        problems = []
        if report.missing:
            problems.append(f"missing keys ({len(report.missing)}): {_listed(report.missing)}")
        if report.unexpected:
            problems.append(f"unexpected keys ({len(report.unexpected)}): "
                            f"{_listed(report.unexpected)}")
        if report.mismatched:
            problems.append(f"shape mismatch ({len(report.mismatched)}): " + _listed(
                f"{k} file {list(f)} vs arch {list(a)}" for k, f, a in report.mismatched))
        raise CheckpointError(f"{path}: the keys do not fit {_spec_text(spec)}: "
                              + "; ".join(problems))
    net.load_state_dict(state)  # strict: the report said every key fits
    return [head, f"keys     all {len(report.loaded)} loaded strictly ({_listed(report.loaded)})"]


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise FileNotFoundError(missing_weights_message(path))
    release = None if args.arch else _entry(path, args.model)
    if release is None and not args.arch:
        raise ConfigError(f"{path.name} is not a release of the model zoo ({ZOO_README}); "
                          f"name its entry with --model, or check its keys with --arch SPEC")
    lines = [f"file     {path} ({path.stat().st_size:,} bytes)"]
    checked = []
    if release is not None:
        lines.append(f"entry    {release.family} {release.file}, from {release.where()}")
        actual = sha256_of(path)
        if release.sha256 is None:
            lines.append(f"sha256   {actual} (the zoo has none for {release.file}: not checked)")
        elif actual != release.sha256:
            raise CheckpointError(f"{path}: sha256 {actual} does not match the zoo's "
                                  f"{release.sha256} for {release.file}: a corrupt or different "
                                  f"download; get it again from {release.where()}")
        else:
            lines.append(f"sha256   {actual} matches the zoo")
            checked.append("sha256")
    spec = _arch_spec(args.arch) if args.arch else release.arch
    if spec is None:
        lines.append(f"arch     none in vsr for {release.family} yet: key layout not checked")
    else:
        lines += check_layout(path, spec)
        checked.append("key layout")
    if not checked:
        raise CheckpointError(f"{path}: nothing could be verified: the zoo knows no sha256 for "
                              f"{release.file} and vsr has no {release.family} arch")
    print("\n".join(lines))
    print(f"OK: {' and '.join(checked)} verified")
    return 0
