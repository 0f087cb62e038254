"""The low-level `ferroformers.Tokenizer` against Hugging Face `tokenizers` (the oracle), plus the
behaviours around it: legacy vocabulary files, round trips, pickling, threads and fork, bad input."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import random
import shutil

import numpy as np
import pytest
import tokenizers
from hypothesis import given, settings
from hypothesis import strategies as st

import ferroformers
from ferroformers import Tokenizer

COVERED = ["gpt2", "bert-uncased", "bert-cased-wordpiece", "roberta-style-bpe"]
LANGS = ["en", "de", "es", "it", "pl", "ru", "zh"]


def fields(e) -> dict:
    return {
        "ids": e.ids,
        "tokens": e.tokens,
        "type_ids": e.type_ids,
        "offsets": [tuple(o) for o in e.offsets],
        "attention_mask": e.attention_mask,
        "special_tokens_mask": e.special_tokens_mask,
        "word_ids": e.word_ids,
        "sequence_ids": e.sequence_ids,
        "overflowing": [fields(o) for o in e.overflowing],
    }


@pytest.fixture(scope="module")
def sample(corpus_texts) -> list[str]:
    rnd = random.Random(5)
    texts = []
    for lang in LANGS:
        paragraphs = corpus_texts(lang)
        texts += rnd.sample(paragraphs, 120)
    return texts + [
        "",
        " ",
        "  leading and trailing  ",
        "a\u0301\u00a0b\tc\r\nd",
        "can't I'm y'all 'LL",
        "😀👍🏽 中文 한국어",
    ]


@pytest.fixture(scope="module", params=COVERED)
def pair_of_tokenizers(request, tokenizers_dir):
    path = str(tokenizers_dir / request.param / "tokenizer.json")
    return request.param, Tokenizer.from_file(path), tokenizers.Tokenizer.from_file(path)


def test_encode_matches_reference_on_real_text(pair_of_tokenizers, sample):
    name, ours, ref = pair_of_tokenizers
    for text in sample:
        for add in (True, False):
            assert fields(ours.encode(text, add_special_tokens=add)) == fields(
                ref.encode(text, add_special_tokens=add)
            ), (
                name,
                text[:80],
            )
    assert [fields(e) for e in ours.encode_batch(sample)] == [fields(e) for e in ref.encode_batch(sample)]


def test_pairs_pretokenized_and_decode_match_reference(pair_of_tokenizers, sample):
    _, ours, ref = pair_of_tokenizers
    pairs = list(zip(sample[::2], sample[1::2]))
    assert [fields(e) for e in ours.encode_batch(pairs)] == [fields(e) for e in ref.encode_batch(pairs)]
    words = [t.split() for t in sample[:100]]
    assert [fields(e) for e in ours.encode_batch(words, is_pretokenized=True)] == [
        fields(e) for e in ref.encode_batch(words, is_pretokenized=True)
    ]
    for text in sample:
        ids = ref.encode(text).ids
        for skip in (True, False):
            assert ours.decode(ids, skip_special_tokens=skip) == ref.decode(ids, skip_special_tokens=skip)


@pytest.mark.parametrize(
    "trunc,pad",
    [
        (dict(max_length=16, stride=4, strategy="longest_first"), dict(pad_to_multiple_of=8)),
        (dict(max_length=40, strategy="only_first", direction="left"), dict(direction="left", length=48)),
        (dict(max_length=40, strategy="only_second", stride=2), dict()),
    ],
)
def test_truncation_padding_overflow_match_reference(pair_of_tokenizers, sample, trunc, pad):
    _, ours, ref = pair_of_tokenizers
    long_texts = [t for t in sample if len(t) > 120]
    short_texts = [t[:30] for t in sample if len(t) > 40]
    if trunc["strategy"] == "only_second":
        pairs = list(zip(short_texts, long_texts))
    else:
        pairs = list(zip(long_texts, short_texts))
    for tok in (ours, ref):
        tok.enable_truncation(**trunc)
        tok.enable_padding(**pad)
    try:
        assert ours.truncation == ref.truncation
        assert ours.padding == ref.padding
        assert [fields(e) for e in ours.encode_batch(pairs)] == [fields(e) for e in ref.encode_batch(pairs)]
        if trunc["strategy"] != "only_second":
            singles = sample[:200]
            assert [fields(e) for e in ours.encode_batch(singles)] == [fields(e) for e in ref.encode_batch(singles)]
        # Both refuse a truncation that cannot work (the text to cut is too short).
        impossible = [(short_texts[0], long_texts[0])] if trunc["strategy"] == "only_first" else [(long_texts[0], "a")]
        if trunc["strategy"] != "longest_first":
            with pytest.raises(Exception, match="(?i)truncat|sequence"):
                ref.encode_batch(impossible)
            with pytest.raises(ferroformers.TokenizationError, match="cannot truncate"):
                ours.encode_batch(impossible)
    finally:
        for tok in (ours, ref):
            tok.no_truncation()
            tok.no_padding()


@pytest.mark.parametrize("name", COVERED + ["llama-style-bpe", "t5-style-unigram"])
def test_encode_batch_fast_matches_reference(tokenizers_dir, sample, name):
    """encode_batch_fast tracks no offsets, as the reference's: ids, type ids and masks as encode_batch's
    (the file's padding and truncation, then batch padding and overflow), empty tokens, (0, 0) offsets."""
    path = str(tokenizers_dir / name / "tokenizer.json")
    ours, ref = Tokenizer.from_file(path), tokenizers.Tokenizer.from_file(path)
    pairs = list(zip(sample[::2], sample[1::2]))
    words = [t.split() for t in sample[:60]]
    for setting in (None, (dict(max_length=24, stride=3), dict(pad_to_multiple_of=8))):
        if setting is not None:
            for tok in (ours, ref):
                tok.enable_truncation(**setting[0])
                tok.enable_padding(**setting[1])
        for batch, pretok in ((sample, False), (pairs, False), (words, True)):
            for add in (True, False):
                kwargs = dict(is_pretokenized=pretok, add_special_tokens=add)
                mine = [fields(e) for e in ours.encode_batch_fast(batch, **kwargs)]
                theirs = [fields(e) for e in ref.encode_batch_fast(batch, **kwargs)]
                if batch is pairs:
                    # The reference's fast variant gives the overflowing pieces of pairs type ids of
                    # its own (unlike its encode_batch); ours keep encode_batch's.
                    for row in mine + theirs:
                        row["overflowing"] = [o["ids"] for o in row["overflowing"]]
                assert mine == theirs, (name, setting, pretok, add)
    full = ours.encode_batch(sample)
    assert [e.ids for e in ours.encode_batch_fast(sample)] == [e.ids for e in full]


def test_ids_lists_share_pinned_ints(tokenizers_dir):
    """`.ids` fills its list with shared int objects that are pinned: their reference count starts far
    above anything lists can take back (and CPython 3.12+ reads it as immortal), so a list holds them
    without counting each reference, and freeing any number of lists leaves them alive. The lists are
    ordinary, independent lists, seen by the cycle collector."""
    import gc
    import sys

    tok = Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    enc = tok.encode_batch_fast(["Hello world, hello world again and again"])[0]
    ids = enc.ids
    world = ids[1]
    per_list = ids.count(world)
    assert per_list >= 2 and world > 256  # not one of CPython's own small ints
    before = sys.getrefcount(world)
    assert before > 2**61, "the shared id ints of a release CPython are pinned"
    lists = [enc.ids for _ in range(1000)]
    assert all(lst == ids and lst is not ids for lst in lists)
    assert gc.is_tracked(lists[0])
    lists[0].append(lists[0])  # a cycle through a list of ids is still collected
    lists[1].append(world)  # a reference added by Python is counted as usual
    assert sys.getrefcount(world) >= before
    del lists
    gc.collect()
    after = sys.getrefcount(world)
    # 3.11 counts down by each reference the freed lists held; 3.12+ leaves an immortal count alone.
    assert 0 <= before - after <= 1000 * per_list and after > 2**61
    for _ in range(20):  # 30,000 uncounted references taken and dropped
        batch = [e.ids for e in tok.encode_batch_fast(["Hello world world world"] * 500)]
        assert all(lst.count(world) == 3 for lst in batch)
        del batch
    assert after - 30_000 <= sys.getrefcount(world) <= after and sys.getrefcount(world) > 2**61
    assert enc.ids == ids and ids[1] == world and int(str(world)) == world


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_id_lists_are_tracked_when_handed_over(tokenizers_dir, sample, threads):
    """encode_batch_fast builds its id lists out of the collector's sight and tracks each before
    returning: with a collection at every allocation meanwhile, every list comes back tracked, equal
    to encode_batch's ids, and a cycle made through one is collected."""
    import gc
    import weakref

    import ferroformers

    tok = Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    texts = (sample * 3)[:300]
    expected = [e.ids for e in tok.encode_batch(texts)]
    before_threads = ferroformers.get_num_threads()
    threshold = gc.get_threshold()
    try:
        ferroformers.set_num_threads(threads)
        gc.set_threshold(1)
        encodings = tok.encode_batch_fast(texts)
    finally:
        gc.set_threshold(*threshold)
        ferroformers.set_num_threads(before_threads)
    lists = [e.ids for e in encodings]
    assert lists == expected
    assert all(gc.is_tracked(lst) for lst in lists)

    class Marker:
        pass

    marker = Marker()
    lists[0].append(lists[0])
    lists[0].append(marker)
    probe = weakref.ref(marker)
    del marker, lists, encodings
    gc.collect()
    assert probe() is None


def _rows(ids, offsets) -> list[list[int]]:
    return [ids[a:b].tolist() for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


@pytest.mark.parametrize("name", ["gpt2", "bert-uncased", "llama-style-bpe", "t5-style-unigram"])
def test_encode_batch_flat_equals_encode_batch_ids(tokenizers_dir, sample, name):
    """The flat ids path gives encode_batch's ids, truncation included, padding left out."""
    tok = Tokenizer.from_file(str(tokenizers_dir / name / "tokenizer.json"))
    unpadded = Tokenizer.from_file(str(tokenizers_dir / name / "tokenizer.json"))
    texts = sample[::2] + sample[-6:]  # every language, and the awkward texts at the end
    pairs = list(zip(texts[::2], texts[1::2]))
    truncations = [None, dict(max_length=24, stride=4, direction="left"), dict(max_length=7, strategy="only_first")]
    for truncation in truncations:
        for t in (tok, unpadded):
            if truncation is None:
                t.no_truncation()
            else:
                t.enable_truncation(**truncation)
        tok.enable_padding(length=300)  # ignored by the flat path: ragged ids have no rows to pad
        unpadded.no_padding()
        for add in (True, False):
            ids, offsets = tok.encode_batch_flat(texts, add_special_tokens=add)
            assert ids.dtype == np.uint32 and offsets.dtype == np.int64
            assert offsets.shape == (len(texts) + 1,) and offsets[0] == 0 and offsets[-1] == len(ids)
            expected = [e.ids for e in unpadded.encode_batch(texts, add_special_tokens=add)]
            assert _rows(ids, offsets) == expected, (name, truncation, add)
            if truncation is None or truncation.get("strategy") != "only_first":
                flat_pairs = tok.encode_batch_flat(pairs, add_special_tokens=add)
                assert _rows(*flat_pairs) == [e.ids for e in unpadded.encode_batch(pairs, add_special_tokens=add)]
    words = [t.split() for t in texts[:50]]
    assert _rows(*tok.encode_batch_flat(words, is_pretokenized=True)) == [
        e.ids for e in unpadded.encode_batch(words, is_pretokenized=True)
    ]


def test_encode_batch_flat_edge_cases(tokenizers_dir):
    tok = _gpt2(tokenizers_dir)
    ids, offsets = tok.encode_batch_flat([])
    assert ids.tolist() == [] and offsets.tolist() == [0]
    assert _rows(*tok.encode_batch_flat(["", "Hello world", ""])) == [[], [15496, 995], []]
    with pytest.raises(TypeError, match="batch item 1 must be a str, got int"):
        tok.encode_batch_flat(["a", 3])
    with pytest.raises(ferroformers.TokenizationError, match="batch item 1"):
        tok.encode_batch_flat(["fine", "bad\udfff"])
    bert = Tokenizer.from_file(str(tokenizers_dir / "bert-uncased" / "tokenizer.json"))
    bert.enable_truncation(max_length=1)
    with pytest.raises(ferroformers.TokenizationError, match="max_length"):
        bert.encode_batch_flat(["some words"])


def test_vocab_and_added_tokens_match_reference(pair_of_tokenizers):
    _, ours, ref = pair_of_tokenizers
    assert ours.get_vocab() == ref.get_vocab()
    assert ours.get_vocab_size() == ref.get_vocab_size()
    assert ours.get_vocab_size(with_added_tokens=False) == ref.get_vocab_size(with_added_tokens=False)
    assert {i: str(t) for i, t in ours.get_added_tokens_decoder().items()} == {
        i: str(t) for i, t in ref.get_added_tokens_decoder().items()
    }
    for tok in (ours, ref):
        assert tok.add_tokens(["ferroformers", "Hello world"]) == 2
        assert tok.add_special_tokens(["<|ferro|>"]) == 1
    text = "Hello world, ferroformers says <|ferro|>hi"
    assert fields(ours.encode(text)) == fields(ref.encode(text))
    assert ours.decode(ours.encode(text).ids) == ref.decode(ref.encode(text).ids)


def test_save_and_reload_round_trip(pair_of_tokenizers, tmp_path, sample):
    _, ours, ref = pair_of_tokenizers
    ours.save(str(tmp_path / "t.json"))
    again = Tokenizer.from_file(str(tmp_path / "t.json"))
    by_ref = tokenizers.Tokenizer.from_file(str(tmp_path / "t.json"))  # the reference reads what we write
    for text in sample[:100]:
        assert fields(again.encode(text)) == fields(ref.encode(text))
        assert fields(by_ref.encode(text)) == fields(ref.encode(text))
    clone = pickle.loads(pickle.dumps(ours))
    assert fields(clone.encode(sample[0])) == fields(ours.encode(sample[0]))


def test_legacy_vocab_files(tokenizers_dir, sample, tmp_path):
    bert = Tokenizer.from_wordpiece_vocab(str(tokenizers_dir / "bert-uncased" / "vocab.txt"))
    ref = tokenizers.Tokenizer.from_file(str(tokenizers_dir / "bert-uncased" / "tokenizer.json"))
    ref.no_padding()
    ref.no_truncation()
    assert [fields(e) for e in bert.encode_batch(sample)] == [fields(e) for e in ref.encode_batch(sample)]
    gpt2 = Tokenizer.from_bpe_files(
        str(tokenizers_dir / "gpt2" / "vocab.json"),
        str(tokenizers_dir / "gpt2" / "merges.txt"),
        special_tokens=["<|endoftext|>"],
    )
    ref = tokenizers.Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    assert [e.ids for e in gpt2.encode_batch(sample)] == [e.ids for e in ref.encode_batch(sample)]
    assert gpt2.get_vocab() == ref.get_vocab()


def test_auto_tokenizer_on_legacy_folders_matches_transformers(tokenizers_dir, sample, tmp_path):
    import transformers

    for name, keep in (
        ("bert-uncased", ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]),
        ("gpt2", ["vocab.json", "merges.txt", "tokenizer_config.json"]),
    ):
        folder = tmp_path / name
        folder.mkdir()
        for f in keep:
            shutil.copy(tokenizers_dir / name / f, folder / f)
        ours = ferroformers.AutoTokenizer.from_pretrained(str(folder))
        ref = transformers.AutoTokenizer.from_pretrained(str(folder))
        for text in sample[:200]:
            assert ours(text)["input_ids"] == ref(text)["input_ids"], (name, text[:60])
            assert ours.decode(ref(text)["input_ids"]) == ref.decode(ref(text)["input_ids"])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_byte_level_round_trip(tokenizers_dir, text):
    tok = _gpt2(tokenizers_dir)
    assert tok.decode(tok.encode(text).ids) == text


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=8))
def test_batch_equals_single_encodes(tokenizers_dir, texts):
    tok = _gpt2(tokenizers_dir)
    assert [e.ids for e in tok.encode_batch(texts)] == [tok.encode(t).ids for t in texts]


