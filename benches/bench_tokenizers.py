"""Tokenizer throughput beside the peers, with a markdown table for the README.

Runs the shared yardstick ``../shared/tools/bench_tokenizers.py`` with the current interpreter, passing
every argument through (``--tokenizers``, ``--threads``, ``--modes``, ``--corpus``, ``--json``, ...; see
``--help`` of that tool), streams its output, then prints one markdown table: ours in MB/s and, per peer,
the peer's MB/s with ours/peer in parentheses.

    bash scripts/setup.sh                                    # release build of ferroformers._core
    python benches/bench_tokenizers.py                       # en corpus, gpt2 + bert-uncased, 1 and 2 threads
    python benches/bench_tokenizers.py --tokenizers gpt2 --threads 1 --json gpt2.json

The shared folder is ``$FERRO_SHARED`` or ``../shared`` beside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FERRO_SHARED") or REPO_ROOT.parent / "shared")
TOOL = SHARED / "tools" / "bench_tokenizers.py"

ROW_KEYS = ("tokenizer", "threads", "mode")
PEER_NAMES = {"hf": "HF", "tiktoken": "tiktoken", "gigatoken": "gigatoken", "fastokens": "fastokens", "tokie": "tokie"}


def markdown_table(rows: list[dict], ours: str) -> str:
    """One line per tokenizer/path/threads: ours MB/s, then each peer's MB/s and ours/peer."""
    peers: list[str] = []
    for row in rows:
        for key in row:
            if key in ROW_KEYS or key == ours or key.startswith("ours_over_") or key in peers:
                continue
            if any(isinstance(r.get(key), (int, float)) for r in rows):  # skip peers that measured nothing
                peers.append(key)
    header = ["tokenizer", "path", "threads", "ours MB/s"] + [f"{PEER_NAMES.get(p, p)} MB/s (ours/peer)" for p in peers]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        mine = row.get(ours)
        cells = [row["tokenizer"], row["mode"], str(row["threads"]), f"{mine:.1f}" if mine else "n/a"]
        for peer in peers:
            theirs = row.get(peer)
            if not isinstance(theirs, (int, float)):
                cells.append("")
            elif mine:
                cells.append(f"{theirs:.1f} ({mine / theirs:.2f}x)")
            else:
                cells.append(f"{theirs:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    # Only the two options this wrapper needs are read here; everything goes through to the tool unchanged.
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--impl", default="ferroformers")
    parser.add_argument("--json", default="")
    known, _ = parser.parse_known_args()
    if not TOOL.is_file():
        print(f"benchmark tool not found at {TOOL}: put the shared folder beside the repository or set FERRO_SHARED")
        return 1
    args = sys.argv[1:]
    if any(a in ("-h", "--help") for a in args):
        return subprocess.call([sys.executable, str(TOOL), *args])

    with tempfile.TemporaryDirectory() as tmp:
        json_path = known.json or os.path.join(tmp, "bench.json")
        if not known.json:
            args += ["--json", json_path]
        proc = subprocess.Popen([sys.executable, str(TOOL), *args], stdout=subprocess.PIPE, text=True, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:  # stream: a full run takes minutes
            print(line, end="", flush=True)
        if proc.wait() != 0:
            print(f"benchmark tool failed with exit status {proc.returncode}")
            return proc.returncode
        with open(json_path, encoding="utf-8") as f:
            rows = json.load(f)
    print()
    print(markdown_table(rows, known.impl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
