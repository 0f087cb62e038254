"""generate() throughput of ferroformers beside transformers, on the same random weights, on the CPU.

Models: a tiny GPT-2 (2 layers x 64 wide: the loop's own cost dominates) and GPT-2 124M (the forward
dominates). For each, batch 1 and 8, greedy and `do_sample=True, top_p=0.9, temperature=0.8`: 64 new
tokens after a 16-token prompt, end-of-sequence ignored (`eos_token_id=None`, so every run makes all 64).
Runs alternate between the two libraries; the median of `--runs` is reported as new tokens per second.

"outside forward" is the share of ours' generate() time not spent in the model's forward pass (timed by
wrapping `model.forward`): the logits hand-off, the Rust sampler, mask/position/cache bookkeeping.

    python benches/bench_generate.py            # under four minutes on two cores
    python benches/bench_generate.py --quick    # the tiny model, 16 new tokens, one run each: seconds
"""

from __future__ import annotations

import argparse
import os

# The same OpenMP spin setting ferroformers applies when it is imported before torch (see
# ferroformers/__init__.py), set here before torch loads so that both libraries run under it.
# Pass GOMP_SPINCOUNT or OMP_WAIT_POLICY in the environment to measure another setting.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "20000")
import statistics
import time

import torch
import transformers

NEW_TOKENS = 64
QUICK_NEW_TOKENS = 16  # --quick is a smoke run (the CLI's test runs it): a quarter of the steps
PROMPT_LEN = 16
STRATEGIES = {
    "greedy": dict(do_sample=False),
    "top-p 0.9, T 0.8": dict(do_sample=True, top_p=0.9, temperature=0.8, top_k=0),
}


def model_pair(name: str):
    """(transformers model, ferroformers model) with identical weights."""
    from ferroformers.models.gpt2 import GPT2Config, GPT2LMHeadModel

    sizes = {"tiny GPT-2 (2x64)": dict(n_layer=2, n_embd=64, n_head=2), "GPT-2 124M": {}}[name]
    torch.manual_seed(0)
    ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**sizes)).eval()
    ours = GPT2LMHeadModel(GPT2Config(**sizes)).eval()
    missing, unexpected = ours.load_state_dict(ref.state_dict(), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weights do not line up: missing {missing}, unexpected {unexpected}")
    return ref, ours


class ForwardTimer:
    """Wraps a model's forward to add up the seconds spent inside it."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.seconds = 0.0
        self._forward = model.forward
        model.forward = self  # nn.Module.__call__ looks up self.forward: the instance attribute wins

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self._forward(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def bench_case(ref, ours, timer: ForwardTimer, batch: int, strategy: dict, runs: int, new_tokens: int):
    ids = torch.randint(0, ref.config.vocab_size, (batch, PROMPT_LEN), generator=torch.Generator().manual_seed(1))
    kwargs = dict(max_new_tokens=new_tokens, eos_token_id=None, pad_token_id=0, **strategy)
    times: dict[str, list[float]] = {"ours": [], "ref": []}
    outside: list[float] = []

    def run_ours():
        timer.seconds = 0.0
        start = time.perf_counter()
        out = ours.generate(ids, **kwargs)
        total = time.perf_counter() - start
        outside.append(1 - timer.seconds / total)
        return out, total

    def run_ref():
        start = time.perf_counter()
        out = ref.generate(ids, attention_mask=torch.ones_like(ids), **kwargs)
        return out, time.perf_counter() - start

    with torch.inference_mode():
        run_ours()  # warm-up
        run_ref()
        for i in range(runs):
            order = [("ours", run_ours), ("ref", run_ref)] if i % 2 == 0 else [("ref", run_ref), ("ours", run_ours)]
            for key, fn in order:
                out, seconds = fn()
                if out.shape != (batch, PROMPT_LEN + new_tokens):
                    raise RuntimeError(f"{key} generated {tuple(out.shape)}, expected all {new_tokens} new tokens")
                times[key].append(seconds)
    tokens = batch * new_tokens
    return (
        tokens / statistics.median(times["ours"]),
        tokens / statistics.median(times["ref"]),
        statistics.median(outside),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (the median is reported)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the tiny model only, {QUICK_NEW_TOKENS} new tokens, one timed run per case",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    names = ["tiny GPT-2 (2x64)"] if args.quick else ["tiny GPT-2 (2x64)", "GPT-2 124M"]
    runs = 1 if args.quick else args.runs
    new_tokens = QUICK_NEW_TOKENS if args.quick else NEW_TOKENS

    print(
        f"{new_tokens} new tokens after {PROMPT_LEN} prompt tokens, CPU float32, torch threads: "
        f"{torch.get_num_threads()}, median of {runs}, "
        f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', 'default')}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}\n"
    )
    print(
        "| model | batch | decoding | ferroformers tok/s | transformers tok/s | ours / transformers | outside forward |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        ref, ours = model_pair(name)
        timer = ForwardTimer(ours)
        for batch in (1, 8):
            for label, strategy in STRATEGIES.items():
                mine, theirs, outside = bench_case(ref, ours, timer, batch, strategy, runs, new_tokens)
                print(
                    f"| {name} | {batch} | {label} | {mine:,.0f} | {theirs:,.0f} | {mine / theirs:.2f}x | "
                    f"{outside:.1%} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
