"""token-classification / ner: a label per token, word or entity, as transformers' pipeline gives them."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from enum import Enum
from typing import Any

import torch

from .base import ChunkPipeline, _is_lazy_iterable


class AggregationStrategy(str, Enum):
    """How token predictions become the pipeline's output (transformers' names and values)."""

    NONE = "none"  # one dict per token, with its own label
    SIMPLE = "simple"  # adjacent tokens of the same entity grouped (B-/I- tags respected)
    FIRST = "first"  # words take the label of their first token, then grouped as SIMPLE
    AVERAGE = "average"  # words take the label of their tokens' averaged scores, then grouped
    MAX = "max"  # words take the label of their most confident token, then grouped


_WORD_STRATEGIES = ("first", "average", "max")
_FALLBACK_WARNING = "Tokenizer does not support real words, using fallback heuristic"


@dataclass
class _TextWithOffsets:
    """One input with the character span of each of its tokens, given by the caller (`offset_mapping=`)."""

    text: Any
    offsets: list[tuple[int, int]]


class TokenClassificationPipeline(ChunkPipeline):
    """`pipe("text")` -> a list of dicts; `pipe(["a", "b"])` -> one such list per text.

        >>> ner = pipeline("ner", model="path/to/folder")                      # doctest: +SKIP
        >>> ner("Ada Lovelace lived in London")                                  # doctest: +SKIP
        [{'entity': 'B-PER', 'score': 0.99, 'index': 1, 'word': 'Ada', 'start': 0, 'end': 3}, ...]
        >>> ner("Ada Lovelace lived in London", aggregation_strategy="simple")   # doctest: +SKIP
        [{'entity_group': 'PER', 'score': 0.99, 'word': 'Ada Lovelace', 'start': 0, 'end': 12},
         {'entity_group': 'LOC', 'score': 0.98, 'word': 'London', 'start': 22, 'end': 28}]

    `aggregation_strategy`: "none" (default: one dict per token, with its `index`), "simple", "first",
    "average" or "max" (see `AggregationStrategy`); `start`/`end` are character offsets in the text and
    `word` is decoded from the tokens. Labels in `ignore_labels` (default `["O"]`) are left out.
    `stride=k` runs texts longer than `tokenizer.model_max_length` as overlapping windows (k tokens of
    overlap) and merges their entities; without it such texts are truncated. `is_split_into_words=True`
    takes lists of words (joined by `delimiter`, default " ", for the offsets); `offset_mapping=` gives the
    (start, end) of each token yourself (one list per input when several inputs are given).
    """

    task = "token-classification"

    def __init__(self, model: Any, tokenizer: Any, **kwargs: Any) -> None:
        if not getattr(tokenizer, "is_fast", True):
            raise ValueError("token-classification needs a fast tokenizer (one with offsets mapping)")
        self._word_aware: bool | None = None
        super().__init__(model, tokenizer, **kwargs)

    # -- parameters ----------------------------------------------------------------------------------
    def _sanitize_parameters(
        self,
        ignore_labels: Any = None,
        aggregation_strategy: Any = None,
        is_split_into_words: Any = None,
        delimiter: str | None = None,
        stride: Any = None,
        offset_mapping: Any = None,
        **kwargs: Any,
    ):
        self._refuse_unknown(
            kwargs,
            {"ignore_labels", "aggregation_strategy", "is_split_into_words", "delimiter", "stride", "offset_mapping"},
            "token-classification pipeline",
        )
        if offset_mapping is not None:  # __call__ takes it out of the call's keywords: here it came at construction
            raise ValueError(
                "offset_mapping describes the tokens of particular inputs: give it when calling the pipeline"
            )
        pre: dict[str, Any] = {}
        post: dict[str, Any] = {}
        if is_split_into_words is not None:
            pre["is_split_into_words"] = bool(is_split_into_words)
        if delimiter is not None:
            if not isinstance(delimiter, str):
                raise TypeError(f"delimiter must be a string (it joins the words), got {type(delimiter).__name__}")
            pre["delimiter"] = delimiter
        if aggregation_strategy is not None:
            post["aggregation_strategy"] = _parse_strategy(aggregation_strategy)
        if ignore_labels is not None:
            if isinstance(ignore_labels, str) or not hasattr(ignore_labels, "__iter__"):
                raise ValueError(f"ignore_labels must be a list of labels such as ['O'], got {ignore_labels!r}")
            post["ignore_labels"] = list(ignore_labels)
        if stride is not None:
            if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
                raise ValueError(
                    f"stride must be a non-negative int (tokens shared by consecutive windows), got {stride!r}"
                )
            if stride >= self.tokenizer.model_max_length:
                raise ValueError(
                    f"stride ({stride}) must be less than tokenizer.model_max_length "
                    f"({self.tokenizer.model_max_length}), and lower still when the tokenizer adds special tokens"
                )
            # As transformers, this is only refused when both come in the same call (or both at construction).
            if post.get("aggregation_strategy") == "none":
                raise ValueError(
                    "stride splits long texts into windows whose entities are then merged, which needs an "
                    'aggregation_strategy other than "none": pick "simple", "first", "average" or "max"'
                )
            pre["stride"] = stride
        return pre, {}, post

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """Entities of a text (a list of dicts) or of each text of a list (a list of lists)."""
        offset_mapping = kwargs.pop("offset_mapping", None)
        split = kwargs.get("is_split_into_words")
        if split is None:
            split = self._preprocess_params.get("is_split_into_words", False)
        if isinstance(inputs, (list, tuple)):
            if not inputs:
                raise ValueError("token-classification needs at least one input: got an empty list")
            # As transformers: a single list of words is one input, and its result comes in a one-element list.
            if split and not all(isinstance(item, (list, tuple)) for item in inputs):
                inputs = [inputs]
        if offset_mapping is not None:
            inputs = _attach_offsets(inputs, offset_mapping)
        return super().__call__(inputs, **kwargs)

    # -- stages --------------------------------------------------------------------------------------
    def preprocess(
        self, inputs: Any, is_split_into_words: bool = False, delimiter: str = " ", stride: int | None = None
    ) -> list[dict[str, Any]]:
        given_offsets = None
        if isinstance(inputs, _TextWithOffsets):
            inputs, given_offsets = inputs.text, inputs.offsets
            if stride is not None:
                raise ValueError("offset_mapping cannot be combined with stride: the windows have their own tokens")
        word_starts = None
        if is_split_into_words:
            if not isinstance(inputs, (list, tuple)) or not all(isinstance(w, str) for w in inputs):
                raise TypeError(
                    "with is_split_into_words=True each input is a list of words (strings), "
                    f"got {type(inputs).__name__}"
                )
            words = list(inputs)
            # The text the offsets refer to: the words joined by the delimiter, as transformers rebuilds it.
            sentence = delimiter.join(words)
            word_starts, position = [], 0
            for word in words:
                word_starts.append(position)
                position += len(word) + len(delimiter)
            to_tokenize: Any = words
        else:
            if not isinstance(inputs, str):
                raise TypeError(
                    "token-classification takes a text or a list of texts (lists of words with "
                    f"is_split_into_words=True); got {type(inputs).__name__}"
                )
            sentence = to_tokenize = inputs

        max_length = self.tokenizer.model_max_length
        tokenizer_kwargs: dict[str, Any] = {
            "return_tensors": "pt",
            "truncation": bool(max_length and max_length > 0),
            "return_special_tokens_mask": True,
            "return_offsets_mapping": True,
        }
        if is_split_into_words:
            tokenizer_kwargs["is_split_into_words"] = True
        if stride is not None:
            tokenizer_kwargs.update(return_overflowing_tokens=True, padding=True, stride=stride)
        encoded = self.tokenizer(to_tokenize, **tokenizer_kwargs)

        chunks = []
        for i in range(encoded["input_ids"].shape[0]):
            length = encoded["input_ids"].shape[1]
            if given_offsets is not None:
                if len(given_offsets) < length:
                    raise ValueError(
                        f"offset_mapping has {len(given_offsets)} (start, end) pairs but the input has {length} "
                        "tokens: give one pair per token, as the tokenizer's return_offsets_mapping does"
                    )
                offsets = [(int(a), int(b)) for a, b in given_offsets[:length]]
            else:
                offsets = [(int(a), int(b)) for a, b in encoded["offset_mapping"][i].tolist()]
            if word_starts is not None:
                # Offsets of pre-split words count from the start of their word: move them into `sentence`.
                shifts = [0 if w is None else word_starts[w] for w in encoded.word_ids(i)]
                offsets = [(a + s, b + s) for (a, b), s in zip(offsets, shifts)]
            chunk = {
                key: value[i : i + 1]
                for key, value in encoded.items()
                if key not in ("special_tokens_mask", "offset_mapping", "overflow_to_sample_mapping")
            }
            chunk["special_tokens_mask"] = encoded["special_tokens_mask"][i].tolist()
            chunk["offsets"] = offsets
            chunk["sentence"] = sentence
            chunks.append(chunk)
        return chunks

    def _forward(self, model_inputs: dict[str, Any]) -> torch.Tensor:
        tensors = {key: value for key, value in model_inputs.items() if isinstance(value, torch.Tensor)}
        return self.model(**tensors).logits

    def _unbatch(self, logits: torch.Tensor, batch: dict[str, Any], n: int) -> list[dict[str, Any]]:
        """Each row of the batch cut back to its own tokens, with the metadata its postprocess needs."""
        left = self._padding_side() == "left"
        rows = []
        for i in range(n):
            row = {
                key: batch[key] if n == 1 else batch[key][i] for key in ("special_tokens_mask", "offsets", "sentence")
            }
            length = len(row["special_tokens_mask"])
            span = slice(logits.shape[1] - length, None) if left else slice(0, length)
            row["logits"] = logits[i, span]
            row["input_ids"] = batch["input_ids"][i, span].tolist()
            rows.append(row)
        return rows

    def postprocess(
        self, chunks: list[dict[str, Any]], aggregation_strategy: str = "none", ignore_labels: list | None = None
    ) -> list[dict[str, Any]]:
        ignore_labels = ["O"] if ignore_labels is None else ignore_labels
        key = "entity" if aggregation_strategy == "none" else "entity_group"
        entities = []
        for chunk in chunks:
            tokens = self._tokens(chunk, aggregation_strategy)
            if aggregation_strategy == "none":
                found = [self._token_entity(t) for t in tokens]
            elif aggregation_strategy == "simple":
                found = self._group_entities([self._token_entity(t) for t in tokens])
            else:
                found = self._group_entities(self._word_entities(tokens, aggregation_strategy))
            entities.extend(e for e in found if e[key] not in ignore_labels)
        if len(chunks) > 1:
            entities = _merge_overlapping(entities)
        return entities

    # -- tokens -> words -> entities ---------------------------------------------------------------
    def _is_word_aware(self) -> bool:
        """Whether the tokenizer marks word continuations (WordPiece's "##"), so subwords are known exactly."""
        if self._word_aware is None:
            backend = getattr(self.tokenizer, "backend_tokenizer", None)
            model = json.loads(backend.to_str()).get("model", {}) if backend is not None else {}
            self._word_aware = bool(model.get("continuing_subword_prefix"))
        return self._word_aware

    def _tokens(self, chunk: dict[str, Any], strategy: str) -> list[dict[str, Any]]:
        """The non-special tokens of a chunk: their text, scores, character span and whether they continue a word."""
        sentence = chunk["sentence"]
        scores = torch.softmax(chunk["logits"].float(), dim=-1).cpu()
        ids = chunk["input_ids"]
        pieces = self.tokenizer.convert_ids_to_tokens(ids)
        unk_id = getattr(self.tokenizer, "unk_token_id", None)
        word_aware = self._is_word_aware()
        if not word_aware and strategy in _WORD_STRATEGIES:
            warnings.warn(_FALLBACK_WARNING, UserWarning, stacklevel=4)
        tokens = []
        for index, special in enumerate(chunk["special_tokens_mask"]):
            if special:
                continue
            start, end = chunk["offsets"][index]
            piece, text = pieces[index], sentence[start:end]
            if word_aware:
                # "##ing" is longer than the "ing" it covers in the text: a marked continuation.
                is_subword = len(piece) != len(text)
            else:
                # Without markers, a token glued to the character before it continues a word.
                is_subword = start > 0 and " " not in sentence[start - 1 : start + 1]
            if ids[index] == unk_id:
                # The unknown token says nothing: show the text it stands for, and let it start a word.
                piece, is_subword = text, False
            tokens.append(
                {
                    "word": piece,
                    "scores": scores[index],
                    "start": start,
                    "end": end,
                    "index": index,
                    "is_subword": is_subword,
                }
            )
        return tokens

    def _label(self, scores: torch.Tensor) -> tuple[str, float]:
        best = int(scores.argmax())
        return self.model.config.id2label[best], float(scores[best])

    def _token_entity(self, token: dict[str, Any]) -> dict[str, Any]:
        label, score = self._label(token["scores"])
        return {
            "entity": label,
            "score": score,
            "index": token["index"],
            "word": token["word"],
            "start": token["start"],
            "end": token["end"],
        }

    def _word_entities(self, tokens: list[dict[str, Any]], strategy: str) -> list[dict[str, Any]]:
        """One entity per word (a token and the subword tokens after it): all its tokens get one label."""
        words: list[list[dict[str, Any]]] = []
        for token in tokens:
            if words and token["is_subword"]:
                words[-1].append(token)
            else:
                words.append([token])
        entities = []
        for word in words:
            if strategy == "first":
                scores = word[0]["scores"]
            elif strategy == "max":
                scores = max(word, key=lambda t: float(t["scores"].max()))["scores"]
            else:  # average
                scores = torch.nanmean(torch.stack([t["scores"] for t in word]), dim=0)
            label, score = self._label(scores)
            entities.append(
                {
                    "entity": label,
                    "score": score,
                    "word": self.tokenizer.convert_tokens_to_string([t["word"] for t in word]),
                    "start": word[0]["start"],
                    "end": word[-1]["end"],
                }
            )
        return entities

    def _group_entities(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Adjacent entities of the same type merged: a B- tag always opens a new group."""
        groups: list[list[dict[str, Any]]] = []
        for entity in entities:
            begins, tag = _split_tag(entity["entity"])
            if groups and not begins and tag == _split_tag(groups[-1][-1]["entity"])[1]:
                groups[-1].append(entity)
            else:
                groups.append([entity])
        return [self._group(members) for members in groups]

    def _group(self, members: list[dict[str, Any]]) -> dict[str, Any]:
        scores = torch.tensor([m["score"] for m in members], dtype=torch.float32)
        return {
            # transformers names the group after its first member's label without the part before "-"
            "entity_group": members[0]["entity"].split("-", 1)[-1],
            "score": float(torch.nanmean(scores)),
            "word": self.tokenizer.convert_tokens_to_string([m["word"] for m in members]),
            "start": members[0]["start"],
            "end": members[-1]["end"],
        }


def _parse_strategy(value: Any) -> str:
    name = getattr(value, "value", value)  # an AggregationStrategy (ours or transformers')
    choices = [s.value for s in AggregationStrategy]
    if not isinstance(name, str) or name.lower() not in choices:
        raise ValueError(f"aggregation_strategy must be one of {', '.join(choices)} (any case), got {value!r}")
    return name.lower()


def _split_tag(label: str) -> tuple[bool, str]:
    """(whether the label opens an entity, its type): "B-PER" -> (True, "PER"); "I-PER" and "PER" continue."""
    if label.startswith("B-"):
        return True, label[2:]
    if label.startswith("I-"):
        return False, label[2:]
    return False, label


def _merge_overlapping(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities of overlapping windows, in text order, keeping one of each overlapping pair: the longer
    span, or on equal spans the more confident one."""
    if not entities:
        return entities
    ordered = sorted(entities, key=lambda e: e["start"])
    kept, current = [], ordered[0]
    for entity in ordered:
        if current["start"] <= entity["start"] < current["end"]:
            length, current_length = entity["end"] - entity["start"], current["end"] - current["start"]
            if length > current_length or (length == current_length and entity["score"] > current["score"]):
                current = entity
        else:
            kept.append(current)
            current = entity
    kept.append(current)
    return kept


def _attach_offsets(inputs: Any, offset_mapping: Any) -> Any:
    """Pair each input with its caller-given token offsets: one list of (start, end) for a single input,
    one such list per input for a list of inputs."""
    if isinstance(inputs, (list, tuple)):
        if len(offset_mapping) != len(inputs):
            raise ValueError(
                f"offset_mapping has {len(offset_mapping)} entries for {len(inputs)} inputs: give one list of "
                "(start, end) pairs per input"
            )
        return [_TextWithOffsets(item, list(offsets)) for item, offsets in zip(inputs, offset_mapping)]
    if _is_lazy_iterable(inputs):
        raise ValueError("offset_mapping needs the inputs as a list (or one text), not a generator or dataset")
    return _TextWithOffsets(inputs, list(offset_mapping))