_CACHE: dict = {}


def _gpt2(tokenizers_dir):
    if "gpt2" not in _CACHE:
        _CACHE["gpt2"] = Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    return _CACHE["gpt2"]


def _encode_in_child(args):
    path, texts = args
    tok = Tokenizer.from_file(path)
    return [e.ids for e in tok.encode_batch(texts)]


def _encode_with_inherited(texts):
    return [e.ids for e in _INHERITED.encode_batch(texts)]


_INHERITED = None


def test_encoding_after_fork_does_not_hang(tokenizers_dir, corpus_texts):
    """The parent uses the thread pool first; forked children must still encode (no dead pool)."""
    global _INHERITED
    path = str(tokenizers_dir / "gpt2" / "tokenizer.json")
    texts = corpus_texts("en", 400)
    _INHERITED = Tokenizer.from_file(path)
    ferroformers.set_num_threads(2)
    try:
        expected = [e.ids for e in _INHERITED.encode_batch(texts)]  # starts the pool in the parent
        ctx = multiprocessing.get_context("fork")
        chunks = [texts[i::4] for i in range(4)]
        with ctx.Pool(2) as pool:
            inherited = pool.map_async(_encode_with_inherited, chunks).get(timeout=120)
            fresh = pool.map_async(_encode_in_child, [(path, c) for c in chunks]).get(timeout=120)
        assert inherited == [[expected[j] for j in range(i, len(texts), 4)] for i in range(4)]
        assert fresh == inherited
    finally:
        ferroformers.set_num_threads(0)


