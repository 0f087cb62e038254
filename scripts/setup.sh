#!/usr/bin/env bash
# Create or update the project's virtualenv: Python >= 3.9, torch, the package's dependencies with the
# `test` extra (or $FERRO_EXTRAS), and the Rust extension ferroformers._core built in release mode (editable install).
#
# Idempotent and quick when nothing changed:
#   - the venv is created only when $FERRO_VENV/bin/python is missing;
#   - pip is upgraded only when older than 23, maturin installed only when missing;
#   - torch is installed only when not already installed at a version pyproject.toml accepts;
#   - dependencies are (re)installed only when pyproject.toml changed or the venv was last installed from
#     another checkout (a hash stamp in the venv);
#   - the extension is rebuilt whenever any file under rust/, Cargo.toml, Cargo.lock or pyproject.toml
#     changed (a second hash stamp); cargo's incremental build recompiles only what changed.
# FERRO_REBUILD=1 forces the dependency step and the rebuild. FERRO_EXTRAS picks the optional
# dependency groups of pyproject.toml (default: test; FERRO_EXTRAS=test,bench adds the benchmark peers).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
started=$SECONDS
STAMPS="$VENV/.ferroformers-setup"
pip_install() {
  local quiet=()
  [ -t 1 ] || quiet=(--progress-bar off)  # no progress bars in CI logs
  "$PY" -m pip --disable-pip-version-check install "${quiet[@]}" "$@"
}

# pyproject_requirement NAME: the requirement string pyproject.toml gives for NAME
# (build-system.requires for maturin, project.dependencies otherwise)
pyproject_requirement() {
  "$PY" - "$1" <<'PYEOF'
import re, sys
try:
    import tomllib
except ImportError:  # Python < 3.11: pip vendors a TOML reader
    from pip._vendor import tomli as tomllib
with open("pyproject.toml", "rb") as f:
    meta = tomllib.load(f)
reqs = meta["build-system"]["requires"] + meta["project"]["dependencies"]
name = sys.argv[1]
print(next(r for r in reqs if re.match(rf"{re.escape(name)}\b", r)))
PYEOF
}

# satisfied REQUIREMENT: true when an installed distribution meets REQUIREMENT (no import of the package)
satisfied() {
  "$PY" - "$1" <<'PYEOF'
import sys
from importlib.metadata import PackageNotFoundError, version
from pip._vendor.packaging.requirements import Requirement
req = Requirement(sys.argv[1])
try:
    ok = req.specifier.contains(version(req.name), prereleases=True)
except PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PYEOF
}

# --- 1. the virtualenv
if [ ! -x "$PY" ]; then
  base="${FERRO_PYTHON:-python3}"
  command -v "$base" >/dev/null || die "no $base on PATH: install Python >= 3.9 (or set FERRO_PYTHON)"
  "$base" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || die "$base is $("$base" -V 2>&1); ferroformers needs >= 3.9"
  say "creating virtualenv $VENV with $("$base" -V 2>&1)"
  "$base" -m venv "$VENV" || die "'$base -m venv' failed (Debian/Ubuntu: apt-get install python3-venv)"
else
  say "virtualenv $VENV ($("$PY" -V 2>&1))"
fi
"$PY" -m pip --version >/dev/null 2>&1 || { say "bootstrapping pip"; "$PY" -m ensurepip --upgrade; }
if ! "$PY" -c 'import pip, sys; sys.exit(int(pip.__version__.split(".")[0]) < 23)'; then
  say "upgrading pip"
  pip_install --upgrade pip
fi

# --- 2. torch: a multi-gigabyte download, installed once per venv
torch_req=$(pyproject_requirement torch)
if satisfied "$torch_req"; then
  say "torch already installed ($("$PY" -c 'from importlib.metadata import version; print(version("torch"))'))"
else
  say "installing '$torch_req' from PyPI (large download, done once per venv)"
  pip_install "$torch_req"
fi

# --- 3. build tools
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
maturin_req=$(pyproject_requirement maturin)
if [ -x "$VENV/bin/maturin" ] && satisfied "$maturin_req"; then
  say "maturin $("$VENV/bin/maturin" --version | cut -d' ' -f2)"
else
  say "installing '$maturin_req'"
  pip_install "$maturin_req"
fi

# --- 4. dependencies, the editable install, the Rust extension
# Two stamps in the venv. `install`: this checkout's path, Python and pyproject.toml; on a change, pip
# installs the dependencies and maturin (re)writes the editable install pointing at this checkout.
# `build`: every file cargo reads; on a change, maturin rebuilds the extension and copies it into
# python/ferroformers/ (the editable install picks it up from there).
mkdir -p "$STAMPS"
extras="${FERRO_EXTRAS:-test}"
install_key=$( { echo "$ROOT $extras"; "$PY" -V; sha256sum pyproject.toml; } | sha256sum | cut -d' ' -f1)
build_key=$( {
  echo "$ROOT"
  "$PY" -V
  rustc -V
  find Cargo.toml Cargo.lock pyproject.toml rust -type f -not -path '*/target/*' -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -d' ' -f1)
stamp_is() { [ "${FERRO_REBUILD:-0}" != 1 ] && [ "$(cat "$STAMPS/$1" 2>/dev/null)" = "$2" ]; }
importable() { "$PY" -c 'import ferroformers._core' >/dev/null 2>&1; }
# Where the venv's ferroformers comes from: a `maturin develop` run by hand in another checkout repoints
# the editable install without touching the stamps, so the install stamp alone can be stale.
installed_from() { "$PY" -c 'import os, ferroformers as f; print(os.path.realpath(f.__path__[0]))' 2>/dev/null; }
full_install() {
  say "installing dependencies (extras: $extras), ferroformers (editable) and building ferroformers._core (release)"
  rm -f "$STAMPS/install" "$STAMPS/build"
  maturin develop --release --extras "$extras"
  echo "$install_key" > "$STAMPS/install"
  echo "$build_key" > "$STAMPS/build"
}

if ! stamp_is install "$install_key"; then
  full_install
elif [ "$(installed_from)" != "$(realpath "$ROOT/python/ferroformers")" ]; then
  say "the venv's ferroformers comes from $(installed_from || echo nowhere), not this checkout: reinstalling"
  full_install
elif ! stamp_is build "$build_key"; then
  say "building ferroformers._core (release; cargo recompiles only what changed)"
  rm -f "$STAMPS/build"
  maturin develop --release --skip-install
  echo "$build_key" > "$STAMPS/build"
else
  say "dependencies and ferroformers._core up to date (pyproject.toml and rust/ unchanged)"
fi
if ! importable; then  # e.g. the package was uninstalled by hand since the stamps were written
  say "ferroformers._core is not importable from $VENV: reinstalling"
  full_install
  importable || die "ferroformers._core still not importable; run: $PY -c 'import ferroformers._core'"
fi
say "done in $((SECONDS - started))s: $("$PY" -c 'import ferroformers as f; print("ferroformers", getattr(f, "__version__", "?"), "from", f.__path__[0])')"
