"""question-answering: extractive answers (a span of the context) from a `*ForQuestionAnswering` model.

transformers 5 dropped this pipeline; this one keeps the behaviour and output format of transformers 4's
`QuestionAnsweringPipeline`. The algorithm, per input:

1. The question and the context are tokenized as a pair. A context longer than `max_seq_len` is split into
   chunks that each hold the whole question; consecutive chunks share `doc_stride` context tokens.
2. Per chunk, the start and end logits of every token that is not part of the context are masked out (the
   [CLS] token stays, as some models answer "no answer" there), each is turned into probabilities by a
   softmax, and every span `start <= end < start + max_answer_len` of context tokens is scored
   `p_start[start] * p_end[end]`. The `top_k` best spans of each chunk are kept.
3. Token spans become character spans of the context (widened to whole words with `align_to_words`).
   Spans of different chunks (or of one chunk) that give the same text, ignoring case, are one answer whose
   score is the sum of theirs. The `top_k` best answers are returned.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import torch

from .base import ChunkPipeline

_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Per-chunk values that are not model inputs: carried through batching to `postprocess`.
_CHUNK_INFO = ("context", "offsets", "word_ids", "in_context", "cls_index")
_PARAMETERS = frozenset(
    {
        "top_k",
        "topk",
        "doc_stride",
        "max_answer_len",
        "max_seq_len",
        "max_question_len",
        "handle_impossible_answer",
        "align_to_words",
    }
)
_DEFAULT_MAX_SEQ_LEN = 384
_DEFAULT_MAX_DOC_STRIDE = 128


class QuestionAnsweringPipeline(ChunkPipeline):
    """`pipe(question="Who?", context="...")` -> `{"score": float, "start": int, "end": int, "answer": str}`,
    where `answer == context[start:end]` and `score` is the probability of that span.

    Inputs, as transformers 4 takes them: `pipe(question=q, context=c)`, `pipe(q, c)`,
    `pipe({"question": q, "context": c})`, a list of such dicts, `question=[...]` with `context=[...]`
    (paired in order) or with one `context=` shared by all questions, or an iterable of such dicts (a
    generator, a dataset; other keys of a row are ignored), which gives an iterator of results. A list gives
    a list of results, except that a list of one input gives its result alone (as transformers 4 did).

    Keywords: `top_k` (default 1; several answers come as a list sorted by score, best first, and one answer
    found is a dict even when more were asked for), `doc_stride` (context tokens shared by consecutive chunks
    of a long context; default min(128, max_seq_len // 2)), `max_answer_len` (tokens, default 15),
    `max_seq_len` (tokens per chunk with the question; default 384, or less when the model takes fewer),
    `max_question_len` (the question is cut to this many tokens, default 64), `handle_impossible_answer`
    (default False; True lets the "no answer" `{"start": 0, "end": 0, "answer": ""}` compete, scored by the
    [CLS] token's start and end probabilities) and `align_to_words` (default True: answers cover whole words).

        >>> qa = pipeline("question-answering", model="path/to/squad-model")       # doctest: +SKIP
        >>> qa(question="Where does Ada live?", context="Ada lives in London.")   # doctest: +SKIP
        {'score': 0.97, 'start': 13, 'end': 19, 'answer': 'London'}
    """

    task = "question-answering"

    def __init__(self, model: Any, tokenizer: Any, **kwargs: Any) -> None:
        super().__init__(model, tokenizer, **kwargs)
        # Only the inputs the model's forward takes (DistilBERT has no token_type_ids).
        parameters = inspect.signature(self.model.forward).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        self._model_input_keys = tuple(k for k in _MODEL_INPUTS if takes_any or k in parameters)

    # -- call ----------------------------------------------------------------------------------------
    def __call__(self, *args: Any, question: Any = None, context: Any = None, **kwargs: Any) -> Any:
        inputs = _gather_inputs(args, question, context)
        result = super().__call__(inputs, **kwargs)
        if isinstance(inputs, list) and len(inputs) == 1:
            return result[0]  # transformers 4 answered a lone example unwrapped, even from a list
        return result

    def _is_single(self, inputs: Any) -> bool:
        return isinstance(inputs, dict)

    def _sanitize_parameters(
        self,
        top_k: Any = None,
        topk: Any = None,
        doc_stride: Any = None,
        max_answer_len: Any = None,
        max_seq_len: Any = None,
        max_question_len: Any = None,
        handle_impossible_answer: Any = None,
        align_to_words: Any = None,
        **kwargs: Any,
    ):
        self._refuse_unknown(kwargs, _PARAMETERS, "question-answering pipeline")
        if topk is not None:
            if top_k is not None:
                raise ValueError("give top_k only (topk is its old name)")
            warnings.warn("topk is deprecated: use top_k", FutureWarning, stacklevel=3)
            top_k = topk
        pre: dict[str, Any] = {}
        post: dict[str, Any] = {}
        if doc_stride is not None:
            pre["doc_stride"] = _check_int("doc_stride", doc_stride, minimum=0)
        if max_seq_len is not None:
            pre["max_seq_len"] = _check_int("max_seq_len", max_seq_len, minimum=1)
        if max_question_len is not None:
            pre["max_question_len"] = _check_int("max_question_len", max_question_len, minimum=1)
        if top_k is not None:
            post["top_k"] = _check_int("top_k", top_k, minimum=1)
        if max_answer_len is not None:
            post["max_answer_len"] = _check_int("max_answer_len", max_answer_len, minimum=1)
        if handle_impossible_answer is not None:
            post["handle_impossible_answer"] = bool(handle_impossible_answer)
        if align_to_words is not None:
            post["align_to_words"] = bool(align_to_words)
        return pre, {}, post

    # -- stages --------------------------------------------------------------------------------------
    def _question_first(self) -> bool:
        # Tokenizers that pad on the left put the context first (and truncate it, the first sequence).
        return self._padding_side() != "left"

    def _model_max_length(self) -> int | None:
        """The longest chunk the model takes: the tokenizer's model_max_length and the model's position table
        (tokenizers without a limit report a huge model_max_length)."""
        limits = [
            getattr(self.tokenizer, "model_max_length", None),
            getattr(self.model.config, "max_position_embeddings", None),
        ]
        limits = [n for n in limits if isinstance(n, int) and 0 < n < 1_000_000]
        return min(limits) if limits else None

    def preprocess(
        self,
        example: Any,
        doc_stride: int | None = None,
        max_seq_len: int | None = None,
        max_question_len: int = 64,
    ) -> list[dict[str, Any]]:
        question, context = _check_example(example)
        limit = self._model_max_length()
        if max_seq_len is None:
            max_seq_len = min(_DEFAULT_MAX_SEQ_LEN, limit or _DEFAULT_MAX_SEQ_LEN)
        elif limit is not None and max_seq_len > limit:
            raise ValueError(f"max_seq_len={max_seq_len} is longer than the model takes ({limit} tokens): lower it")
        if doc_stride is None:
            doc_stride = min(_DEFAULT_MAX_DOC_STRIDE, max_seq_len // 2)

        question = self._cut_question(question, max_question_len)
        question_first = self._question_first()
        pair = (question, context) if question_first else (context, question)
        context_sequence = 1 if question_first else 0

        # Tokens every chunk spends on the question and the special tokens: the rest holds context.
        question_alone = (question, "") if question_first else ("", question)
        fixed = len(self.tokenizer(*question_alone)["input_ids"])
        room = max_seq_len - fixed
        if room < 1:
            raise ValueError(
                f"the question takes {fixed} tokens with the special tokens, leaving no room for the context "
                f"in max_seq_len={max_seq_len}: raise max_seq_len or lower max_question_len"
            )
        if doc_stride >= room:
            raise ValueError(
                f"doc_stride={doc_stride} must be smaller than the context tokens each chunk holds "
                f"(max_seq_len={max_seq_len} minus {fixed} question and special tokens = {room}): "
                "lower doc_stride or raise max_seq_len"
            )

        encoded = self.tokenizer(
            *pair,
            truncation="only_second" if question_first else "only_first",
            max_length=max_seq_len,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_token_type_ids="token_type_ids" in self._model_input_keys,
        )
        cls_id = getattr(self.tokenizer, "cls_token_id", None)
        chunks = []
        for i, ids in enumerate(encoded["input_ids"]):
            chunk = {k: torch.tensor([encoded[k][i]]) for k in self._model_input_keys if k in encoded}
            chunk["context"] = context
            chunk["offsets"] = [tuple(o) for o in encoded["offset_mapping"][i]]
            chunk["word_ids"] = encoded.word_ids(i)
            chunk["in_context"] = [s == context_sequence for s in encoded.sequence_ids(i)]
            chunk["cls_index"] = ids.index(cls_id) if cls_id is not None and cls_id in ids else None
            chunks.append(chunk)
        if not any(chunks[0]["in_context"]):
            raise ValueError(f"the context {context[:40]!r} has no tokens (only characters the tokenizer drops)")
        return chunks

    def _cut_question(self, question: str, max_question_len: int) -> str:
        """The question cut after its first `max_question_len` tokens (at the end of that token's text)."""
        spans = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        if len(spans) <= max_question_len:
            return question
        return question[: spans[max_question_len - 1][1]]

    def _forward(self, model_inputs: dict[str, Any]):
        outputs = self.model(**{k: model_inputs[k] for k in self._model_input_keys if k in model_inputs})
        return outputs.start_logits, outputs.end_logits

    def _unbatch(self, outputs, batch: dict[str, Any], n: int) -> list[dict[str, Any]]:
        start_logits, end_logits = outputs  # (B, T) each
        width = start_logits.shape[1]
        left = self._padding_side() == "left"
        per_chunk = []
        for i in range(n):
            info = {k: (batch[k][i] if n > 1 else batch[k]) for k in _CHUNK_INFO}
            # Cut the padding off, so a chunk's positions are its own tokens whatever batch it ran in.
            length = len(info["offsets"])
            keep = slice(width - length, width) if left else slice(0, length)
            start = start_logits[i, keep].float().cpu()
            end = end_logits[i, keep].float().cpu()
            per_chunk.append({"start_logits": start, "end_logits": end, **info})
        return per_chunk

    def postprocess(
        self,
        chunk_outputs: list[dict[str, Any]],
        top_k: int = 1,
        max_answer_len: int = 15,
        handle_impossible_answer: bool = False,
        align_to_words: bool = True,
    ) -> dict[str, Any] | list[dict[str, Any]]:
        answers: dict[str, dict[str, Any]] = {}  # lower-cased text -> answer; insertion order kept
        null_score = 1.0
        for chunk in chunk_outputs:
            in_context = torch.tensor(chunk["in_context"])
            p_start, p_end = _span_probabilities(chunk, in_context)
            cls_index = chunk["cls_index"]
            # The chunk least sure that the question has no answer decides the "no answer" score.
            chunk_null = float(p_start[cls_index] * p_end[cls_index]) if cls_index is not None else 0.0
            null_score = min(null_score, chunk_null)
            for start, end, score in _best_spans(p_start, p_end, in_context, top_k, max_answer_len):
                first, last = _char_span(chunk, start, end, align_to_words)
                text = chunk["context"][first:last]
                same = answers.get(text.lower())
                if same is not None:
                    same["score"] += score
                else:
                    answers[text.lower()] = {"score": score, "start": first, "end": last, "answer": text}
        ranked = list(answers.values())
        if handle_impossible_answer:
            ranked.append({"score": null_score, "start": 0, "end": 0, "answer": ""})
        ranked = sorted(ranked, key=lambda a: a["score"], reverse=True)[:top_k]
        return ranked[0] if len(ranked) == 1 else ranked


# -- the pieces of postprocess ---------------------------------------------------------------------------
def _span_probabilities(chunk: dict[str, Any], in_context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax of the start and end logits over the context tokens and [CLS] (the rest cannot be answers)."""
    candidates = in_context.clone()
    if chunk["cls_index"] is not None:
        candidates[chunk["cls_index"]] = True
    start = chunk["start_logits"].masked_fill(~candidates, float("-inf"))
    end = chunk["end_logits"].masked_fill(~candidates, float("-inf"))
    return torch.softmax(start, dim=-1), torch.softmax(end, dim=-1)


def _best_spans(
    p_start: torch.Tensor, p_end: torch.Tensor, in_context: torch.Tensor, top_k: int, max_answer_len: int
) -> list[tuple[int, int, float]]:
    """The `top_k` (start, end, score) token spans of context tokens, best first."""
    n = p_start.shape[0]
    scores = p_start[:, None] * p_end[None, :]  # (start, end)
    # start <= end < start + max_answer_len, both ends in the context
    valid = torch.triu(torch.ones(n, n, dtype=torch.bool)) & ~torch.triu(
        torch.ones(n, n, dtype=torch.bool), diagonal=max_answer_len
    )
    valid &= in_context[:, None] & in_context[None, :]
    k = min(top_k, int(valid.sum()))
    best = torch.topk(scores.masked_fill(~valid, -1.0).flatten(), k)
    return [(i // n, i % n, s) for i, s in zip(best.indices.tolist(), best.values.tolist())]


def _char_span(chunk: dict[str, Any], start: int, end: int, align_to_words: bool) -> tuple[int, int]:
    """Characters of the context covered by tokens start..end (widened to the words they are part of)."""
    offsets = chunk["offsets"]
    first, last = offsets[start][0], offsets[end][1]
    if align_to_words:
        words, in_context = chunk["word_ids"], chunk["in_context"]

        def tokens_of(word: int) -> list[int]:
            return [t for t, w in enumerate(words) if w == word and in_context[t]]

        if words[start] is not None:
            first = offsets[tokens_of(words[start])[0]][0]
        if words[end] is not None:
            last = offsets[tokens_of(words[end])[-1]][1]
    return first, last


# -- inputs ------------------------------------------------------------------------------------------------
def _gather_inputs(args: tuple, question: Any, context: Any) -> Any:
    """The pipeline input(s) of the ways transformers 4 took them: one example dict, a list, or an iterable."""
    if question is not None or context is not None:
        if args:
            raise ValueError("give the inputs either positionally or as question=/context=, not both")
        if question is None or context is None:
            raise ValueError("question= and context= go together: give both")
        if isinstance(question, str) and isinstance(context, str):
            return {"question": question, "context": context}
        if isinstance(question, (list, tuple)) and isinstance(context, str):
            return [{"question": q, "context": context} for q in question]
        if isinstance(question, (list, tuple)) and isinstance(context, (list, tuple)):
            if len(question) != len(context):
                raise ValueError(
                    f"question= and context= lists are paired in order: got {len(question)} questions "
                    f"and {len(context)} contexts"
                )
            return [{"question": q, "context": c} for q, c in zip(question, context)]
        raise ValueError(
            "question= and context= take two texts, a list of questions with one context, or two lists of "
            f"the same length; got {type(question).__name__} and {type(context).__name__}"
        )
    if not args:
        raise ValueError(
            "question-answering needs an input: pipe(question=..., context=...), pipe(question, context), "
            'or {"question": ..., "context": ...} dicts'
        )
    if len(args) == 2 and all(isinstance(a, str) for a in args):
        return {"question": args[0], "context": args[1]}
    if len(args) == 1 and isinstance(args[0], str):
        raise TypeError(
            "question-answering needs a question and a context: pipe(question, context), "
            'pipe(question=..., context=...) or pipe({"question": ..., "context": ...})'
        )
    if len(args) == 1:
        return list(args[0]) if isinstance(args[0], tuple) else args[0]
    return list(args)


def _check_example(example: Any) -> tuple[str, str]:
    if not isinstance(example, dict):
        raise TypeError(
            'question-answering takes {"question": ..., "context": ...} dicts (or question=/context=); '
            f"got {type(example).__name__}"
        )
    missing = [k for k in ("question", "context") if k not in example]
    if missing:
        raise KeyError(f'an example is a dict {{"question": ..., "context": ...}}: {" and ".join(missing)} missing')
    for key in ("question", "context"):
        value = example[key]
        if not isinstance(value, str):
            raise TypeError(f"the {key} must be a str, got {type(value).__name__}")
        if not value.strip():
            raise ValueError(f"the {key} is empty: give a non-empty text")
    return example["question"], example["context"]


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value
