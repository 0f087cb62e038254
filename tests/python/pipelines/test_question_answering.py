"""question-answering: transformers 4's extractive QA pipeline (transformers 5 has none to compare with).

So the answers are checked three ways: on "wired" tiny BERTs whose start/end logits are forced high on known
tokens (the answer, its characters and its chunk are known by hand); against an independent, deliberately
plain computation from transformers' own `*ForQuestionAnswering` logits on the same saved folder; and
batched against one by one.
"""

from __future__ import annotations

import math
from pathlib import Path

import datasets
import pytest
import torch
import transformers

import ferroformers
from ferroformers import pipeline
from ferroformers.pipelines import QuestionAnsweringPipeline

QUESTION = "Who played which instrument?"
PLANTED = "penguin played the cello"  # the wired model starts answers at "penguin" and ends them at "cello"


def _tiny_config(kind: str, vocab_size: int, **extra):
    if kind == "distilbert":
        return transformers.DistilBertConfig(
            vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=37, **extra
        )
    config_cls = transformers.RobertaConfig if kind == "roberta" else transformers.BertConfig
    return config_cls(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        **extra,
    )


_MODEL_CLASSES = {
    "bert": transformers.BertForQuestionAnswering,
    "distilbert": transformers.DistilBertForQuestionAnswering,
    "roberta": transformers.RobertaForQuestionAnswering,
}
_TOKENIZERS = {"bert": "bert-uncased", "distilbert": "bert-uncased", "roberta": "roberta-style-bpe"}


@pytest.fixture(scope="module")
def random_dirs(tmp_path_factory, tokenizers_dir) -> dict[str, Path]:
    """Tiny random QA models (random start/end logits that depend on the whole chunk), one per architecture."""
    dirs = {}
    for seed, (kind, model_cls) in enumerate(_MODEL_CLASSES.items()):
        folder = tmp_path_factory.mktemp(f"tiny-{kind}-qa")
        tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / _TOKENIZERS[kind])
        extra = {"pad_token_id": tok.pad_token_id} if kind == "roberta" else {}
        torch.manual_seed(seed)
        model = model_cls(_tiny_config(kind, len(tok), **extra))
        with torch.no_grad():  # spread the logits: clear winners, no near-ties between spans
            model.qa_outputs.weight.mul_(30)
        model.save_pretrained(folder)
        tok.save_pretrained(folder)
        dirs[kind] = folder
    return dirs


def _wired_bert(folder: Path, tokenizers_dir: Path, start_token: str, end_token: str, strength: float) -> Path:
    """A BERT whose start logit is high exactly on `start_token` and end logit exactly on `end_token`.

    The encoder layers add nothing (their output projections are zero), so each position's last hidden
    state is the layer-normed sum of its embeddings. Hidden dimension 0 is zero in every embedding except
    the word embedding of `start_token`, dimension 1 likewise for `end_token`, and `qa_outputs` reads the
    start logit from dimension 0 and the end logit from dimension 1.
    """
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    torch.manual_seed(0)
    model = transformers.BertForQuestionAnswering(_tiny_config("bert", len(tok)))
    with torch.no_grad():
        for layer in model.bert.encoder.layer:
            for dense in (layer.attention.output.dense, layer.output.dense):
                dense.weight.zero_()
                dense.bias.zero_()
        embeddings = model.bert.embeddings
        for table in (embeddings.word_embeddings, embeddings.position_embeddings, embeddings.token_type_embeddings):
            table.weight[:, :2] = 0
        embeddings.word_embeddings.weight[tok.convert_tokens_to_ids(start_token), 0] = 4.0
        embeddings.word_embeddings.weight[tok.convert_tokens_to_ids(end_token), 1] = 4.0
        model.qa_outputs.weight.zero_()
        model.qa_outputs.bias.zero_()
        model.qa_outputs.weight[0, 0] = strength
        model.qa_outputs.weight[1, 1] = strength
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def wired_dir(tmp_path_factory, tokenizers_dir) -> Path:
    """Starts at "penguin", ends at "cello", strongly (the planted span takes almost all the probability)."""
    return _wired_bert(tmp_path_factory.mktemp("wired"), tokenizers_dir, "penguin", "cello", strength=8.0)


