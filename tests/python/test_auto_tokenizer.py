"""AutoTokenizer / PreTrainedTokenizerFast against transformers on the shared tokenizers and corpus."""

from __future__ import annotations

import json
import os
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
import transformers

import ferroformers
from ferroformers import AutoTokenizer, FerroformersError, InvalidTokenIdError, TokenizationError, TokenizerFileError

SHARED = Path(os.environ.get("FERRO_SHARED") or Path(__file__).resolve().parents[2] / ".." / "shared").resolve()
NAMES = ["gpt2", "bert-uncased", "bert-cased-wordpiece", "roberta-style-bpe", "llama-style-bpe", "t5-style-unigram"]

transformers.logging.set_verbosity_error()


def corpus_sample(per_file: int = 25, seed: int = 3) -> list[str]:
    rnd = random.Random(seed)
    texts = []
    for path in sorted((SHARED / "corpus").glob("*.txt")):
        paragraphs = [p for p in path.read_text(encoding="utf-8").split("\n\n") if p]
        texts += rnd.sample(paragraphs, min(per_file, len(paragraphs)))
    return texts + ["", " ", "Hello  world", "a" * 700, "<s> [CLS] <|endoftext|> </s> inline", "e\u0301 ﬁ ½ 😀 中文"]


TEXTS = corpus_sample()


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    folder = SHARED / "tokenizers" / request.param
    ref = transformers.AutoTokenizer.from_pretrained(str(folder))
    ours = AutoTokenizer.from_pretrained(folder)
    if ref.pad_token is None:
        ref.pad_token = ref.eos_token
        ours.pad_token = ours.eos_token
    return request.param, ours, ref