def test_thread_count_controls(tokenizers_dir, corpus_texts):
    tok = _gpt2(tokenizers_dir)
    texts = corpus_texts("de", 300)
    ferroformers.set_num_threads(1)
    try:
        assert ferroformers.get_num_threads() == 1
        one = [e.ids for e in tok.encode_batch(texts)]
        ferroformers.set_num_threads(2)
        assert ferroformers.get_num_threads() == 2
        assert [e.ids for e in tok.encode_batch(texts)] == one
    finally:
        ferroformers.set_num_threads(0)


@pytest.mark.parametrize("name", ["gpt2", "bert-uncased"])
def test_encode_batch_fast_with_a_pool_equals_one_thread(tokenizers_dir, corpus_texts, name):
    """With more than one thread, encode_batch_fast hands the rows over chunk by chunk and builds each id list
    ahead: the encodings read exactly as with one thread (bert-uncased pads to a fixed 128; batch-longest
    padding and pairs are covered too), and the list built ahead goes to the first `.ids` read only."""
    tok = Tokenizer.from_file(str(tokenizers_dir / name / "tokenizer.json"))
    texts = corpus_texts("en", 500) + ["", "a pair"] + corpus_texts("zh", 200)

    def read(encodings):
        return [(e.ids, e.type_ids, e.attention_mask, e.special_tokens_mask, len(e)) for e in encodings]

    try:
        for padding in (None, {"length": None}):
            if padding is not None:
                tok.enable_padding(**padding)
            ferroformers.set_num_threads(1)
            one = read(tok.encode_batch_fast(texts))
            one_pairs = read(tok.encode_batch_fast([(t, "second") for t in texts[:100]]))
            ferroformers.set_num_threads(2)
            encodings = tok.encode_batch_fast(texts)
            first = [e.ids for e in encodings]
            second = [e.ids for e in encodings]
            assert first == second and all(a is not b for a, b in zip(first, second))
            assert read(encodings) == one
            assert read(tok.encode_batch_fast([(t, "second") for t in texts[:100]])) == one_pairs
    finally:
        ferroformers.set_num_threads(0)