@pytest.fixture(scope="module")
def mild_wired_dir(tmp_path_factory, tokenizers_dir) -> Path:
    """The same wiring, weaker: the planted span wins, but other spans keep visible probabilities."""
    return _wired_bert(tmp_path_factory.mktemp("wired-mild"), tokenizers_dir, "penguin", "cello", strength=1.2)


@pytest.fixture(scope="module")
def long_context(corpus_texts) -> str:
    """Real text of several hundred tokens: the longer paragraphs of the corpus, joined."""
    context = "\n\n".join([p for p in corpus_texts("en", 300) if len(p) > 800][:3])
    assert len(context) > 2500
    assert "penguin" not in context.lower() and "cello" not in context.lower()
    return context


def _plant(context: str, sentence: str, at: float) -> tuple[str, int]:
    """`sentence` inserted after the first sentence end past fraction `at` of the context; returns the new
    context and the index where the sentence starts."""
    cut = context.index(". ", int(len(context) * at)) + 2
    return context[:cut] + sentence + " " + context[cut:], cut


def _chunks_holding(chunks: list[dict], first: int, last: int) -> list[int]:
    """Indices of the chunks whose context tokens include the one starting at character `first` and the
    one ending at character `last`."""
    return [
        i
        for i, chunk in enumerate(chunks)
        if any(o[0] == first and ok for o, ok in zip(chunk["offsets"], chunk["in_context"]))
        and any(o[1] == last and ok for o, ok in zip(chunk["offsets"], chunk["in_context"]))
    ]


# ------------------------------------------------------------------------------------- the independent oracle
def _reference_answers(
    folder: Path,
    kind: str,
    question: str,
    context: str,
    top_k: int = 1,
    max_seq_len: int = 384,
    doc_stride: int = 128,
    max_answer_len: int = 15,
    handle_impossible_answer: bool = False,
    align_to_words: bool = True,
):
    """transformers 4's answers, computed plainly: transformers' tokenizer and model on each chunk, float64
    softmax over the context tokens and [CLS], every allowed span scored in a double loop."""
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    model = _MODEL_CLASSES[kind].from_pretrained(folder).eval()
    enc = tok(
        question,
        context,
        truncation="only_second",
        max_length=max_seq_len,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    answers: list[dict] = []
    null_score = 1.0
    for i, ids in enumerate(enc["input_ids"]):
        inputs = {"input_ids": torch.tensor([ids]), "attention_mask": torch.tensor([enc["attention_mask"][i]])}
        if kind == "bert":
            inputs["token_type_ids"] = torch.tensor([enc["token_type_ids"][i]])
        with torch.no_grad():
            out = model(**inputs)
        start_logits, end_logits = out.start_logits[0].double().tolist(), out.end_logits[0].double().tolist()
        context_tokens = [t for t, s in enumerate(enc.sequence_ids(i)) if s == 1]
        cls = ids.index(tok.cls_token_id)
        candidates = [cls, *context_tokens]  # the softmax runs over the context and [CLS]
        p_start, p_end = _softmax_over(start_logits, candidates), _softmax_over(end_logits, candidates)
        null_score = min(null_score, p_start[cls] * p_end[cls])
        spans = [
            (p_start[s] * p_end[e], s, e) for s in context_tokens for e in context_tokens if s <= e < s + max_answer_len
        ]
        spans.sort(key=lambda span: -span[0])
        for score, s, e in spans[:top_k]:
            if align_to_words:
                first = enc.word_to_chars(i, enc.token_to_word(i, s), sequence_index=1).start
                last = enc.word_to_chars(i, enc.token_to_word(i, e), sequence_index=1).end
            else:
                first, last = enc["offset_mapping"][i][s][0], enc["offset_mapping"][i][e][1]
            text = context[first:last]
            same = [a for a in answers if a["answer"].lower() == text.lower()]
            if same:
                same[0]["score"] += score
            else:
                answers.append({"score": score, "start": first, "end": last, "answer": text})
    if handle_impossible_answer:
        answers.append({"score": null_score, "start": 0, "end": 0, "answer": ""})
    answers = sorted(answers, key=lambda a: -a["score"])[:top_k]
    return answers[0] if len(answers) == 1 else answers


def _softmax_over(logits: list[float], positions: list[int]) -> dict[int, float]:
    top = max(logits[t] for t in positions)
    exps = {t: math.exp(logits[t] - top) for t in positions}
    total = sum(exps.values())
    return {t: v / total for t, v in exps.items()}


def _assert_answers_equal(ours, theirs):
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), (ours, theirs)
        assert (ours["answer"], ours["start"], ours["end"]) == (theirs["answer"], theirs["start"], theirs["end"])
        assert abs(ours["score"] - theirs["score"]) <= 1e-5, (ours, theirs)
        return
    assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs):
        _assert_answers_equal(a, b)


