"""A small, complete fine-tuning run used by the tests that need a separate process: under torchrun (DDP) and
under SIGKILL. Trains a tiny random BERT classifier (no dropout, so the result does not depend on how rows are
spread over processes) on the first rows of fortune_topics and writes the final weights.

    python train_script.py OUTPUT_DIR [--batch N] [--max-steps N] [--save-steps N] [--resume]
        [--slow-save STEP]   (stop inside the save of checkpoint STEP once it is staged: the test kills it there)
        [--record-writes DIR]   (log every file this process writes into DIR/writes-<rank>.txt)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

SHARED = Path(os.environ.get("FERRO_SHARED") or Path(__file__).resolve().parents[3].parent / "shared")


def build_dataset(tokenizer, rows: int):
    records = [json.loads(line) for line in (SHARED / "datasets" / "fortune_topics" / "train.jsonl").open()][:rows]
    features = []
    for record in records:
        encoded = tokenizer(record["text"], truncation=True, max_length=48)
        features.append({**encoded, "label": record["label"]})
    return features


def build_model(vocab_size: int):
    from ferroformers.models.bert import BertConfig, BertForSequenceClassification

    torch.manual_seed(1234)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=5,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return BertForSequenceClassification(config)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("output_dir")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=8)
    parser.add_argument("--save-steps", type=int, default=4)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--slow-save", type=int)
    parser.add_argument("--record-writes")
    options = parser.parse_args()

    from ferroformers import AutoTokenizer, Trainer, TrainingArguments
    from ferroformers.trainer import checkpoint

    rank = int(os.environ.get("RANK", "0"))
    if options.record_writes:
        log = Path(options.record_writes) / f"writes-{rank}.txt"
        real_save, real_replace = torch.save, os.replace

        def recording_save(obj, f, *args, **kwargs):
            if isinstance(f, (str, os.PathLike)):  # files only: collectives serialize through in-memory buffers
                with open(log, "a") as out:
                    out.write(f"torch.save {f}\n")
            return real_save(obj, f, *args, **kwargs)

        def recording_replace(src, dst, *args, **kwargs):
            with open(log, "a") as out:
                out.write(f"os.replace {src} -> {dst}\n")
            return real_replace(src, dst, *args, **kwargs)

        torch.save = recording_save
        os.replace = recording_replace

    if options.slow_save is not None:
        real_publish = checkpoint.publish

        def slow_publish(staging, output_dir, step):
            if step == options.slow_save:
                # everything of this checkpoint is staged: tell the test, then give it time to kill us
                (Path(output_dir) / f"staged-{step}").write_text("")
                time.sleep(60)
            return real_publish(staging, output_dir, step)

        checkpoint.publish = slow_publish

    tokenizer = AutoTokenizer.from_pretrained(SHARED / "tokenizers" / "bert-uncased")
    args = TrainingArguments(
        output_dir=options.output_dir,
        per_device_train_batch_size=options.batch,
        max_steps=options.max_steps,
        save_steps=options.save_steps,
        logging_steps=2,
        learning_rate=1e-3,
        warmup_steps=2,
        seed=7,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=build_model(len(tokenizer)),
        args=args,
        train_dataset=build_dataset(tokenizer, options.rows),
        processing_class=tokenizer,
    )
    trainer.train(resume_from_checkpoint=True if options.resume else None)
    if trainer.is_world_process_zero():
        from safetensors.torch import save_file

        state = {k: v.contiguous() for k, v in trainer.model.state_dict().items()}
        save_file(state, str(Path(options.output_dir) / "final.safetensors"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
