# Sourced by the other scripts: the repository root and the project's virtualenv, activated.
#   FERRO_VENV    the virtualenv (default: .venv in the repository root; a relative path is taken from the root)
#   FERRO_SHARED  the shared data folder (default: ../shared beside the repository root)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FERRO_VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac
SHARED="${FERRO_SHARED:-$ROOT/../shared}"
[ -d "$SHARED" ] && SHARED="$(cd "$SHARED" && pwd)"
PY="$VENV/bin/python"

# What `source bin/activate` does, without depending on the shell's prompt machinery.
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
# maturin refuses to choose when a conda environment is active as well
unset CONDA_PREFIX
# pyo3's build script (clippy, maturin) must see the venv's interpreter, not whatever python3 is first on PATH
export PYO3_PYTHON="$PY"
# cargo from rustup may not be on PATH in non-login shells (CI)
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
cd "$ROOT"