# ----------------------------------------------------------------------------------------- a) a known answer
def test_wired_model_finds_the_planted_span(wired_dir):
    qa = pipeline("question-answering", model=wired_dir)
    context = "At noon the penguin played the cello loudly."
    result = qa(question=QUESTION, context=context)
    # "At noon the " is 12 characters; "penguin played the cello" is 24.
    assert result["answer"] == PLANTED
    assert (result["start"], result["end"]) == (12, 36)
    assert context[result["start"] : result["end"]] == result["answer"]
    assert 0.99 < result["score"] <= 1.0
    assert set(result) == {"score", "start", "end", "answer"}
    assert isinstance(result["score"], float) and isinstance(result["start"], int)


def test_task_inferred_and_model_instance(wired_dir):
    qa = pipeline(model=wired_dir)  # BertForQuestionAnswering in config.architectures
    assert isinstance(qa, QuestionAnsweringPipeline) and qa.task == "question-answering"
    model = ferroformers.AutoModelForQuestionAnswering.from_pretrained(wired_dir)
    from_instance = pipeline(model=model)
    context = "Yesterday a penguin played the cello."
    assert from_instance(QUESTION, context) == qa(QUESTION, context)
    assert qa(QUESTION, context)["start"] == context.index("penguin")


# ------------------------------------------------------------------------------------- b) long contexts
def test_answer_in_a_later_chunk_of_a_long_context(wired_dir, long_context):
    context, at = _plant(long_context, f"The {PLANTED}.", at=0.75)
    # An overlap of 3 tokens: a 4-token span lies whole in exactly one chunk.
    qa = pipeline("question-answering", model=wired_dir, max_seq_len=64, doc_stride=3)
    chunks = qa.preprocess({"question": QUESTION, "context": context}, max_seq_len=64, doc_stride=3)
    assert len(chunks) > 10
    assert all(chunk["input_ids"].shape[1] <= 64 for chunk in chunks)
    holding = _chunks_holding(chunks, at + 4, at + 4 + len(PLANTED))
    assert len(holding) == 1 and holding[0] > len(chunks) // 2  # only one late chunk sees the answer

    result = qa(question=QUESTION, context=context)
    assert result["answer"] == PLANTED
    assert (result["start"], result["end"]) == (at + 4, at + 4 + len(PLANTED))
    assert 0.99 < result["score"] <= 1.0


def test_max_seq_len_is_capped_by_the_model(wired_dir, long_context):
    qa = pipeline("question-answering", model=wired_dir)
    example = {"question": QUESTION, "context": long_context}
    assert max(c["input_ids"].shape[1] for c in qa.preprocess(example)) == 384  # the default
    qa.model.config.max_position_embeddings = 100  # as a model with a 100-position table
    lengths = [c["input_ids"].shape[1] for c in qa.preprocess(example)]
    assert max(lengths) == 100 and len(lengths) > 5
    with pytest.raises(ValueError, match="longer than the model takes .100 tokens"):
        qa.preprocess(example, max_seq_len=101)