# ----------------------------------------------------------------------------- bad input


def test_non_string_items_name_their_index(tokenizers_dir):
    tok = _gpt2(tokenizers_dir)
    with pytest.raises(TypeError, match="batch item 2 must be a str, got int"):
        tok.encode_batch(["a", "b", 3])
    with pytest.raises(TypeError, match="batch item 1 is None"):
        tok.encode_batch(["a", None])
    with pytest.raises(TypeError, match="sequence is None"):
        tok.encode(None)
    with pytest.raises(TypeError, match="got a single str"):
        tok.encode_batch("just one text")
    with pytest.raises(TypeError, match="batch item 0, word 1 must be a str"):
        tok.encode_batch([["ok", 5]], is_pretokenized=True)


def test_lone_surrogates_are_a_clear_error(tokenizers_dir):
    tok = _gpt2(tokenizers_dir)
    with pytest.raises(ferroformers.TokenizationError, match="lone surrogates"):
        tok.encode("abc\ud800def")
    with pytest.raises(ferroformers.TokenizationError, match="batch item 1"):
        tok.encode_batch(["fine", "bad\udfff"])


def test_texts_are_read_in_place_whatever_their_kind(tokenizers_dir):
    """Texts are read through CPython's UTF-8 view of the str (no copy for ASCII, a cached UTF-8 form for
    the rest): ASCII, 2-, 3- and 4-byte chars, a str subclass and a str read twice all give the
    reference's ids, and the strs are left equal to what they were."""
    tok = _gpt2(tokenizers_dir)
    ref = tokenizers.Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))

    class Text(str):
        pass

    texts = ["plain ascii", "Zürich café", "日本語のテキスト", "emoji 🙂 and 𝔘𝔫𝔦", Text("a subclass, ünïcode")]
    copies = [str(t) for t in texts]
    for _ in range(2):
        assert [e.ids for e in tok.encode_batch(texts)] == [e.ids for e in ref.encode_batch(copies)]
        assert [tok.encode(t).ids for t in texts] == [ref.encode(t).ids for t in copies]
    assert texts == copies


