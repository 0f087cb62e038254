"""Forward latency of ferroformers' models beside transformers', on the same random weights.

For each architecture both libraries build the same full-size model (GPT-2 124M with its LM head; BERT-base
), ours gets the reference's state dict, and each runs a forward
pass on one batch (8 x 128 tokens by default) on the CPU in float32 under ``torch.inference_mode()``:
warm-up runs, then the median of ``--runs`` timed runs. Prints a markdown table with ours/transformers.

    python benches/bench_models.py                     # about a minute and a half on two cores
    python benches/bench_models.py --runs 10 --batch 1 --seq 512
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import transformers


def median_seconds(ours: torch.nn.Module, ref: torch.nn.Module, inputs: dict, runs: int, warmup: int):
    """Median forward time of each model. Runs alternate between the two (and which goes first), so
    that whatever else the machine is doing weighs on both sides alike."""
    times: dict[str, list[float]] = {"ours": [], "ref": []}
    with torch.inference_mode():
        for _ in range(warmup):
            ours(**inputs)
            ref(**inputs)
        for i in range(runs):
            order = [("ours", ours), ("ref", ref)] if i % 2 == 0 else [("ref", ref), ("ours", ours)]
            for key, model in order:
                start = time.perf_counter()
                model(**inputs)
                times[key].append(time.perf_counter() - start)
    return statistics.median(times["ours"]), statistics.median(times["ref"])


def load_same_weights(ours: torch.nn.Module, ref: torch.nn.Module) -> torch.nn.Module:
    missing, unexpected = ours.load_state_dict(ref.state_dict(), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weights do not line up: missing {missing}, unexpected {unexpected}")
    return ours.eval()


def gpt2_pair():
    from ferroformers.models.gpt2 import GPT2Config, GPT2LMHeadModel

    ref = transformers.GPT2LMHeadModel(transformers.GPT2Config()).eval()
    ours = load_same_weights(GPT2LMHeadModel(GPT2Config()), ref)
    return "GPT-2 124M (LM head)", ref, ours, {"use_cache": False}


def bert_pair():
    from ferroformers.models.bert import BertConfig, BertModel

    ref = transformers.BertModel(transformers.BertConfig()).eval()
    ours = load_same_weights(BertModel(BertConfig()), ref)
    return "BERT-base", ref, ours, {}


PAIRS = (gpt2_pair, bert_pair)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per model (the median is reported)")
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.get_num_threads()} threads, "
        f"batch {args.batch} x {args.seq} tokens, fp32 CPU, median of {args.runs} after {args.warmup} warm-up"
    )
    rows = []
    for make_pair in PAIRS:
        name, ref, ours, extra = make_pair()
        ids = torch.randint(0, ref.config.vocab_size, (args.batch, args.seq))
        inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), **extra}
        with torch.inference_mode():
            a = ref(**inputs)[0]
            b = ours(**inputs)[0]
        diff = (a - b).abs().max().item()
        ours_s, ref_s = median_seconds(ours, ref, inputs, args.runs, args.warmup)
        rows.append((name, ours_s, ref_s, diff))
        del ref, ours

    print()
    print("| model | ferroformers (ms) | transformers (ms) | ferroformers / transformers | max abs diff |")
    print("|---|---:|---:|---:|---:|")
    for name, ours_s, ref_s, diff in rows:
        print(f"| {name} | {ours_s * 1e3:.1f} | {ref_s * 1e3:.1f} | {ours_s / ref_s:.2f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
