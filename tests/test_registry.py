"""The registry: lazy, builds from specs, unknown names list close matches."""

import subprocess
import sys

import pytest

from vsr.registry import ARCHS, Registry, RegistryError


def test_build_and_close_matches():
    net = ARCHS.build({"type": "ELSR", "scale": 2})
    assert net.scale == 2
    with pytest.raises(RegistryError, match="unknown arch 'ELRS'; close matches: ELSR"):
        ARCHS.get("ELRS")


def test_duplicate_registration_fails():
    reg = Registry("thing", ())
    reg.register("A")(int)
    with pytest.raises(RegistryError, match="registered twice"):
        reg.register("A")(float)


def test_import_vsr_is_light_and_needs_no_torchvision():
    code = ("import sys, vsr, vsr.registry; "
            "heavy = [m for m in ('torch', 'cv2', 'av', 'torchvision') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_broken_optional_module_does_not_break_the_rest(tmp_path, monkeypatch):
    pkg = tmp_path / "plugpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    good = "from tests.test_registry import REG\nREG.register('Good')(dict)\n"
    (pkg / "good.py").write_text(good)
    (pkg / "broken.py").write_text("import a_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    global REG
    REG = Registry("plugin", ("plugpkg",))
    assert REG.get("Good") is dict
    with pytest.raises(RegistryError, match="plugpkg.broken"):
        REG.get("Missing")


REG: Registry


def test_every_module_of_the_package_imports():
    """A module that fails to import would silently drop its entries from the registry."""
    from vsr.registry import DATASETS, DEGRADATIONS, LOSSES, METRICS, MODELS

    for registry in (ARCHS, MODELS, DATASETS, LOSSES, METRICS, DEGRADATIONS):
        registry.names()
        assert registry._import_errors == {}, registry.kind
    assert {"RRN", "FOCAS", "ELSR", "Bicubic"} <= set(ARCHS.names())
