"""The Hub model each task loads when `pipeline(task)` is given no `model=`: Hugging Face's own choices.

transformers pins these ids (and revisions) per task. We load the same ids, at the cache's `main` revision,
so a user whose Hub cache already holds them gets the same model. Two differ from transformers 5.24's
table: text-generation uses `openai-community/gpt2` (transformers 4's default; 5.x moved to SmolLM3-3B, an
architecture ferroformers does not implement and a 6 GB download) and zero-shot-classification uses
`FacebookAI/roberta-large-mnli` (transformers' other published default for that task; its PyTorch default,
`facebook/bart-large-mnli`, is a BART model). question-answering keeps transformers 4's default, as the task
itself follows transformers 4. image-segmentation uses NVIDIA's SegFormer-B0 fine-tuned on ADE20k: transformers'
default, `facebook/detr-resnet-50-panoptic`, is a DETR model, which ferroformers does not implement.
"""

from __future__ import annotations

DEFAULT_MODELS: dict[str, str] = {
    "text-generation": "openai-community/gpt2",
    "text-classification": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    "token-classification": "dbmdz/bert-large-cased-finetuned-conll03-english",
    "fill-mask": "distilbert/distilroberta-base",
    "feature-extraction": "distilbert/distilbert-base-cased",
    "question-answering": "distilbert/distilbert-base-cased-distilled-squad",
    "zero-shot-classification": "FacebookAI/roberta-large-mnli",
    "image-classification": "google/vit-base-patch16-224",
    "image-segmentation": "nvidia/segformer-b0-finetuned-ade-512-512",
    "audio-classification": "superb/wav2vec2-base-superb-ks",
}
