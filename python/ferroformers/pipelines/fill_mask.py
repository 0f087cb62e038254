"""fill-mask: the most likely tokens for each mask token of a text, from a masked language model."""

from __future__ import annotations

import logging
from typing import Any

import torch

from .base import Pipeline

logger = logging.getLogger(__name__)


class FillMaskPipeline(Pipeline):
    """`pipe("Paris is the [MASK] of France.")` -> `[{"score", "token", "token_str", "sequence"}, ...]`.

    One dict per candidate, best first: `score` is the model's probability of the token at the mask,
    `token` its id, `token_str` its decoded text and `sequence` the input with the mask replaced.

        >>> fill = pipeline("fill-mask", model="path/to/bert")                  # doctest: +SKIP
        >>> fill("Paris is the [MASK] of France.", top_k=2)                     # doctest: +SKIP
        [{'score': 0.93, 'token': 3007, 'token_str': 'capital', 'sequence': 'paris is the capital of france.'},
         {'score': 0.01, 'token': 2803, 'token_str': 'center', 'sequence': 'paris is the center of france.'}]

    A text with several masks gives one such list per mask (its sequences keep the other masks and the
    special tokens, as transformers'). A list of texts gives a list of results, except that a list of one
    text gives that text's result (as transformers). `top_k` (default 5) candidates are returned;
    `targets` (a word or a list of words) restricts them to those words: a word outside the vocabulary
    is tokenized and its first token used, with a warning. `tokenizer_kwargs` go to the tokenizer
    (`{"truncation": True}`, ...).
    """

    task = "fill-mask"

    def _sanitize_parameters(
        self, top_k: Any = None, targets: Any = None, tokenizer_kwargs: Any = None, **unknown: Any
    ) -> tuple[dict, dict, dict]:
        self._refuse_unknown(unknown, {"top_k", "targets", "tokenizer_kwargs"}, "fill-mask pipeline")
        # Checked on every call (and at construction), as transformers: the pipeline cannot work without it.
        if getattr(self.tokenizer, "mask_token_id", None) is None:
            raise ValueError(
                "fill-mask needs a tokenizer with a mask token, and this one defines no mask_token: "
                "use the tokenizer the masked language model was trained with"
            )
        preprocess: dict[str, Any] = {}
        if tokenizer_kwargs is not None:
            if not isinstance(tokenizer_kwargs, dict):
                raise TypeError(f"tokenizer_kwargs must be a dict of tokenizer options, got {tokenizer_kwargs!r}")
            preprocess["tokenizer_kwargs"] = dict(tokenizer_kwargs)
        postprocess: dict[str, Any] = {}
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
                raise ValueError(f"top_k must be a positive int, got {top_k!r}")
            postprocess["top_k"] = top_k
        if targets is not None:
            postprocess["target_ids"] = self._target_ids(targets)
        return preprocess, {}, postprocess

    def _target_ids(self, targets: Any) -> list[int]:
        """The token ids of the target words, without repeats (their order does not matter: results are
        ranked by score)."""
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, (list, tuple)) or not all(isinstance(t, str) for t in targets):
            raise TypeError(f"targets must be a word or a list of words, got {targets!r}")
        vocab = self.tokenizer.get_vocab()
        ids: list[int] = []
        for target in targets:
            token_id = vocab.get(target)
            if token_id is None:
                # Not a token as written: use the first token the tokenizer makes of it (as transformers).
                pieces = self.tokenizer(target, add_special_tokens=False)["input_ids"]
                if not pieces:
                    logger.warning(
                        "fill-mask target %r does not exist in the model vocabulary and tokenizes to nothing: "
                        "ignoring it",
                        target,
                    )
                    continue
                token_id = pieces[0]
                logger.warning(
                    "fill-mask target %r does not exist in the model vocabulary: replacing it with %r, its first "
                    "token (give vocabulary tokens to avoid this)",
                    target,
                    self.tokenizer.convert_ids_to_tokens(token_id),
                )
            ids.append(token_id)
        ids = list(dict.fromkeys(ids))
        if not ids:
            raise ValueError(f"targets={targets!r} gives no token to score: give at least one word")
        return ids

    def preprocess(self, text: Any, tokenizer_kwargs: dict | None = None) -> dict[str, Any]:
        if not isinstance(text, str):
            raise TypeError(f"fill-mask takes a text or a list of texts, got {type(text).__name__}")
        encoded = dict(self.tokenizer(text, return_tensors="pt", **(tokenizer_kwargs or {})))
        if not (encoded["input_ids"] == self.tokenizer.mask_token_id).any():
            raise ValueError(
                f"fill-mask found no mask token ({self.tokenizer.mask_token}) in the input {text!r}: "
                f"write {self.tokenizer.mask_token} where the word to predict goes"
                + (" (or it was cut off by truncation)" if (tokenizer_kwargs or {}).get("truncation") else "")
            )
        return encoded

    def _forward(self, model_inputs: dict[str, Any]):
        return self.model(**model_inputs).logits

    def _unbatch(self, logits, batch, n):
        # Each row keeps its padding: pad positions are never masks, and pad ids are dropped from sequences.
        return [{"input_ids": batch["input_ids"][i].cpu(), "logits": logits[i]} for i in range(n)]

    def postprocess(self, outputs: dict[str, Any], top_k: int = 5, target_ids: list[int] | None = None):
        input_ids = outputs["input_ids"]
        mask_positions = (input_ids == self.tokenizer.mask_token_id).nonzero().flatten().tolist()
        probs = outputs["logits"][mask_positions].float().softmax(dim=-1).cpu()  # (masks, V)
        candidates = torch.arange(probs.shape[-1])
        if target_ids is not None:
            # Scores stay probabilities over the whole vocabulary, only the candidates are restricted.
            candidates = torch.tensor(target_ids)
            probs = probs[:, candidates]
        scores, columns = probs.topk(min(top_k, probs.shape[-1]), dim=-1)

        one_mask = len(mask_positions) == 1
        pad_id = self._pad_token_id()
        results = []
        for position, row_scores, row_columns in zip(mask_positions, scores.tolist(), columns.tolist()):
            row = []
            for score, column in zip(row_scores, row_columns):
                token = int(candidates[column])
                filled = input_ids.clone()
                filled[position] = token
                kept = [t for t in filled.tolist() if t != pad_id]
                # With several masks the other masks stay in the sequence, so special tokens are kept:
                # skipping them would silently drop those masks.
                sequence = self.tokenizer.decode(kept, skip_special_tokens=one_mask)
                row.append(
                    {"score": score, "token": token, "token_str": self.tokenizer.decode([token]), "sequence": sequence}
                )
            results.append(row)
        return results[0] if one_mask else results

    def __call__(self, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = super().__call__(inputs, *args, **kwargs)
        # As transformers: a list of a single text gives that text's result, not a list of one.
        if isinstance(inputs, list) and not args and len(inputs) == 1:
            return result[0]
        return result
