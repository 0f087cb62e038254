"""``ferroformers pipeline TASK --model DIR_OR_ID``: a pipeline over JSON lines, stdin to stdout.

Each input line is one JSON value, given to the pipeline as it is: a string for most tasks (a file path for
the image and audio tasks), an object for question answering (``{"question": ..., "context": ...}``) or text
pairs (``{"text": ..., "text_pair": ...}``), a list of ``{"role", "content"}`` messages for a chat. With
``--text`` each line is taken as plain text instead. Each output line is the pipeline's result for that input,
in order, written as soon as it is known (lines are read lazily, so the command works on endless streams);
segmentation masks are written as rows of 0/255 pixels. ``--batch-size`` batches forward passes. Keyword
arguments of the task go in ``--arg NAME=VALUE`` (VALUE is read as JSON when it parses, else as a string).

    $ printf '"I love this"\\n"I hate this"\\n' | ferroformers pipeline text-classification --model clf/
    {"input": "I love this", "result": [{"label": "POSITIVE", "score": 0.98}]}
    $ ferroformers pipeline zero-shot-classification --model nli/ --text \\
          --arg 'candidate_labels=["sports", "politics"]' < texts.txt
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from . import CliError

# The task names of ferroformers.pipelines, spelled out here because importing that package imports torch
# (seconds), which `ferroformers --help` and the other subcommands should not wait for; a test keeps the two equal.
TASKS = (
    "audio-classification",
    "feature-extraction",
    "fill-mask",
    "image-classification",
    "image-segmentation",
    "ner",
    "question-answering",
    "sentiment-analysis",
    "text-classification",
    "text-generation",
    "token-classification",
    "zero-shot-classification",
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    tasks = TASKS
    parser = subparsers.add_parser(
        "pipeline",
        help="run a pipeline over JSON lines read from stdin",
        description="Run a pipeline over the JSON lines of stdin (one input per line), writing one JSON line per "
        f"result to stdout. Tasks: {', '.join(tasks)}.",
    )
    parser.add_argument("task", help="the task: " + ", ".join(tasks))
    parser.add_argument("--model", required=True, help="model folder or Hub id (resolved from the cache offline)")
    parser.add_argument("--tokenizer", help="tokenizer folder or Hub id (default: the model's)")
    parser.add_argument("--batch-size", type=int, default=1, help="inputs per forward pass (default 1)")
    parser.add_argument("--text", action="store_true", help="each input line is plain text, not JSON")
    parser.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a keyword of the task (top_k=3, candidate_labels=[...], max_new_tokens=20); repeatable",
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1 or an index (default: cpu)")
    parser.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], help="cast the model's weights")
    parser.add_argument("--input", type=argparse.FileType("r", encoding="utf-8"), default=None, help="read this file")
    return parser


def parse_task_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``["top_k=3", "function_to_apply=softmax"]`` -> ``{"top_k": 3, "function_to_apply": "softmax"}``."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            raise CliError(f"--arg takes NAME=VALUE with NAME a keyword name, got {pair!r}", status=2)
        try:
            kwargs[name] = json.loads(raw)
        except json.JSONDecodeError:
            kwargs[name] = raw  # a bare word: function_to_apply=softmax
    return kwargs


def read_inputs(stream: TextIO, plain_text: bool) -> Iterator[Any]:
    """One input per non-empty line; a line that is not JSON stops the run with its line number."""
    for number, line in enumerate(stream, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if plain_text:
            yield line
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as err:
            raise CliError(
                f"line {number} of the input is not JSON ({err.msg}): give one JSON value per line "
                '(a string in quotes: "some text"), or pass --text to read plain text lines'
            ) from None


def _jsonable(value: Any) -> Any:
    """numpy / torch scalars and arrays (feature vectors, tensors) and PIL images (segmentation masks, as
    rows of 0/255 pixel values) as plain JSON values."""
    if hasattr(value, "getdata") and hasattr(value, "size"):  # a PIL image
        import numpy as np

        return np.asarray(value).tolist()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be >= 1, got {args.batch_size}", status=2)
    kwargs = parse_task_kwargs(args.arg)

    from ferroformers import pipeline

    pipe = pipeline(
        args.task,
        model=args.model,
        tokenizer=args.tokenizer,
        device=args.device,
        dtype=args.dtype,
        batch_size=args.batch_size,
        **kwargs,
    )
    stream = args.input if args.input is not None else sys.stdin
    inputs: list[Any] = []  # what the pipeline has taken so far, to print each result beside its input

    def recorded() -> Iterator[Any]:
        for value in read_inputs(stream, args.text):
            inputs.append(value)
            yield value

    for index, result in enumerate(pipe(recorded())):
        line = json.dumps({"input": inputs[index], "result": result}, ensure_ascii=False, default=_jsonable)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()  # a reader of a long stream sees each result when it is ready
        inputs[index] = None  # the input is written; keep memory flat on endless streams
    return 0