def plain(value):
    """Lists all the way down (tuples of offsets become lists; arrays stay arrays)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def same(a, b) -> bool:
    if set(a.keys()) != set(b.keys()):
        return False
    for k in b.keys():
        x, y = a[k], b[k]
        if hasattr(y, "shape") or hasattr(x, "shape"):
            x, y = np.asarray(x), np.asarray(y)
            if x.shape != y.shape or not (x == y).all():
                return False
        elif plain(x) != plain(y):
            return False
    return True


def test_backend_matches_what_transformers_builds(pair):
    name, ours, ref = pair
    a, b = json.loads(ours.backend_tokenizer.to_str()), json.loads(ref.backend_tokenizer.to_str())
    for key in ("normalizer", "pre_tokenizer", "decoder", "post_processor", "added_tokens"):
        assert a[key] == b[key], f"{name}: {key}"
    assert {k: v for k, v in a["model"].items() if k not in ("vocab", "merges")} == {
        k: v for k, v in b["model"].items() if k not in ("vocab", "merges")
    }


def test_special_tokens_and_attributes(pair):
    name, ours, ref = pair
    for attr in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"):
        assert getattr(ours, attr) == getattr(ref, attr), attr
        assert getattr(ours, attr + "_id") == getattr(ref, attr + "_id"), attr + "_id"
    assert ours.all_special_tokens == ref.all_special_tokens
    assert ours.all_special_ids == ref.all_special_ids
    assert ours.special_tokens_map == {k: str(v) for k, v in ref.special_tokens_map.items()}
    assert ours.model_input_names == ref.model_input_names
    assert (ours.padding_side, ours.truncation_side) == (ref.padding_side, ref.truncation_side)
    assert ours.model_max_length == ref.model_max_length
    assert (len(ours), ours.vocab_size) == (len(ref), ref.vocab_size)
    assert ours.get_vocab() == ref.get_vocab()
    assert ours.clean_up_tokenization_spaces == ref.clean_up_tokenization_spaces


CALL_OPTIONS = [
    dict(),
    dict(add_special_tokens=False),
    dict(truncation=True, max_length=16),
    dict(truncation="only_first", max_length=24, stride=4, return_overflowing_tokens=True),
    dict(max_length=20),
    dict(return_special_tokens_mask=True, return_offsets_mapping=True, return_length=True),
    dict(return_token_type_ids=True, return_attention_mask=False),
    dict(padding="max_length", truncation=True, max_length=32, return_tensors="np"),
    dict(padding=True, truncation=True, max_length=40, return_tensors="pt", return_length=True),
    dict(padding=True, pad_to_multiple_of=8, return_tensors="np", padding_side="left"),
    dict(
        padding="longest",
        truncation="longest_first",
        max_length=30,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_tensors="np",
    ),
    dict(truncation=True, padding=True, return_tensors="np"),
]


@pytest.mark.parametrize("options", CALL_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_call_parity_batches(pair, options):
    name, ours, ref = pair
    for start in range(0, len(TEXTS), 16):
        batch = TEXTS[start : start + 16]
        assert same(ours(batch, **options), ref(batch, **options)), f"{name} {options} batch at {start}"


@pytest.mark.parametrize("options", CALL_OPTIONS[:7], ids=lambda o: ",".join(o) or "default")
def test_call_parity_single_and_pairs(pair, options):
    name, ours, ref = pair
    for text in TEXTS[::7]:
        assert same(ours(text, **options), ref(text, **options)), f"{name} {options} {text[:40]!r}"
    pairs = list(zip(TEXTS[::5], TEXTS[1::5]))
    for a, b in pairs[:10]:
        assert_same_or_both_raise(lambda t, a=a, b=b: t(a, b, **options), ours, ref)
    firsts, seconds = [p[0] for p in pairs], [p[1] for p in pairs]
    assert_same_or_both_raise(lambda t: t(firsts, seconds, **options), ours, ref)
    assert_same_or_both_raise(lambda t: t(pairs, **options), ours, ref)


def assert_same_or_both_raise(call, ours, ref):
    """Some truncations are impossible (first sequence too short for 'only_first', stride >= room left):
    then both must raise."""
    try:
        expected = call(ref)
    except BaseException:  # tokenizers raises pyo3's PanicException (a BaseException) for a too-large stride
        # ours raises a proper exception of our hierarchy, never a panic
        with pytest.raises(ferroformers.FerroformersError):
            call(ours)
        return
    assert same(call(ours), expected)


def test_pretokenized_parity(pair):
    name, ours, ref = pair
    words = [t.split() for t in TEXTS[:20] if t.split()]
    assert same(ours(words, is_split_into_words=True), ref(words, is_split_into_words=True))
    assert same(ours(words[0], is_split_into_words=True), ref(words[0], is_split_into_words=True))


def test_decode_encode_tokenize_parity(pair):
    name, ours, ref = pair
    batch = ref(TEXTS[:30])["input_ids"]
    for ids in batch:
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == ref.decode(ids, skip_special_tokens=skip)
        assert ours.decode(ids, clean_up_tokenization_spaces=True) == ref.decode(ids, clean_up_tokenization_spaces=True)
        assert ours.convert_ids_to_tokens(ids) == ref.convert_ids_to_tokens(ids)
        assert ours.convert_ids_to_tokens(ids, skip_special_tokens=True) == ref.convert_ids_to_tokens(
            ids, skip_special_tokens=True
        )
    assert ours.batch_decode(batch, skip_special_tokens=True) == ref.batch_decode(batch, skip_special_tokens=True)
    padded = ref(TEXTS[:8], padding=True, return_tensors="np")["input_ids"]
    assert ours.batch_decode(padded) == ref.batch_decode(padded)
    assert ours.decode(padded) == ref.decode(padded)
    for text in TEXTS[:20]:
        assert ours.tokenize(text) == ref.tokenize(text)
        assert ours.encode(text) == ref.encode(text)
        tokens = ref.tokenize(text)
        assert ours.convert_tokens_to_ids(tokens) == ref.convert_tokens_to_ids(tokens)
    assert ours.convert_tokens_to_ids("surely-not-a-token-\u2603") == ref.convert_tokens_to_ids(
        "surely-not-a-token-\u2603"
    )


def test_convert_tokens_to_string_parity(pair):
    # transformers runs the decoder on the strings themselves: tokens, but also text that is no token at all
    # (pipelines join pieces of the original text and already-decoded words this way).
    name, ours, ref = pair
    for text in TEXTS[:20]:
        tokens = ref.tokenize(text)
        assert ours.convert_tokens_to_string(tokens) == ref.convert_tokens_to_string(tokens)
        words = text.split()
        assert ours.convert_tokens_to_string(words) == ref.convert_tokens_to_string(words)
    for strings in ([" John", " Smith"], ["Élodie", "Zürich"], ["caf", "##é", "[UNK]"], ["e\u0301", "😀"], []):
        assert ours.convert_tokens_to_string(strings) == ref.convert_tokens_to_string(strings), strings
    assert ours.convert_tokens_to_string(["Élodie"]) != ours.convert_tokens_to_string(["[UNK]"])


def test_save_pretrained_round_trip(pair, tmp_path):
    name, ours, ref = pair
    ours.save_pretrained(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    }
    again = AutoTokenizer.from_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    batch = TEXTS[:12]
    for other in (again, theirs):
        assert other.all_special_tokens == ref.all_special_tokens
        assert other.padding_side == ours.padding_side
        assert same(other(batch, truncation=True, max_length=24), ref(batch, truncation=True, max_length=24))


def test_setting_pad_token_changes_padding():
    tok = AutoTokenizer.from_pretrained(SHARED / "tokenizers" / "gpt2")
    assert tok.pad_token is None and tok.pad_token_id is None
    with pytest.raises(ValueError, match="padding token"):
        tok(["a", "b c d"], padding=True)
    tok.pad_token = tok.eos_token
    out = tok(["a", "b c d"], padding=True, return_tensors="np")
    assert out["input_ids"][0, -1] == tok.eos_token_id == 50256
    assert out["attention_mask"].tolist()[0] == [1, 0, 0]
    tok.padding_side = "left"
    assert tok(["a", "b c d"], padding=True)["attention_mask"][0] == [0, 0, 1]
    with pytest.raises(ValueError):
        tok.padding_side = "middle"


def test_add_tokens_and_special_tokens():
    tok = AutoTokenizer.from_pretrained(SHARED / "tokenizers" / "bert-cased-wordpiece")
    ref = transformers.AutoTokenizer.from_pretrained(str(SHARED / "tokenizers" / "bert-cased-wordpiece"))
    for t in (tok, ref):
        assert t.add_tokens(["ferroformers", "[NEW]"]) == 2
        assert t.add_special_tokens({"additional_special_tokens": ["<extra>"]}) == 1
    text = "ferroformers adds [NEW] and <extra> tokens"
    assert tok(text)["input_ids"] == ref(text)["input_ids"]
    assert len(tok) == len(ref)
    assert "<extra>" in tok.all_special_tokens


def test_threads_round_trip():
    before = ferroformers.get_num_threads()
    ferroformers.set_num_threads(2)
    assert ferroformers.get_num_threads() == 2
    ferroformers.set_num_threads(before)


# -- bad input ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bert():
    return AutoTokenizer.from_pretrained(SHARED / "tokenizers" / "bert-uncased")


def test_unknown_keyword_raises_type_error(bert):
    with pytest.raises(TypeError, match="retrun_tensors"):
        bert("hello", retrun_tensors="np")
    with pytest.raises(TypeError, match="not_an_option"):
        AutoTokenizer.from_pretrained(SHARED / "tokenizers" / "gpt2", not_an_option=1)


def test_non_string_item_names_index_and_type(bert):
    with pytest.raises(TokenizationError, match=r"text\[1\].*int"):
        bert(["fine", 3, "also fine"])
    with pytest.raises(ValueError, match=r"text\[0\].*NoneType"):
        bert([None])
    with pytest.raises(TokenizationError, match=r"text\[1\]\[0\].*int"):
        bert([["a", "b"], [1]], is_split_into_words=True)
    with pytest.raises(TokenizationError, match=r"text\[1\]"):
        bert(["a", ["b"]])
    with pytest.raises(TokenizationError, match="is_split_into_words"):
        bert(["a", "b"], ["c", ["d"]])
    # The arrays path leaves the item checks to the backend; the error still names the item.
    for kwargs in (dict(padding=True, return_tensors="np"), dict(return_tensors=None)):
        with pytest.raises(TokenizationError, match=r"text\[2\].*float"):
            bert(["fine", "also fine", 2.5], **kwargs)
        with pytest.raises(TokenizationError, match=r"text\[1\] must be a str or a \(text, text_pair\) pair"):
            bert(["a", ("b", "c", "d")], **kwargs)


def test_none_and_empty_batch(bert):
    with pytest.raises(TokenizationError, match="None"):
        bert(None)
    with pytest.raises(TokenizationError, match="empty batch"):
        bert([])
    with pytest.raises(TokenizationError):
        bert(b"bytes are not text")


def test_bad_strategies(bert):
    with pytest.raises(ValueError, match="PaddingStrategy"):
        bert("a", padding="sideways")
    with pytest.raises(ValueError, match="TruncationStrategy"):
        bert("a", truncation="middle")
    with pytest.raises(ValueError, match="multiple of pad_to_multiple_of"):
        bert("a", padding=True, truncation=True, max_length=10, pad_to_multiple_of=3)
    with pytest.raises(ValueError, match="return_tensors"):
        bert("a", return_tensors="tf")
    with pytest.raises(TypeError, match="same length"):
        bert(["a", "b"], "c")


def test_ragged_tensors_raise(bert):
    with pytest.raises(ValueError, match="padding=True"):
        bert(["a", "a b c d"], return_tensors="np")
    with pytest.raises(ValueError, match="padding=True"):
        bert(["a", "a b c d"], return_tensors="pt")
    with pytest.raises(ValueError, match="padding=True"):
        bert(["a", "a b c d"], padding="max_length", max_length=3, return_tensors="np")


def test_decode_out_of_range_ids_raise(bert):
    with pytest.raises(InvalidTokenIdError, match="30522") as info:
        bert.decode([101, 30522])
    assert isinstance(info.value, (ValueError, IndexError, FerroformersError))
    with pytest.raises(IndexError):
        bert.decode([-1])
    with pytest.raises(InvalidTokenIdError):
        bert.batch_decode([[1, 2], [10**9]])
    with pytest.raises(InvalidTokenIdError):
        bert.convert_ids_to_tokens([10**7])


def test_max_length_default_and_long_sequence_warning(bert, caplog):
    long = "hello " * 600
    assert len(bert(long, truncation=True)["input_ids"]) == 512
    with caplog.at_level("WARNING", logger="ferroformers"):
        assert len(bert(long)["input_ids"]) == 602
    assert "602 > 512" in caplog.text
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bert(["a b", "c"], padding=True, max_length=1)
    assert any("max_length" in str(w.message) for w in caught)


def test_missing_and_malformed_folders(tmp_path):
    with pytest.raises(OSError):
        AutoTokenizer.from_pretrained(tmp_path / "does-not-exist-here", local_files_only=True)
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n")
    with pytest.raises(TokenizerFileError, match="vocab.txt"):
        AutoTokenizer.from_pretrained(legacy)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_text("{not json")
    with pytest.raises(TokenizerFileError, match="not valid JSON"):
        AutoTokenizer.from_pretrained(broken)
