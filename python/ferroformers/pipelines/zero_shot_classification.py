"""zero-shot-classification: rank labels chosen at call time with a model trained on natural language
inference (NLI): each label becomes a hypothesis ("This example is {label}.") whose entailment by the
text scores the label."""

from __future__ import annotations

import logging
from typing import Any

import torch

from ..errors import TokenizationError
from .base import ChunkPipeline

logger = logging.getLogger(__name__)

DEFAULT_HYPOTHESIS_TEMPLATE = "This example is {}."


class ZeroShotClassificationPipeline(ChunkPipeline):
    """`pipe(text, candidate_labels=["sports", "politics"])` -> `{"sequence", "labels", "scores"}`.

        >>> classify = pipeline("zero-shot-classification", model="path/to/nli-model")    # doctest: +SKIP
        >>> classify("The match went to extra time.", candidate_labels=["sports", "politics"])   # doctest: +SKIP
        {'sequence': 'The match went to extra time.', 'labels': ['sports', 'politics'], 'scores': [0.97, 0.03]}

    Labels come sorted by score, best first. `candidate_labels` is a list or a comma-separated string
    (also accepted as the second positional argument); `hypothesis_template` (default
    "This example is {}.") must contain `{}` where the label goes. Each (text, hypothesis) pair is one
    model input, so `batch_size` groups pairs. With `multi_label=False` the scores are a softmax of the
    entailment logits across labels (they sum to 1); with `multi_label=True`, or a single label, each
    label's score is the softmax of its own entailment vs contradiction logits. The entailment logit is
    the one whose `config.label2id` label starts with "entail" (any case); a model without one uses the
    last logit, with a warning (as transformers). A list of texts gives a list of results.
    """

    task = "zero-shot-classification"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.entailment_id == -1:
            logger.warning(
                "zero-shot-classification found no 'entailment' label in the model's config.label2id %r: using "
                "the last logit as entailment. Give the config a label2id naming its entailment label.",
                self.model.config.label2id,
            )

    @property
    def entailment_id(self) -> int:
        """Index of the entailment logit: the first label2id label starting with "entail", else -1 (the last)."""
        for label, index in self.model.config.label2id.items():
            if label.lower().startswith("entail"):
                return index
        return -1

    def _sanitize_parameters(
        self, candidate_labels: Any = None, hypothesis_template: Any = None, multi_label: Any = None, **unknown: Any
    ) -> tuple[dict, dict, dict]:
        self._refuse_unknown(
            unknown, {"candidate_labels", "hypothesis_template", "multi_label"}, "zero-shot-classification pipeline"
        )
        preprocess: dict[str, Any] = {}
        if candidate_labels is not None:
            preprocess["candidate_labels"] = _parse_labels(candidate_labels)
        if hypothesis_template is not None:
            if not isinstance(hypothesis_template, str):
                raise TypeError(
                    f"hypothesis_template must be a str with {{}} for the label, got {hypothesis_template!r}"
                )
            preprocess["hypothesis_template"] = hypothesis_template
        postprocess: dict[str, Any] = {}
        if multi_label is not None:
            postprocess["multi_label"] = bool(multi_label)
        return preprocess, {}, postprocess

    def preprocess(
        self,
        sequence: Any,
        candidate_labels: list | None = None,
        hypothesis_template: str = DEFAULT_HYPOTHESIS_TEMPLATE,
    ) -> list[dict[str, Any]]:
        if not isinstance(sequence, str):
            raise TypeError(f"zero-shot-classification takes a text or a list of texts, got {type(sequence).__name__}")
        if not candidate_labels:
            raise ValueError(
                "zero-shot-classification needs candidate_labels: a list of labels or a comma-separated string "
                '(pipe(text, candidate_labels=["sports", "politics"]))'
            )
        if not sequence:
            raise ValueError("zero-shot-classification needs a non-empty text to classify")
        hypotheses = [_hypothesis(hypothesis_template, label) for label in candidate_labels]
        return [
            {**self._encode_pair(sequence, hypothesis), "candidate_label": label, "sequence": sequence}
            for label, hypothesis in zip(candidate_labels, hypotheses)
        ]

    def _encode_pair(self, premise: str, hypothesis: str) -> dict[str, Any]:
        # Only the text is truncated (to the model's length), never the hypothesis that names the label.
        try:
            encoded = self.tokenizer(premise, hypothesis, truncation="only_first", return_tensors="pt")
        except TokenizationError:
            # The hypothesis alone is longer than the limit, so cutting the text cannot help: send the pair
            # whole, as transformers does (the model decides whether it can take that length).
            encoded = self.tokenizer(premise, hypothesis, truncation=False, return_tensors="pt")
        return dict(encoded)

    def _pad_token_id(self) -> int | None:
        # transformers pads with the eos token when the tokenizer has no pad token.
        pad = getattr(self.tokenizer, "pad_token_id", None)
        return pad if pad is not None else getattr(self.tokenizer, "eos_token_id", None)

    def _forward(self, model_inputs: dict[str, Any]):
        tensors = {k: v for k, v in model_inputs.items() if isinstance(v, torch.Tensor)}
        return self.model(**tensors).logits

    def _unbatch(self, logits, batch, n):
        labels, sequences = batch["candidate_label"], batch["sequence"]
        if n == 1:  # a batch of one is the chunk itself, its values are not wrapped in lists
            labels, sequences = [labels], [sequences]
        return [
            {"logits": logits[i].float().cpu(), "candidate_label": labels[i], "sequence": sequences[i]}
            for i in range(n)
        ]

    def postprocess(self, outputs: list[dict[str, Any]], multi_label: bool = False) -> dict[str, Any]:
        labels = [o["candidate_label"] for o in outputs]
        logits = torch.stack([o["logits"] for o in outputs])  # (labels, num NLI classes)
        entailment = self.entailment_id
        if multi_label or len(labels) == 1:
            # Each label on its own: P(entailment) against contradiction, the neutral class left out.
            contradiction = -1 if entailment == 0 else 0
            scores = logits[:, [contradiction, entailment]].softmax(dim=-1)[:, 1]
        else:
            # The labels compete: one distribution over the labels' entailment logits.
            scores = logits[:, entailment].softmax(dim=-1)
        scores = scores.tolist()
        # Best first; equal scores put the later label first, as transformers' reversed ascending argsort.
        order = sorted(range(len(labels)), key=lambda i: (scores[i], i), reverse=True)
        return {
            "sequence": outputs[0]["sequence"],
            "labels": [labels[i] for i in order],
            "scores": [scores[i] for i in order],
        }

    def __call__(self, sequences: Any = None, *args: Any, **kwargs: Any) -> Any:
        # As transformers: the candidate labels may come as the second positional argument.
        if args:
            if len(args) > 1 or "candidate_labels" in kwargs:
                raise TypeError(
                    "zero-shot-classification takes the texts and at most the candidate labels as positional "
                    f"arguments; got the extra arguments {args!r}"
                )
            kwargs["candidate_labels"] = args[0]
        return super().__call__(sequences, **kwargs)


def _parse_labels(labels: Any) -> list:
    """A comma-separated string -> its stripped non-empty parts; a list or tuple as given."""
    if isinstance(labels, str):
        return [label.strip() for label in labels.split(",") if label.strip()]
    if isinstance(labels, (list, tuple)):
        return list(labels)
    raise TypeError(f"candidate_labels must be a list of labels or a comma-separated string, got {labels!r}")


def _hypothesis(template: str, label: Any) -> str:
    bad = ValueError(
        f"hypothesis_template {template!r} has no {{}} where the label goes: write it like "
        f"{DEFAULT_HYPOTHESIS_TEMPLATE!r}"
    )
    try:
        hypothesis = template.format(label)
    except (IndexError, KeyError) as error:
        raise bad from error
    if hypothesis == template:
        raise bad
    return hypothesis
