#!/usr/bin/env bash
# Every check the project has, in the order CI runs them (the README's test command):
#   set-up (scripts/setup.sh; espeak-ng from apt when missing), cargo fmt, clippy (warnings are errors),
#   the pure-Rust core's tests,
#   ruff lint + format, pytest on tests/python (slow tests included unless FERRO_SKIP_SLOW=1),
#   and token-for-token parity with the Hugging Face reference (../shared/tools/tokenizer_parity.py;
#   FERRO_FULL_PARITY=1 adds its whole-corpus run, --limit 0).
# Every step runs even after a failure, so that one report lists them all; the exit status is non-zero
# when any step failed. A failing set-up stops at once: nothing after it would mean anything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

say() { printf '[test] %s\n' "$*"; }
[ -d "$SHARED/tokenizers" ] || { say "ERROR: shared data not found at $SHARED (expected ../shared beside the repository, or set FERRO_SHARED)"; exit 1; }
started=$SECONDS
bash scripts/setup.sh || { say "FAILED: scripts/setup.sh"; exit 1; }

# A system tool the tests use: espeak-ng synthesizes the speech of the audio-classification tests.
if ! command -v espeak-ng >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing espeak-ng (Debian package) for the audio tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null; } \
      || { say "ERROR: apt-get could not install espeak-ng"; exit 1; }
  else
    say "ERROR: espeak-ng is missing (the audio tests synthesize speech with it): sudo apt-get install espeak-ng"
    exit 1
  fi
fi

failed=()
step() {  # step NAME COMMAND...: run, time and record one check
  local name=$1 t0=$SECONDS rc=0
  shift
  say "== $name: $*"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    say "ok: $name ($((SECONDS - t0))s)"
  else
    say "FAILED: $name (exit $rc, $((SECONDS - t0))s)"
    failed+=("$name")
  fi
}

run_pytest() {
  local args=() rc=0
  [ "${FERRO_SKIP_SLOW:-0}" = 1 ] && args=(-m "not slow")
  python -m pytest "${args[@]}" || rc=$?
  # pytest exits 5 when it collected nothing: a suite that silently lost its tests is a failure
  [ "$rc" -eq 5 ] && say "pytest collected no tests (exit 5): is tests/python there, or did a -m filter drop everything?"
  return "$rc"
}

step "cargo fmt" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "cargo test (core)" cargo test -p ferroformers-core
step "ruff check" ruff check python tests benches
step "ruff format" ruff format --check python tests benches
step "pytest" run_pytest
# The shared yardstick, as the project's rules quote it: every shared tokenizer, both layers.
step "tokenizer parity" python "$SHARED/tools/tokenizer_parity.py"
# Every paragraph of every language, on request (about 11 minutes on 2 cores: more than the rest of
# the parity run is worth in every CI run; each issue that touches tokenization records its result).
if [ "${FERRO_FULL_PARITY:-0}" = 1 ]; then
  step "tokenizer parity (whole corpus)" python "$SHARED/tools/tokenizer_parity.py" --limit 0
fi

if [ "${#failed[@]}" -gt 0 ]; then
  say "FAILED ($((SECONDS - started))s): ${failed[*]}"
  exit 1
fi
say "all checks passed ($((SECONDS - started))s)"