def test_top_k_gives_sorted_distinct_answers(mild_wired_dir, long_context):
    context, _ = _plant(long_context, f"The {PLANTED}.", at=0.2)
    context, _ = _plant(context, "A penguin never tuned its cello.", at=0.8)
    qa = pipeline("question-answering", model=mild_wired_dir)
    results = qa(question=QUESTION, context=context, top_k=6, max_seq_len=96, doc_stride=24)
    assert isinstance(results, list) and len(results) == 6
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 6
    assert len({r["answer"].lower() for r in results}) == 6
    for r in results:
        assert context[r["start"] : r["end"]] == r["answer"]
    assert {results[0]["answer"], results[1]["answer"]} == {PLANTED, "penguin never tuned its cello"}
    theirs = _reference_answers(mild_wired_dir, "bert", QUESTION, context, top_k=6, max_seq_len=96, doc_stride=24)
    _assert_answers_equal(results, theirs)


def test_span_seen_by_several_chunks_sums_its_scores(wired_dir, long_context):
    # With a wide stride the planted span lies whole in several overlapping chunks, each nearly sure of it;
    # transformers 4 merges answers of equal text by adding their scores, so the score is about that count.
    context, at = _plant(long_context, f"The {PLANTED}.", at=0.3)
    qa = pipeline("question-answering", model=wired_dir)
    chunks = qa.preprocess({"question": QUESTION, "context": context}, max_seq_len=64, doc_stride=40)
    holding = _chunks_holding(chunks, at + 4, at + 4 + len(PLANTED))
    assert len(holding) >= 2
    result = qa(question=QUESTION, context=context, max_seq_len=64, doc_stride=40)
    assert result["answer"] == PLANTED and result["start"] == at + 4
    assert len(holding) - 0.01 * len(holding) < result["score"] <= len(holding)


# ------------------------------------------------------------------------- c) parity with the plain oracle
@pytest.mark.parametrize("kind", ["bert", "distilbert", "roberta"])
def test_matches_independent_computation(random_dirs, kind, long_context):
    folder = random_dirs[kind]
    qa = pipeline("question-answering", model=folder)
    short = "The committee met on Tuesday, and after a long debate it approved the new budget for schools."
    cases = [
        (short, {}),
        (short, {"top_k": 5}),
        (short, {"top_k": 3, "max_answer_len": 2, "align_to_words": False}),
        (short, {"top_k": 2, "handle_impossible_answer": True}),
        (long_context[:2500], {"top_k": 4, "max_seq_len": 64, "doc_stride": 20}),
        (long_context[:2500], {"max_seq_len": 128, "doc_stride": 50, "align_to_words": False}),
        (long_context[:2500], {"top_k": 3, "max_seq_len": 96, "doc_stride": 30, "handle_impossible_answer": True}),
    ]
    for context, params in cases:
        ours = qa(question="What did they approve?", context=context, **params)
        theirs = _reference_answers(folder, kind, "What did they approve?", context, **params)
        _assert_answers_equal(ours, theirs)


# ------------------------------------------------------------------------------------ d) the parameters
def test_handle_impossible_answer(tmp_path, tokenizers_dir, long_context):
    # Wired to [CLS]: the "no answer" position takes nearly all the start and end probability.
    folder = _wired_bert(tmp_path, tokenizers_dir, "[CLS]", "[CLS]", strength=3.0)
    qa = pipeline("question-answering", model=folder)
    context = "The committee met on Tuesday and approved the budget."
    null = qa(question=QUESTION, context=context, handle_impossible_answer=True)
    assert (null["answer"], null["start"], null["end"]) == ("", 0, 0)
    assert 0.5 < null["score"] <= 1.0
    _assert_answers_equal(null, _reference_answers(folder, "bert", QUESTION, context, handle_impossible_answer=True))
    best = qa(question=QUESTION, context=context)
    assert best["answer"] and context[best["start"] : best["end"]] == best["answer"]
    assert best["score"] < null["score"]
    _assert_answers_equal(best, _reference_answers(folder, "bert", QUESTION, context))
    both = qa(question=QUESTION, context=context, handle_impossible_answer=True, top_k=2)
    assert [a["answer"] for a in both] == ["", best["answer"]]
    # Over several chunks the least confident chunk sets the "no answer" score (the shorter last chunk
    # gives [CLS] more probability than the full ones).
    params = {"handle_impossible_answer": True, "top_k": 3, "max_seq_len": 64, "doc_stride": 16}
    several = qa(question=QUESTION, context=long_context[:1000], **params)
    assert several[0]["answer"] == ""
    _assert_answers_equal(several, _reference_answers(folder, "bert", QUESTION, long_context[:1000], **params))


