"""token-classification / ner: our pipeline's entities equal transformers' pipeline on the same saved folders."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch
import transformers

import ferroformers
from ferroformers import pipeline
from ferroformers.pipelines import AggregationStrategy, TokenClassificationPipeline

transformers.logging.set_verbosity_error()

LABELS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC", 5: "B-ORG", 6: "I-ORG"}
STRATEGIES = ["none", "simple", "first", "average", "max"]
SENTENCES = [
    "Élodie Dupont-Smith visited Zürich, paid $3.50 for café au lait in New York City yesterday.",
    "IBM and Microsoft Corp. hired 1,200 people in 2023! Did O'Neill (aged 42) sign?",
    "Angela Merkel traf Emmanuel Macron in Berlin, später fuhren sie nach Köln.",
    "Wałęsa spotkał się z prezydentem w Gdańsku; Łódź i Kraków 北京 🙂 też.",
    "",
]
# (tokenizer folder, model class, config class): WordPiece (cased and uncased) marks word continuations
# with "##"; the byte-level BPE does not, so transformers guesses words from the spaces around tokens.
MODELS = {
    "bert-cased": ("bert-cased-wordpiece", transformers.BertForTokenClassification, transformers.BertConfig),
    "bert-uncased": ("bert-uncased", transformers.BertForTokenClassification, transformers.BertConfig),
    "roberta": ("roberta-style-bpe", transformers.RobertaForTokenClassification, transformers.RobertaConfig),
}


def _save_tiny_model(folder: Path, tokenizers_dir: Path, name: str, labels: dict[int, str] = LABELS) -> Path:
    tokenizer_name, model_cls, config_cls = MODELS[name]
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / tokenizer_name)
    torch.manual_seed(0)
    extra = {}
    if model_cls is transformers.RobertaForTokenClassification:
        extra = {"max_position_embeddings": 514, "pad_token_id": tok.pad_token_id}
    config = config_cls(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
        **extra,
    )
    model = model_cls(config)
    with torch.no_grad():  # a random head is near-uniform: spread it so the labels vary and are not near ties
        model.classifier.weight.mul_(20)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", params=list(MODELS))
def model_dir(request, tmp_path_factory, tokenizers_dir) -> Path:
    return _save_tiny_model(tmp_path_factory.mktemp(request.param), tokenizers_dir, request.param)


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory, tokenizers_dir) -> Path:
    return _save_tiny_model(tmp_path_factory.mktemp("bert-cased"), tokenizers_dir, "bert-cased")


def _with_short_windows(folder: Path, target: Path, model_max_length: int = 16) -> Path:
    """A copy of a saved model whose tokenizer cuts at `model_max_length` tokens, so stride makes windows."""
    shutil.copytree(folder, target)
    config_path = target / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["model_max_length"] = model_max_length
    config_path.write_text(json.dumps(config))
    return target


def _assert_same_entities(ours, theirs, where=""):
    """Same labels, words, indices and spans (exactly, as Python ints/strs); scores within 1e-5 (ours floats)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), (where, ours, theirs)
        for key, value in theirs.items():
            if key == "score":
                assert type(ours[key]) is float and abs(ours[key] - float(value)) <= 1e-5, (where, ours, theirs)
            else:
                assert ours[key] == value and type(ours[key]) is type(value), (where, key, ours, theirs)
        return
    assert isinstance(ours, list) and len(ours) == len(theirs), (where, ours, theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        _assert_same_entities(a, b, f"{where}[{i}]")


# ---------------------------------------------------------------------------------------------- parity
def test_every_strategy_matches_transformers(model_dir, corpus_texts):
    ours = pipeline("token-classification", model=model_dir)
    theirs = transformers.pipeline("token-classification", model=str(model_dir), device="cpu")
    texts = corpus_texts("en", 3) + SENTENCES
    groups = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fallback-heuristic warning of the BPE model, from both sides
        for strategy in STRATEGIES:
            for ignore in (None, []):
                kwargs = {"aggregation_strategy": strategy}
                if ignore is not None:
                    kwargs["ignore_labels"] = ignore
                for text in SENTENCES:  # one text gives a list of dicts (the corpus texts go in the list below)
                    a = ours(text, **kwargs)
                    _assert_same_entities(a, theirs(text, **kwargs), f"{strategy} {ignore} {text[:20]!r}")
                    key = "entity" if strategy == "none" else "entity_group"
                    assert all(0 <= e["start"] <= e["end"] <= len(text) for e in a)  # spans of the text
                    if ignore is None:
                        assert all(e[key] != "O" for e in a)
                    if strategy == "simple" and ignore is None:
                        groups.update(e[key] for e in a)
                    if strategy == "none":
                        assert all(set(e) == {"entity", "score", "index", "word", "start", "end"} for e in a)
                    elif a:
                        assert set(a[0]) == {"entity_group", "score", "word", "start", "end"}
                _assert_same_entities(ours(texts, **kwargs), theirs(texts, **kwargs), f"list {strategy}")
    assert groups == {"PER", "LOC", "ORG"}  # the random model's labels vary: the comparison means something


def test_grouped_words_span_several_tokens(model_dir):
    # The strategies only differ when words have several tokens and groups several words: make sure they do.
    ours = pipeline("ner", model=model_dir)
    tokens = ours(SENTENCES[0], ignore_labels=[])
    simple = ours(SENTENCES[0], aggregation_strategy="simple", ignore_labels=[])
    first = ours(SENTENCES[0], aggregation_strategy="first", ignore_labels=[])
    assert len(first) < len(simple) < len(tokens)
    assert any(" " in e["word"].strip() for e in simple + first)  # some groups join several words
    results = {s: ours(SENTENCES[:2], aggregation_strategy=s) for s in STRATEGIES[1:]}
    assert len({json.dumps(r) for r in results.values()}) > 1


def test_strategy_names_in_any_case_and_as_enums(bert_dir):
    ours = pipeline("ner", model=bert_dir)
    expected = ours(SENTENCES[0], aggregation_strategy="average")
    assert ours(SENTENCES[0], aggregation_strategy="AVERAGE") == expected
    assert ours(SENTENCES[0], aggregation_strategy="Average") == expected
    assert ours(SENTENCES[0], aggregation_strategy=AggregationStrategy.AVERAGE) == expected
    assert ours(SENTENCES[0], aggregation_strategy=transformers.pipelines.AggregationStrategy.AVERAGE) == expected
    default = pipeline("ner", model=bert_dir, aggregation_strategy="average")  # construction sets the default
    assert default(SENTENCES[0]) == expected
    assert default(SENTENCES[0], aggregation_strategy="none") == ours(SENTENCES[0])


def test_batched_equals_one_by_one(model_dir, corpus_texts):
    texts = corpus_texts("en", 6) + SENTENCES
    plain = pipeline("ner", model=model_dir)
    batched = pipeline("ner", model=model_dir, batch_size=4)
    theirs = transformers.pipeline("ner", model=str(model_dir), device="cpu")
    for strategy in ("none", "simple", "max"):
        one_by_one = [plain(t, aggregation_strategy=strategy) for t in texts]
        _assert_same_entities(batched(texts, aggregation_strategy=strategy), one_by_one, strategy)
        _assert_same_entities(plain(texts, batch_size=3, aggregation_strategy=strategy), one_by_one, strategy)
        _assert_same_entities(
            batched(texts, aggregation_strategy=strategy), theirs(texts, batch_size=4, aggregation_strategy=strategy)
        )
    lazy = plain(iter(texts[:3]), batch_size=2)  # a generator gives an iterator of results
    assert not isinstance(lazy, list)
    _assert_same_entities(list(lazy), [plain(t) for t in texts[:3]])


def test_architecture_infers_the_task(bert_dir):
    ours = pipeline(model=bert_dir)
    assert isinstance(ours, TokenClassificationPipeline) and ours.task == "token-classification"
    model = ferroformers.AutoModelForTokenClassification.from_pretrained(bert_dir)
    from_instance = pipeline(model=model)
    assert from_instance.task == "token-classification"
    assert from_instance(SENTENCES[0]) == ours(SENTENCES[0]) != []


def test_labels_without_bio_prefixes(tmp_path, tokenizers_dir):
    # Labels without B-/I- continue the previous group of the same type; "E-MISC" is its own type for
    # grouping but its group is named after the part behind the first "-" (as transformers does).
    labels = {0: "O", 1: "PER", 2: "LOC", 3: "E-MISC", 4: "B-ORG", 5: "I-ORG", 6: "MISC"}
    folder = _save_tiny_model(tmp_path / "plain-labels", tokenizers_dir, "bert-cased", labels)
    ours = pipeline("ner", model=folder)
    theirs = transformers.pipeline("ner", model=str(folder), device="cpu")
    for strategy in ("simple", "first"):
        a = ours(SENTENCES, aggregation_strategy=strategy)
        _assert_same_entities(a, theirs(SENTENCES, aggregation_strategy=strategy), strategy)
        assert {"PER", "LOC", "MISC"} <= {e["entity_group"] for entities in a for e in entities}


# ------------------------------------------------------------------------------------------- long texts
def test_stride_windows_match_transformers(model_dir, tmp_path):
    short = _with_short_windows(model_dir, tmp_path / "short")
    ours = pipeline("ner", model=short)
    theirs = transformers.pipeline("ner", model=str(short), device="cpu")
    texts = SENTENCES[:4]  # 16-token windows: 5 to 10 windows per text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole_end = 0
        for strategy in STRATEGIES[1:]:
            for stride in (0, 5):
                kwargs = {"aggregation_strategy": strategy, "stride": stride}
                a = ours(texts, **kwargs)
                _assert_same_entities(a, theirs(texts, **kwargs), f"{strategy} stride={stride}")
                _assert_same_entities(ours(texts, batch_size=4, **kwargs), a)
                ends = [e["end"] for e in a[0]]
                assert ends == sorted(ends)
                whole_end = max(whole_end, max(ends))
        assert whole_end > len(SENTENCES[0]) - 5  # windows cover the whole text, not only its first 16 tokens
        # Without stride the text is cut at model_max_length tokens, as transformers does.
        truncated = ours(SENTENCES[0], aggregation_strategy="simple")
        _assert_same_entities(truncated, theirs(SENTENCES[0], aggregation_strategy="simple"))
        assert max(e["end"] for e in truncated) < whole_end - 20
        # stride with the default strategy "none" runs in transformers too (token dicts of all windows)
        _assert_same_entities(ours(SENTENCES[0], stride=4), theirs(SENTENCES[0], stride=4))


def test_stride_errors(bert_dir, tmp_path):
    short = _with_short_windows(bert_dir, tmp_path / "short")
    ours = pipeline("ner", model=short)
    with pytest.raises(ValueError, match='aggregation_strategy other than "none"'):
        ours(SENTENCES[0], stride=4, aggregation_strategy="none")
    with pytest.raises(ValueError, match="aggregation_strategy other than"):
        pipeline("ner", model=short, stride=4, aggregation_strategy="NONE")
    with pytest.raises(ValueError, match="less than tokenizer.model_max_length"):
        ours(SENTENCES[0], stride=16, aggregation_strategy="simple")
    with pytest.raises(ValueError, match="non-negative int"):
        ours(SENTENCES[0], stride=-1, aggregation_strategy="simple")
    with pytest.raises(ferroformers.TokenizationError, match="stride"):
        ours(SENTENCES[0], stride=14, aggregation_strategy="simple")  # 16 minus [CLS] and [SEP] leaves 14


# --------------------------------------------------------------------------------- words and offsets
def test_split_into_words_matches_transformers(model_dir):
    ours = pipeline("ner", model=model_dir)
    theirs = transformers.pipeline("ner", model=str(model_dir), device="cpu")
    words = [s.split() for s in SENTENCES[:4]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for strategy in STRATEGIES:
            kwargs = {"aggregation_strategy": strategy, "is_split_into_words": True}
            single = ours(words[0], **kwargs)
            # transformers gives a one-element list for one list of words
            assert isinstance(single, list) and len(single) == 1 and isinstance(single[0], list)
            _assert_same_entities(single, theirs(words[0], **kwargs), strategy)
            _assert_same_entities(ours(words, **kwargs), theirs(words, **kwargs), strategy)
            joined = "--".join(words[1])
            dashed = ours(words[1], delimiter="--", **kwargs)
            _assert_same_entities(dashed, theirs(words[1], delimiter="--", **kwargs), f"{strategy} --")
            assert all(joined[e["start"] : e["end"]] for e in dashed[0])
    defaults = pipeline("ner", model=model_dir, is_split_into_words=True, aggregation_strategy="first")
    assert defaults(words) == ours(words, is_split_into_words=True, aggregation_strategy="first")


def test_given_offset_mapping(bert_dir):
    ours = pipeline("ner", model=bert_dir)
    theirs = transformers.pipeline("ner", model=str(bert_dir), device="cpu")
    tok = transformers.AutoTokenizer.from_pretrained(str(bert_dir))
    offsets = [[tuple(pair) for pair in tok(s, return_offsets_mapping=True)["offset_mapping"]] for s in SENTENCES]
    # Spans moved one character right: the reported starts, ends and unknown-token words follow them.
    moved = [(a + 1, b + 1) if b else (a, b) for a, b in offsets[0]]
    for strategy in ("none", "simple", "first"):
        a = ours(SENTENCES[0], offset_mapping=moved, aggregation_strategy=strategy)
        _assert_same_entities(a, theirs(SENTENCES[0], offset_mapping=moved, aggregation_strategy=strategy))
        assert a != ours(SENTENCES[0], aggregation_strategy=strategy)
    # Several inputs take one offsets list each (transformers would apply the first list to every input).
    _assert_same_entities(
        ours(SENTENCES, offset_mapping=offsets), [theirs(s, offset_mapping=o) for s, o in zip(SENTENCES, offsets)]
    )
    with pytest.raises(ValueError, match="2 entries for 5 inputs"):
        ours(SENTENCES, offset_mapping=offsets[:2])
    with pytest.raises(ValueError, match="one pair per token"):
        ours(SENTENCES[0], offset_mapping=offsets[0][:5])
    with pytest.raises(ValueError, match="give it when calling"):
        pipeline("ner", model=bert_dir, offset_mapping=offsets[0])


# ---------------------------------------------------------------------------------------------- errors
def test_bad_calls_raise_clear_errors(bert_dir):
    ours = pipeline("ner", model=bert_dir)
    with pytest.raises(ValueError, match="none, simple, first, average, max.*'foo'"):
        ours(SENTENCES[0], aggregation_strategy="foo")
    with pytest.raises(ValueError, match="aggregation_strategy must be one of"):
        pipeline("ner", model=bert_dir, aggregation_strategy=3)
    with pytest.raises(ValueError, match="list of labels"):
        ours(SENTENCES[0], ignore_labels="O")
    with pytest.raises(ValueError, match="at least one input"):
        ours([])
    with pytest.raises(TypeError, match="takes a text or a list of texts"):
        ours(42)
    with pytest.raises(TypeError, match="list of words"):
        ours([SENTENCES[0], 3], is_split_into_words=True)
    with pytest.raises(TypeError, match="'top_k'"):
        ours(SENTENCES[0], top_k=3)
    assert ours(SENTENCES[0], ignore_labels=["B-PER", "I-PER", "O"]) == [
        e for e in ours(SENTENCES[0]) if e["entity"] not in ("B-PER", "I-PER")
    ]