def test_a_batch_encodes_what_was_passed_while_another_thread_rewrites_the_list(tokenizers_dir, corpus_texts):
    """The texts of a batch are read in place with the GIL released: the binding holds each item, so a
    thread that empties and refills the caller's list meanwhile (freeing the old strs, if nothing else held
    them) changes nothing in what is encoded."""
    import threading

    tok = _gpt2(tokenizers_dir)
    tok.enable_padding(pad_id=50256)
    tok.enable_truncation(64)
    originals = [f"{text} ({i}, ünï)" for i, text in enumerate(corpus_texts("en", 2000))]
    expected = [e.ids for e in tok.encode_batch([str(t) for t in originals])]
    states = [
        [f"another text, number {i} ∅" for i in range(len(originals))],
        [f"{i}" * 50 for i in range(len(originals))],
    ]
    # The list is read whole with the GIL held, so the batch is one of its states, never a mix.
    expected_states = [expected] + [[e.ids for e in tok.encode_batch(state)] for state in states]
    done = threading.Event()

    def rewrite(batch):
        while not done.is_set():
            for state in states:
                batch[:] = [t.encode().decode() for t in state]

    calls = {
        "encode_batch": lambda b: [e.ids for e in tok.encode_batch(b)],
        "encode_batch_fast": lambda b: [e.ids for e in tok.encode_batch_fast(b)],
        "encode_batch_arrays": lambda b: tok.encode_batch_arrays(b)["input_ids"].tolist(),
    }
    for name, call in calls.items():
        for _ in range(3):
            batch = [t.encode().decode() for t in originals]  # fresh strs, held only by `batch`
            done.clear()
            thread = threading.Thread(target=rewrite, args=(batch,))
            got = None
            try:
                thread.start()
                got = call(batch)
            finally:
                done.set()
                thread.join()
            assert got in expected_states, name


