"""The package as installed and as shipped: the compiled module, the version, typing files, the abi3 wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import ferroformers

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO_ROOT / "python" / "ferroformers"


def pyproject_version() -> str:
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^\[project\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.MULTILINE | re.DOTALL)
    assert match, "no version in pyproject.toml's [project] table"
    return match.group(1)


def test_core_extension_imports():
    from ferroformers import _core

    assert Path(_core.__file__).name.startswith("_core.")
    assert Path(_core.__file__).suffix in (".so", ".pyd")


def test_version_matches_pyproject():
    assert ferroformers.__version__ == pyproject_version()
    assert metadata.version("ferroformers") == pyproject_version()


def test_installed_from_this_checkout():
    # the editable install of scripts/setup.sh: tests must exercise this tree, not a stale copy
    assert Path(ferroformers.__file__).resolve().parent == PACKAGE_DIR


@pytest.mark.parametrize("name", ["py.typed", "_core.pyi"])
def test_typing_files_present(name):
    assert (PACKAGE_DIR / name).is_file(), f"python/ferroformers/{name} is missing"


@pytest.mark.slow
def test_wheel_is_abi3_and_ships_typing_files(tmp_path):
    # The wheel's tag and files do not depend on the Cargo profile: the dev profile builds in about a
    # minute where a fresh fat-LTO release build takes several.
    maturin = shutil.which("maturin", path=str(Path(sys.executable).parent)) or shutil.which("maturin")
    assert maturin, "maturin is not installed (scripts/setup.sh installs it into the venv)"
    subprocess.run(
        [maturin, "build", "--profile", "dev", "--out", str(tmp_path), "--interpreter", sys.executable],
        cwd=REPO_ROOT,
        check=True,
    )
    wheels = list(tmp_path.glob("*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]
    assert re.fullmatch(rf"ferroformers-{re.escape(pyproject_version())}-cp39-abi3-[\w.]+\.whl", wheel.name), wheel.name
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("ferroformers/__init__.py", "ferroformers/py.typed", "ferroformers/_core.pyi"):
        assert expected in names, f"{expected} missing from {wheel.name}"
    assert any(re.fullmatch(r"ferroformers/_core\.abi3\.so", n) for n in names), sorted(names)
