"""``ferroformers generate``: text from a causal language model, printed at the end or streamed.

    $ ferroformers generate --model path/to/gpt2 --prompt "Once upon a time" --max-new-tokens 30 --stream
    $ ferroformers generate --model path/to/gpt2 --prompt "A" --prompt "B" --do-sample --seed 0 --json

It is ``pipeline("text-generation")`` behind flags: the model folder (or Hub id, resolved from the local
cache when offline) is loaded with ``AutoModelForCausalLM`` and ``AutoTokenizer``, every sampling option
is a ``generate()`` keyword of the same name, and a flag left out keeps the model's generation config (or,
where that is silent, transformers' pipeline defaults). ``--prompt -`` reads the prompt from stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import CliError

# flag dest -> (type, help); each is passed to generate() under the same name when given
SAMPLING_OPTIONS: dict[str, tuple[type, str]] = {
    "max_new_tokens": (int, "new tokens to generate at most (pipeline default: 256)"),
    "min_new_tokens": (int, "new tokens to generate at least"),
    "temperature": (float, "softmax temperature when sampling"),
    "top_k": (int, "sample among the K most likely tokens"),
    "top_p": (float, "sample among the most likely tokens whose probabilities add up to P"),
    "min_p": (float, "drop tokens less likely than P times the most likely one"),
    "typical_p": (float, "locally typical sampling mass"),
    "repetition_penalty": (float, "penalty > 1 for tokens already in the text"),
    "no_repeat_ngram_size": (int, "never repeat an n-gram of this size"),
    "num_beams": (int, "beam search with this many beams"),
    "num_return_sequences": (int, "sequences to return per prompt"),
    "length_penalty": (float, "beam search length penalty"),
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "generate",
        help="generate text with a causal language model",
        description="Generate text with a causal language model (a local folder or a Hub id from the cache).",
    )
    parser.add_argument("--model", required=True, help="model folder or Hub id (config.json + weights + tokenizer)")
    parser.add_argument("--tokenizer", help="tokenizer folder or Hub id (default: the model's)")
    parser.add_argument(
        "--prompt", action="append", required=True, help="the text to continue; repeat for several, '-' reads stdin"
    )
    for name, (kind, text) in SAMPLING_OPTIONS.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    sampling = parser.add_mutually_exclusive_group()
    sampling.add_argument("--do-sample", dest="do_sample", action="store_true", default=None, help="sample")
    sampling.add_argument("--greedy", dest="do_sample", action="store_false", help="greedy (or beam) decoding")
    parser.add_argument("--seed", type=int, help="seed for sampling (the same seed gives the same text)")
    parser.add_argument("--stop", action="append", help="stop when the text ends with this string (repeatable)")
    parser.add_argument("--new-text-only", action="store_true", help="print the continuation without the prompt")
    parser.add_argument("--stream", action="store_true", help="print words as they are generated (one prompt)")
    parser.add_argument("--json", action="store_true", help="print one JSON line per prompt: the pipeline's records")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 or an index (default: cpu)")
    parser.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], help="cast the model's weights")
    return parser


def _prompts(values: list[str]) -> list[str]:
    prompts = []
    for value in values:
        if value == "-":
            text = sys.stdin.read()
            prompts.append(text[:-1] if text.endswith("\n") else text)
        else:
            prompts.append(value)
    return prompts


def _generate_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {name: getattr(args, name) for name in SAMPLING_OPTIONS if getattr(args, name) is not None}
    for name, value in kwargs.items():
        if isinstance(value, int) and value < 0:
            raise CliError(f"--{name.replace('_', '-')} must be >= 0, got {value}")
    if args.do_sample is not None:
        kwargs["do_sample"] = args.do_sample
    if args.seed is not None:
        kwargs["seed"] = args.seed
    if args.stop:
        kwargs["stop_sequence"] = args.stop
    return kwargs


def run(args: argparse.Namespace) -> int:
    prompts = _prompts(args.prompt)
    kwargs = _generate_kwargs(args)
    streaming = args.stream
    if streaming and (len(prompts) > 1 or kwargs.get("num_return_sequences", 1) > 1 or kwargs.get("num_beams", 1) > 1):
        raise CliError("--stream prints one sequence as it is generated: give one --prompt, no beams, one sequence")
    if streaming and args.json:
        raise CliError("--stream and --json cannot be combined: --json prints whole records")

    from ferroformers import pipeline
    from ferroformers.generation import TextStreamer

    generator = pipeline(
        "text-generation", model=args.model, tokenizer=args.tokenizer, device=args.device, dtype=args.dtype
    )
    if streaming:
        # The streamer prints as tokens come (the prompt too, unless only new text is asked for).
        kwargs["streamer"] = TextStreamer(generator.tokenizer, skip_prompt=args.new_text_only)
    results = generator(prompts, return_full_text=not args.new_text_only, **kwargs)
    if streaming:
        sys.stdout.write("\n")
        return 0
    for prompt, records in zip(prompts, results):
        if args.json:
            print(json.dumps({"prompt": prompt, "results": records}, ensure_ascii=False))
        else:
            for record in records:
                print(record["generated_text"])
    sys.stdout.flush()
    return 0