def test_max_answer_len_limits_the_span(mild_wired_dir):
    qa = pipeline("question-answering", model=mild_wired_dir)
    context = "At noon the penguin played the cello loudly."
    assert qa(question=QUESTION, context=context)["answer"] == PLANTED  # 4 tokens
    short = qa(question=QUESTION, context=context, max_answer_len=3, top_k=5)
    assert all(len(qa.tokenizer.tokenize(a["answer"])) <= 3 for a in short)
    assert PLANTED not in [a["answer"] for a in short]
    _assert_answers_equal(
        short, _reference_answers(mild_wired_dir, "bert", QUESTION, context, max_answer_len=3, top_k=5)
    )


def test_align_to_words(tmp_path, tokenizers_dir):
    # Start wired to "##bel", a piece inside "unbelievably"; the end to "simple".
    folder = _wired_bert(tmp_path, tokenizers_dir, "##bel", "simple", strength=8.0)
    qa = pipeline("question-answering", model=folder)
    context = "That was unbelievably simple to do."
    assert qa.tokenizer.tokenize(context)[2:4] == ["un", "##bel"]
    whole = qa(question="How was it?", context=context)
    assert (whole["answer"], whole["start"], whole["end"]) == ("unbelievably simple", 9, 28)
    pieces = qa(question="How was it?", context=context, align_to_words=False)
    assert (pieces["answer"], pieces["start"], pieces["end"]) == ("believably simple", 11, 28)


def test_max_question_len_cuts_the_question(wired_dir):
    qa = pipeline("question-answering", model=wired_dir)
    question = " ".join(["which"] * 100) + " instrument?"
    example = {"question": question, "context": "At noon the penguin played the cello loudly."}
    for limit, expected in ((None, 64), (8, 8)):
        params = {} if limit is None else {"max_question_len": limit}
        (chunk,) = qa.preprocess(example, **params)
        questions_tokens = chunk["token_type_ids"][0].tolist().count(0) - 2  # [CLS] and the first [SEP]
        assert questions_tokens == expected
    assert qa(example, max_question_len=8)["answer"] == PLANTED


def test_batched_equals_one_by_one(random_dirs, long_context):
    examples = [
        {"question": "What did they approve?", "context": long_context[:1800]},
        {"question": "Who?", "context": "The committee met on Tuesday and approved the budget."},
        {"question": "When was the meeting held by the committee?", "context": long_context[500:1400]},
        {"question": "Why?", "context": long_context[2000:2600]},
        {"question": "How?", "context": "Short."},
    ]
    for kind in ("bert", "distilbert"):
        qa = pipeline("question-answering", model=random_dirs[kind], max_seq_len=80, doc_stride=24, top_k=3)
        one_by_one = [qa(example) for example in examples]
        batched = qa(examples, batch_size=4)
        assert len(batched) == len(examples)
        for ours, single in zip(batched, one_by_one):
            _assert_answers_equal(ours, single)
        constructed = pipeline("question-answering", model=random_dirs[kind], batch_size=4, top_k=3)
        _assert_answers_equal(constructed(examples, max_seq_len=80, doc_stride=24), one_by_one)


def test_left_padding_tokenizer_puts_the_context_first(wired_dir, long_context):
    qa = pipeline("question-answering", model=wired_dir)
    qa.tokenizer.padding_side = "left"
    context, at = _plant(long_context[:1500], f"The {PLANTED}.", at=0.6)
    (first, *_) = qa.preprocess({"question": QUESTION, "context": context}, max_seq_len=64, doc_stride=16)
    assert first["in_context"][1] and not first["in_context"][-2]  # context, then the question
    examples = [{"question": QUESTION, "context": context}, {"question": "Who?", "context": f"A {PLANTED}."}]
    one_by_one = [qa(example, max_seq_len=64, doc_stride=16) for example in examples]
    assert (one_by_one[0]["answer"], one_by_one[0]["start"]) == (PLANTED, at + 4)
    assert (one_by_one[1]["answer"], one_by_one[1]["start"]) == (PLANTED, 2)
    _assert_answers_equal(qa(examples, max_seq_len=64, doc_stride=16, batch_size=4), one_by_one)


