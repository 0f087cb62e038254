#!/usr/bin/env bash
# The README's first command: set up the virtualenv (scripts/setup.sh), then run the offline demo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
bash scripts/setup.sh
export FERRO_SHARED="$SHARED"
exec python -m ferroformers.demo "$@"
