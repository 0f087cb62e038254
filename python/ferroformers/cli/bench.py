"""``ferroformers bench``: run the side-by-side benchmarks of ``benches/`` and print their ratio tables.

Each benchmark is a script in the repository's ``benches/`` folder that measures ferroformers and its
peer (Hugging Face tokenizers/transformers, tiktoken, ...) in one process run and prints a markdown table
of figures and ratios. This command runs the chosen ones one after the other with the current
interpreter, streams what they print, and ends with all their tables together.

    $ ferroformers bench --list
    $ ferroformers bench --quick                       # every benchmark, reduced sizes (minutes, not an hour)
    $ ferroformers bench --only tokenizers --only pipelines

The benchmarks are not part of the installed wheel: run this from a clone of the repository (an editable
install finds it by itself), or point ``--benches`` at its ``benches/`` folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import CliError

# name -> (script, what it measures, arguments of the reduced --quick run)
BENCHMARKS: dict[str, tuple[str, str, list[str]]] = {
    "tokenizers": (
        "bench_tokenizers.py",
        "tokenizer MB/s beside HF tokenizers, transformers, tiktoken and the fastest published peers",
        ["--tokenizers", "gpt2,bert-uncased", "--threads", "1", "--repeat", "1"],
    ),
    "tokenizer-pathological": (
        "bench_tokenizer_pathological.py",
        "MB/s on pathological inputs (long runs, no spaces, one emoji) relative to real text, beside HF tokenizers",
        ["--repeat", "1"],
    ),
    "cli-tokenize": (
        "bench_cli_tokenize.py",
        "`ferroformers tokenize` MB/s beside the library's own batch path",
        ["--quick"],
    ),
    "models": (
        "bench_models.py",
        "forward latency of GPT-2 124M and BERT-base beside transformers",
        ["--runs", "1", "--batch", "2", "--seq", "64"],
    ),
    "generate": ("bench_generate.py", "generate() tokens/s beside transformers (greedy, top-p)", ["--quick"]),
    "pipelines": (
        "bench_pipelines.py",
        "text-classification pipeline texts/s beside transformers (MiniLM + head)",
        ["--texts", "200", "--runs", "1"],
    ),
    "vision-audio": (
        "bench_vision_audio.py",
        "image-classification, image-segmentation and audio-classification pipelines beside transformers",
        ["--images", "4", "--clips", "4", "--runs", "1"],
    ),
    "trainer": (
        "bench_trainer.py",
        "Trainer samples/s beside transformers' Trainer (MiniLM + head)",
        ["--texts", "160", "--steps", "8", "--runs", "1"],
    ),
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "bench",
        help="run the benchmarks and print their ratio tables",
        description="Run the side-by-side benchmarks of the repository's benches/ folder and print their "
        "tables. Benchmarks: " + "; ".join(f"{name}: {about}" for name, (_, about, _) in BENCHMARKS.items()),
    )
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run this benchmark (repeatable; default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="reduced sizes and one run each: a smoke run, not figures")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--benches", type=Path, help="the benches/ folder (default: found beside the package)")
    return parser


def find_benches(explicit: Path | None) -> Path:
    """``--benches``, else ``benches/`` in a parent of this package (editable install) or of the current directory."""
    if explicit is not None:
        if not (explicit / BENCHMARKS["tokenizers"][0]).is_file():
            raise CliError(f"{explicit} is not the repository's benches/ folder (no {BENCHMARKS['tokenizers'][0]})")
        return explicit.resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for parent in (start, *start.parents):
            candidate = parent / "benches"
            if (candidate / BENCHMARKS["tokenizers"][0]).is_file():
                return candidate
    raise CliError(
        "the benchmarks live in the repository's benches/ folder, which is not beside this installation: "
        "run from a clone of ferroformers or pass --benches PATH/TO/benches"
    )


def tables_of(output: str) -> str:
    """The markdown table lines (``| ... |``) of a benchmark's output, blocks separated by a blank line."""
    blocks: list[list[str]] = []
    previous_was_table = False
    for line in output.splitlines():
        is_table = line.startswith("|") and line.rstrip().endswith("|")
        if is_table:
            if not previous_was_table:
                blocks.append([])
            blocks[-1].append(line.rstrip())
        previous_was_table = is_table
    return "\n\n".join("\n".join(block) for block in blocks)


def run(args: argparse.Namespace) -> int:
    if args.list:
        for name, (script, about, _) in BENCHMARKS.items():
            print(f"{name:24s} {script:34s} {about}")
        return 0
    benches = find_benches(args.benches)
    chosen = args.only or list(BENCHMARKS)
    summaries: list[tuple[str, int, float, str]] = []
    for name in chosen:
        script, about, quick_args = BENCHMARKS[name]
        command = [sys.executable, str(benches / script), *(quick_args if args.quick else [])]
        print(f"\n== {name}: {about}\n$ {' '.join(command)}", flush=True)
        started = time.perf_counter()
        # Stream the benchmark's output as it comes (they run for minutes) and keep it for the tables.
        process = subprocess.Popen(
            command, cwd=benches.parent, stdout=subprocess.PIPE, text=True, env=dict(os.environ), bufsize=1
        )
        assert process.stdout is not None
        captured = []
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            captured.append(line)
        status = process.wait()
        summaries.append((name, status, time.perf_counter() - started, tables_of("".join(captured))))
    print("\n# Benchmark tables" + (" (--quick: reduced sizes, not figures to quote)" if args.quick else ""))
    failed = []
    for name, status, seconds, tables in summaries:
        print(f"\n## {name} ({seconds:.0f} s{'' if status == 0 else f', FAILED with exit status {status}'})\n")
        print(tables or "(no table printed)")
        if status != 0:
            failed.append(name)
    if failed:
        raise CliError(f"benchmark(s) failed: {', '.join(failed)} (their output is above)")
    return 0