def test_empty_batch_is_empty_like_the_reference(tokenizers_dir):
    tok = _gpt2(tokenizers_dir)
    ref = tokenizers.Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    assert tok.encode_batch([]) == [] == ref.encode_batch([])


def test_out_of_range_ids_in_decode(tokenizers_dir):
    tok = _gpt2(tokenizers_dir)
    with pytest.raises(ferroformers.InvalidTokenIdError, match="50257"):
        tok.decode([10, 50257])
    with pytest.raises(ferroformers.InvalidTokenIdError, match="-1"):
        tok.decode([-1])
    with pytest.raises(IndexError):
        tok.decode_batch([[1], [10**9]])


def test_stride_too_large_is_an_error_not_a_panic(tokenizers_dir):
    tok = Tokenizer.from_file(str(tokenizers_dir / "bert-uncased" / "tokenizer.json"))
    tok.enable_truncation(8, stride=6)
    with pytest.raises(ferroformers.TokenizationError, match="stride"):
        tok.encode("a long enough sentence to need truncation with a big stride")


def test_missing_truncated_and_malformed_files(tokenizers_dir, tmp_path):
    missing = tmp_path / "nope" / "tokenizer.json"
    with pytest.raises(FileNotFoundError, match="nope/tokenizer.json"):
        Tokenizer.from_file(str(missing))
    with pytest.raises(ferroformers.FerroformersError):
        Tokenizer.from_file(str(missing))
    text = (tokenizers_dir / "bert-cased-wordpiece" / "tokenizer.json").read_text(encoding="utf-8")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ferroformers.TokenizerFileError, match=r"truncated\.json.*(truncated|line)"):
        Tokenizer.from_file(str(truncated))
    doc = json.loads(text)
    doc["model"]["vocab"] = ["not", "a", "map"]
    bad_field = tmp_path / "bad_field.json"
    bad_field.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ferroformers.TokenizerFileError, match=r"bad_field\.json.*model\.vocab"):
        Tokenizer.from_file(str(bad_field))
    doc = json.loads(text)
    doc["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [{"type": "BertPreTokenizer"}, {"type": "Fancy"}]}
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ferroformers.UnsupportedComponentError, match=r"`Fancy` at `pre_tokenizer\.pretokenizers\[1\]"):
        Tokenizer.from_file(str(unknown))
    doc = json.loads(text)
    del doc["model"]
    with pytest.raises(ferroformers.TokenizerFileError, match="model"):
        Tokenizer.from_str(json.dumps(doc))