def test_input_forms(wired_dir):
    qa = pipeline("question-answering", model=wired_dir)
    contexts = ["Today a penguin played the cello.", "The penguin played the cello at dawn.", "Penguin, cello."]
    questions = [QUESTION, "Who plays?", "What?"]
    expected = [qa({"question": q, "context": c}) for q, c in zip(questions, contexts)]
    assert [e["start"] for e in expected] == [8, 4, 0]
    assert qa(question=questions[0], context=contexts[0]) == expected[0]
    assert qa(questions[0], contexts[0]) == expected[0]
    assert qa([{"question": q, "context": c} for q, c in zip(questions, contexts)]) == expected
    assert qa(question=questions, context=contexts) == expected
    # transformers 4 gave a lone example's answer unwrapped, even from a list
    assert qa([{"question": questions[1], "context": contexts[1]}]) == expected[1]
    assert qa(question=questions, context=contexts[0]) == [qa(question=q, context=contexts[0]) for q in questions]
    lazy = qa({"question": q, "context": c} for q, c in zip(questions, contexts))
    assert not isinstance(lazy, list) and list(lazy) == expected
    # SQuAD-like rows of a dataset: the other columns are ignored
    rows = datasets.Dataset.from_list(
        [
            {"id": str(i), "question": q, "context": c, "answers": {"text": ["x"]}}
            for i, (q, c) in enumerate(zip(questions, contexts))
        ]
    )
    assert list(qa(rows, batch_size=2)) == expected
    with pytest.warns(FutureWarning, match="top_k"):
        old_name = qa(question=questions[1], context=contexts[1], topk=2)
    assert old_name == qa(question=questions[1], context=contexts[1], top_k=2) and len(old_name) == 2


def test_bad_inputs_are_explained(wired_dir):
    qa = pipeline("question-answering", model=wired_dir)
    context = "At noon the penguin played the cello loudly."
    with pytest.raises(ValueError, match="question is empty"):
        qa(question="", context=context)
    with pytest.raises(ValueError, match="context is empty"):
        qa(question=QUESTION, context="   ")
    with pytest.raises(ValueError, match="has no tokens"):
        qa(question=QUESTION, context="\x00\x01")
    with pytest.raises(KeyError, match="context missing"):
        qa({"question": QUESTION})
    with pytest.raises(KeyError, match="question and context missing"):
        qa([{"text": context}])
    with pytest.raises(TypeError, match="needs a question and a context"):
        qa("just a text")
    with pytest.raises(TypeError, match="context must be a str"):
        qa({"question": QUESTION, "context": 3})
    with pytest.raises(TypeError, match="takes"):
        qa(["just a text"])
    with pytest.raises(ValueError, match="2 questions and 1 contexts"):
        qa(question=[QUESTION, QUESTION], context=[context])
    with pytest.raises(ValueError, match="give both"):
        qa(question=QUESTION)
    with pytest.raises(ValueError, match="needs an input"):
        qa()
    with pytest.raises(ValueError, match=r"doc_stride=40 must be smaller .* minus 7 question and special tokens = 25"):
        qa(question=QUESTION, context=context, max_seq_len=32, doc_stride=40)
    with pytest.raises(ValueError, match="no room for the context"):
        qa(question=" ".join(["which"] * 40), context=context, max_seq_len=32, max_question_len=40)
    with pytest.raises(ValueError, match="longer than the model takes"):
        qa(question=QUESTION, context=context, max_seq_len=1000)
    with pytest.raises(ValueError, match="top_k must be an int >= 1"):
        qa(question=QUESTION, context=context, top_k=0)
    with pytest.raises(ValueError, match="max_answer_len must be an int >= 1"):
        qa(question=QUESTION, context=context, max_answer_len=0)
    with pytest.raises(TypeError, match="'max_length'"):
        qa(question=QUESTION, context=context, max_length=10)
