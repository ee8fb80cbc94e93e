"""The model zoo (``pretrained/zoo.yml``): the released weight files vsr knows, per model family,
with where to get them, their sha256 when known, the arch they load into, the configs that run
them and their published (and our measured) scores.

One file serves three readers: ``scripts/zoo_tables.py`` writes pretrained/README.md's tables
from it, ``vsr weights verify`` checks a downloaded file against its entry, and a missing
``--weights`` file whose name is an entry says where to get it. The file is read with
``yaml.safe_load`` and checked key by key: an error names the file and the dotted key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vsr.config.loader import ConfigError, one_line

ZOO_FILE = Path(__file__).resolve().parents[2] / "pretrained" / "zoo.yml"
ZOO_README = "pretrained/README.md"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Source:
    """Where a release file is published: a path in a repository, or a release of it."""

    repo: str
    path: str | None = None
    release: str | None = None

    def text(self) -> str:
        if self.release:
            return f"{self.repo} release {self.release}"
        return f"{self.repo} `{self.path}`"


@dataclass(frozen=True)
class Score:
    """A score of one release on one dataset: published (``reference``) or measured here
    (``config`` and ``measured``)."""

    dataset: str
    protocol: str
    psnr: float | None
    ssim: float | None
    other: dict[str, float] = field(default_factory=dict)
    reference: str | None = None
    config: str | None = None
    measured: str | None = None

    def text(self) -> str:
        """``27.69 / 0.8488`` (``–`` for a value not given)."""
        psnr = "–" if self.psnr is None else f"{self.psnr:.2f}"
        ssim = "–" if self.ssim is None else f"{self.ssim:.4f}"
        return f"{psnr} / {ssim}"


@dataclass(frozen=True)
class Release:
    family: str
    file: str
    sources: tuple[Source, ...]
    sha256: str | None
    keys: str
    arch: dict[str, Any] | None
    params: int | None
    configs: tuple[str, ...]
    published: tuple[Score, ...]
    ours: tuple[Score, ...]

    def where(self) -> str:
        """Where to get the file, in words."""
        return " or ".join(source.text() for source in self.sources)


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    note: str | None
    uses: tuple[str, ...]  # release files of other families this one runs unchanged
    releases: tuple[Release, ...]


@dataclass(frozen=True)
class Protocol:
    name: str
    text: str
    config: str | None  # our config (fragment) that scores the same way, or None


@dataclass(frozen=True)
class Zoo:
    path: Path
    protocols: dict[str, Protocol]
    families: tuple[Family, ...]

    def releases(self) -> list[Release]:
        return [release for family in self.families for release in family.releases]

    def release(self, file_name: str) -> Release | None:
        """The release whose file name is ``file_name`` (a path's name part), or None."""
        name = Path(file_name).name
        return next((r for r in self.releases() if r.file == name), None)

    def family(self, name: str) -> Family:
        for family in self.families:
            if family.name == name:
                return family
        raise ConfigError(f"{self.path}: no model family {name!r}; the zoo has "
                          f"{', '.join(f.name for f in self.families)}")

    def users(self, file_name: str) -> list[Family]:
        """The families that run ``file_name`` without having released it (FOCAS: RRN-10L)."""
        return [family for family in self.families if file_name in family.uses]


class _Reader:
    """Checks one YAML mapping against the keys it may have; errors name the dotted key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: '{key}': {problem}")

    def mapping(self, data: Any, key: str, required: tuple[str, ...],
                optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(data, dict):
            raise self.fail(key, f"expected a mapping, got {data!r}")
        for name in data:
            if name not in required + optional:
                raise self.fail(f"{key}.{name}" if key else str(name),
                                f"unknown key; expected one of {', '.join(required + optional)}")
        for name in required:
            if name not in data:
                raise self.fail(f"{key}.{name}" if key else name, "missing required key")
        return data

    def text(self, data: Any, key: str, nullable: bool = False) -> str | None:
        if data is None and nullable:
            return None
        if not isinstance(data, str) or not data.strip():
            raise self.fail(key, f"expected a non-empty string{' or null' if nullable else ''}, "
                                 f"got {data!r}")
        return data

    def number(self, data: Any, key: str) -> float | None:
        if data is None:
            return None
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise self.fail(key, f"expected a number or null, got {data!r}")
        return float(data)

    def items(self, data: Any, key: str) -> list:
        if not isinstance(data, list):
            raise self.fail(key, f"expected a list, got {data!r}")
        return data


def _score(r: _Reader, data: Any, key: str, protocols: dict, measured: bool) -> Score:
    extra = ("config", "measured") if measured else ("reference",)
    r.mapping(data, key, ("dataset", "protocol", "psnr", "ssim") + extra, ("other",))
    protocol = r.text(data["protocol"], f"{key}.protocol")
    if protocol not in protocols:
        raise r.fail(f"{key}.protocol", f"unknown protocol {protocol!r}; 'protocols' has "
                                        f"{', '.join(sorted(protocols))}")
    other = data.get("other") or {}
    if not isinstance(other, dict):
        raise r.fail(f"{key}.other", f"expected a mapping of names to numbers, got {other!r}")
    for name, value in other.items():
        if r.number(value, f"{key}.other.{name}") is None:
            raise r.fail(f"{key}.other.{name}", "expected a number, got null")
    return Score(dataset=str(r.text(data["dataset"], f"{key}.dataset")), protocol=protocol,
                 psnr=r.number(data["psnr"], f"{key}.psnr"),
                 ssim=r.number(data["ssim"], f"{key}.ssim"),
                 other={str(k): float(v) for k, v in other.items()},
                 reference=data.get("reference") and r.text(data["reference"], f"{key}.reference"),
                 config=data.get("config") and r.text(data["config"], f"{key}.config"),
                 measured=data.get("measured") and r.text(data["measured"], f"{key}.measured"))


def _source(r: _Reader, data: Any, key: str) -> Source:
    r.mapping(data, key, ("repo",), ("path", "release"))
    repo = r.text(data["repo"], f"{key}.repo")
    path = r.text(data.get("path"), f"{key}.path", nullable=True)
    release = r.text(data.get("release"), f"{key}.release", nullable=True)
    if (path is None) == (release is None):
        raise r.fail(key, "expected exactly one of 'path' (in the repository) or 'release'")
    return Source(repo=repo, path=path, release=release)


def _release(r: _Reader, data: Any, key: str, family: str, protocols: dict) -> Release:
    r.mapping(data, key, ("file", "sources", "sha256", "keys", "arch", "params", "configs",
                          "published", "ours"))
    file = r.text(data["file"], f"{key}.file")
    if Path(file).name != file:
        raise r.fail(f"{key}.file", f"expected a bare file name, got {file!r}")
    sources = tuple(_source(r, s, f"{key}.sources[{i}]")
                    for i, s in enumerate(r.items(data["sources"], f"{key}.sources")))
    if not sources:
        raise r.fail(f"{key}.sources", "expected at least one source")
    sha256 = data["sha256"]
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256.match(sha256)):
        raise r.fail(f"{key}.sha256", f"expected 64 lower-case hex digits or null, got {sha256!r}")
    arch = data["arch"]
    if arch is not None and not (isinstance(arch, dict) and isinstance(arch.get("type"), str)):
        raise r.fail(f"{key}.arch", f"expected an arch spec {{type: Name, ...}} or null, "
                                    f"got {arch!r}")
    params = data["params"]
    if params is not None and (isinstance(params, bool) or not isinstance(params, int)
                               or params < 1):
        raise r.fail(f"{key}.params", f"expected a parameter count > 0 or null, got {params!r}")
    configs = tuple(r.text(c, f"{key}.configs[{i}]")
                    for i, c in enumerate(r.items(data["configs"], f"{key}.configs")))
    published = tuple(_score(r, s, f"{key}.published[{i}]", protocols, measured=False)
                      for i, s in enumerate(r.items(data["published"], f"{key}.published")))
    ours = tuple(_score(r, s, f"{key}.ours[{i}]", protocols, measured=True)
                 for i, s in enumerate(r.items(data["ours"], f"{key}.ours")))
    return Release(family=family, file=file, sources=sources, sha256=sha256,
                   keys=str(r.text(data["keys"], f"{key}.keys")), arch=arch, params=params,
                   configs=configs, published=published, ours=ours)


def parse_zoo(data: Any, path: str | Path) -> Zoo:
    """The zoo in ``data`` (the parsed YAML), checked; ``path`` names it in errors and is the
    root (its parent's parent) that config paths are relative to."""
    path = Path(path)
    r = _Reader(path)
    r.mapping(data, "", ("protocols", "families"))
    protocols = {}
    if not isinstance(data["protocols"], dict):
        raise r.fail("protocols", f"expected a mapping of protocol names, got "
                                  f"{data['protocols']!r}")
    for name, spec in data["protocols"].items():
        key = f"protocols.{name}"
        r.mapping(spec, key, ("text", "config"))
        protocols[name] = Protocol(name=str(name), text=str(r.text(spec["text"], f"{key}.text")),
                                   config=r.text(spec["config"], f"{key}.config", nullable=True))
    if not isinstance(data["families"], dict) or not data["families"]:
        raise r.fail("families", f"expected a mapping of family names, got {data['families']!r}")
    families = []
    seen: dict[str, str] = {}
    for name, spec in data["families"].items():
        key = f"families.{name}"
        r.mapping(spec, key, ("title", "releases"), ("note", "uses"))
        releases = []
        for i, item in enumerate(r.items(spec["releases"], f"{key}.releases")):
            release = _release(r, item, f"{key}.releases[{i}]", str(name), protocols)
            if release.file in seen:
                raise r.fail(f"{key}.releases[{i}].file", f"{release.file} is already listed "
                                                          f"at {seen[release.file]}")
            seen[release.file] = f"{key}.releases[{i}]"
            releases.append(release)
        uses = tuple(r.text(u, f"{key}.uses[{i}]")
                     for i, u in enumerate(r.items(spec.get("uses") or [], f"{key}.uses")))
        families.append(Family(name=str(name), title=str(r.text(spec["title"], f"{key}.title")),
                               note=r.text(spec.get("note"), f"{key}.note", nullable=True),
                               uses=uses, releases=tuple(releases)))
    for family in families:
        for i, file in enumerate(family.uses):
            if file not in seen:
                raise r.fail(f"families.{family.name}.uses[{i}]",
                             f"{file} is not a release file of the zoo")
    return Zoo(path=path, protocols=protocols, families=tuple(families))


def load_zoo(path: str | Path = ZOO_FILE) -> Zoo:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"model zoo not found: {path}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {one_line(exc)}") from None
    return parse_zoo(data, path)


def missing_file_paths(zoo: Zoo) -> list[str]:
    """Config paths the zoo names (a release's configs, a score's config, a protocol's
    config) that do not exist, as ``key: path``; relative to the zoo's project root."""
    root = zoo.path.resolve().parents[1]
    named = [(f"protocols.{p.name}.config", p.config) for p in zoo.protocols.values()]
    for family in zoo.families:
        for i, release in enumerate(family.releases):
            key = f"families.{family.name}.releases[{i}]"
            named += [(f"{key}.configs[{j}]", c) for j, c in enumerate(release.configs)]
            named += [(f"{key}.ours[{j}].config", s.config) for j, s in enumerate(release.ours)]
    return [f"{key}: {path}" for key, path in named
            if path and not (root / path.split()[0]).is_file()]


def find_release(file_name: str, path: str | Path = ZOO_FILE) -> Release | None:
    """The zoo entry of a weights file by its name; None when the zoo has none or is absent
    (an installed copy of vsr without the repository's pretrained/ folder)."""
    if not Path(path).is_file():
        return None
    return load_zoo(path).release(file_name)


def missing_weights_message(path: str | Path, zoo_path: str | Path = ZOO_FILE) -> str:
    """What to say when a weights file does not exist: its path and, when its name is a
    release of the zoo, where to get it and where the zoo's tables are."""
    message = f"weights {path} not found"
    try:
        release = find_release(Path(path).name, zoo_path)
    except (ConfigError, OSError):  # a broken zoo must not hide the real error
        release = None
    if release is None:
        return message
    return (f"{message}: {release.file} is the {release.family} release, not shipped with vsr; "
            f"get it from {release.where()} (see {ZOO_README}, the model zoo), put it at {path} "
            f"and check it with `vsr weights verify {path}`")