def test_added_token_flags_resolve_as_the_reference(tokenizers_dir):
    # `normalized` left out is resolved when the token is added: False for a special token, even if
    # the AddedToken itself (not special when made) reported True.
    path = str(tokenizers_dir / "gpt2" / "tokenizer.json")
    ours, theirs = Tokenizer.from_file(path), tokenizers.Tokenizer.from_file(path)
    calls = [
        ("add_special_tokens", dict(content="<P>", rstrip=True)),
        ("add_special_tokens", dict(content="<Q>", lstrip=True, normalized=True)),
        ("add_tokens", dict(content="<R>", special=True)),
        ("add_tokens", dict(content="<S>")),
        ("add_tokens", dict(content="<T>", normalized=False)),
    ]
    for method, kwargs in calls:
        mine, ref = ferroformers.AddedToken(**kwargs), tokenizers.AddedToken(**kwargs)
        assert mine.normalized == ref.normalized and mine.special == ref.special
        getattr(ours, method)([mine])
        getattr(theirs, method)([ref])

    def flags(tok):
        return {
            i: (t.content, t.special, t.normalized, t.lstrip, t.rstrip, t.single_word)
            for i, t in tok.get_added_tokens_decoder().items()
        }

    assert flags(ours) == flags(theirs)
    text = "a <P> b<Q>c <R> <S>  <T>"
    assert ours.encode(text).ids == theirs.encode(text).ids
