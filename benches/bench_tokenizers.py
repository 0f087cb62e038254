"""Tokenizer throughput beside the peers, with a markdown table for the README.

Runs the shared yardstick ``../shared/tools/bench_tokenizers.py`` with the current interpreter, passing
every argument through (``--tokenizers``, ``--threads``, ``--modes``, ``--corpus``, ``--json``, ...; see
``--help`` of that tool), streams its output, then prints one markdown table: ours in MB/s and, per peer,
the peer's MB/s with ours/peer in parentheses.

``--rounds N`` runs the whole tool N times and the table gives medians: of each MB/s, and of each round's
ours/peer ratio (a round measures every implementation within minutes, so its ratio is steadier than the
MB/s on a machine whose speed drifts from minute to minute).

    bash scripts/setup.sh                                    # release build of ferroformers._core
    python benches/bench_tokenizers.py                       # en corpus, gpt2 + bert-uncased, 1 and 2 threads
    python benches/bench_tokenizers.py --tokenizers gpt2 --threads 1 --json gpt2.json
    python benches/bench_tokenizers.py --rounds 3 --modes ids,call --repeat 3

The shared folder is ``$FERRO_SHARED`` or ``../shared`` beside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FERRO_SHARED") or REPO_ROOT.parent / "shared")
TOOL = SHARED / "tools" / "bench_tokenizers.py"

ROW_KEYS = ("tokenizer", "threads", "mode")
PEER_NAMES = {"hf": "HF", "tiktoken": "tiktoken", "gigatoken": "gigatoken", "fastokens": "fastokens", "tokie": "tokie"}


def markdown_table(rows: list[dict], ours: str, ratios: dict | None = None) -> str:
    """One line per tokenizer/path/threads: ours MB/s, then each peer's MB/s and ours/peer.

    ``ratios`` maps (row index, peer) to the ours/peer figure to print instead of dividing the row's MB/s
    (the median of the rounds' ratios).
    """
    peers: list[str] = []
    for row in rows:
        for key in row:
            if key in ROW_KEYS or key == ours or key.startswith("ours_over_") or key in peers:
                continue
            if any(isinstance(r.get(key), (int, float)) for r in rows):  # skip peers that measured nothing
                peers.append(key)
    header = ["tokenizer", "path", "threads", "ours MB/s"] + [f"{PEER_NAMES.get(p, p)} MB/s (ours/peer)" for p in peers]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for i, row in enumerate(rows):
        mine = row.get(ours)
        cells = [row["tokenizer"], row["mode"], str(row["threads"]), f"{mine:.1f}" if mine else "n/a"]
        for peer in peers:
            theirs = row.get(peer)
            if not isinstance(theirs, (int, float)):
                cells.append("")
            elif mine:
                ratio = (ratios or {}).get((i, peer), mine / theirs)
                cells.append(f"{theirs:.1f} ({ratio:.2f}x)")
            else:
                cells.append(f"{theirs:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def median_rows(rounds: list[list[dict]], ours: str) -> tuple[list[dict], dict]:
    """The rows of several rounds as one: each MB/s the median of the rounds that measured it, and per
    peer the median of the rounds' ours/peer ratios."""
    merged: list[dict] = []
    ratios: dict = {}
    for i, row in enumerate(rounds[0]):
        key = tuple(row[k] for k in ROW_KEYS)
        same = [r for rows in rounds for r in rows if tuple(r[k] for k in ROW_KEYS) == key]
        out = {k: row[k] for k in ROW_KEYS}
        for name in row:
            if name in ROW_KEYS or name.startswith("ours_over_"):
                continue
            values = [r[name] for r in same if isinstance(r.get(name), (int, float))]
            out[name] = statistics.median(values) if values else None
            pairs = [(r[ours], r[name]) for r in same if r.get(ours) and isinstance(r.get(name), (int, float))]
            if name != ours and pairs:
                ratios[(i, name)] = statistics.median(m / t for m, t in pairs)
        merged.append(out)
    return merged, ratios


def run_tool(args: list[str], json_path: str) -> list[dict] | None:
    """One run of the shared tool, its output streamed; its rows, or None if it failed."""
    command = [sys.executable, str(TOOL), *args, "--json", json_path]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:  # stream: a full run takes minutes
        print(line, end="", flush=True)
    if proc.wait() != 0:
        print(f"benchmark tool failed with exit status {proc.returncode}")
        return None
    with open(json_path, encoding="utf-8") as f:
        return json.load(f)


def main() -> int:
    # Only the options this wrapper needs are read here; everything else goes through to the tool unchanged.
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--impl", default="ferroformers")
    parser.add_argument("--json", default="")
    parser.add_argument("--rounds", type=int, default=1)
    known, args = parser.parse_known_args()
    if not TOOL.is_file():
        print(f"benchmark tool not found at {TOOL}: put the shared folder beside the repository or set FERRO_SHARED")
        return 1
    if any(a in ("-h", "--help") for a in args):
        print("benches/bench_tokenizers.py adds: --rounds N (run the tool N times; medians in the table)\n")
        return subprocess.call([sys.executable, str(TOOL), "--help"])
    if known.rounds < 1:
        print(f"--rounds must be at least 1, got {known.rounds}")
        return 2
    if known.impl != "ferroformers":
        args += ["--impl", known.impl]

    rounds: list[list[dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(known.rounds):
            if known.rounds > 1:
                print(f"round {r + 1} of {known.rounds}", flush=True)
            rows = run_tool(args, os.path.join(tmp, f"round{r}.json"))
            if rows is None:
                return 1
            rounds.append(rows)
    rows, ratios = median_rows(rounds, known.impl) if len(rounds) > 1 else (rounds[0], {})
    if known.json:
        with open(known.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    print()
    if len(rounds) > 1:
        print(f"medians of {len(rounds)} rounds (MB/s, and each round's ours/peer)")
    print(markdown_table(rows, known.impl, ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
