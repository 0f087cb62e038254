"""Parity of the less common `tokenizer.json` components with Hugging Face `tokenizers` (the oracle).

Every tokenizer here is built with the reference's own Python API (models, normalizers,
pre-tokenizers, decoders, trainers, and transformers' SentencePiece converter for the
`Precompiled` charsmaps), saved as `tokenizer.json`, loaded by both libraries, and compared field by
field on real paragraphs of the seven corpus languages plus hand-picked tricky strings. Our own
saved JSON must load back identically, in our library and in the reference.
"""

from __future__ import annotations

import io
import json
import random

import pytest
import tokenizers
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

import ferroformers
from ferroformers import Tokenizer

LANGS = ["en", "de", "es", "it", "pl", "ru", "zh"]
PARAGRAPHS_PER_LANG = 45
TRICKY = [
    "",
    " ",
    "   ",
    "  leading and   trailing  ",
    "tabs\tand\nnew\r\nlines\u2028here",
    "a\u0301e\u0301 cafe\u0301 Ame\u0301lie\u0308 \u0915\u094d\u0937",
    "\ufb01ne \ufb02ow \u2460\u2461\u2473 \u00bd \u2167 \u33a1 \u2122",
    "\uff26\uff55\uff4c\uff4c\u3000\uff57\uff49\uff44\uff54\uff48 \uff11\uff12\uff13 \uff71\uff72\uff73",
    "\U0001f600\U0001f44d\U0001f3fd \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1f5\U0001f1f1 \u2764\ufe0f",
    "\u4e2d\u6587\u6d4b\u8bd5 \u65e5\u672c\u8a9e\u306e\u30c6\u30b9\u30c8\u30fc \ud55c\uad6d\uc5b4",
    "mixed\u0410\u0411c \u03b1\u03b2\u03b3 123abc 4\u00a05 x\u200by\ufeffz",
    "ctrl\x01\x07\x1f\x7f\x8f\x9f chars \ufffd replaced",
    "\u2581already\u2581escaped \u2581 \u2581\u2581",
    "digits 0123456789 \u0660\u0661\u0662 \uff10\uff11 3.14 1,000,000",
    "ALL CAPS \u0130stanbul \u00df STRASSE \u1e9e \u01c5",
    "can't I'm y'all 'LL don't . , ? ! ...",
    "\U0001f92a new-emoji \U0001fae8 \u0378 \U000e0001 \u24b6\U0001f150 \u2167x \u0561\u0589 \u0915\u0953",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
]


@pytest.fixture(scope="module")
def training_texts(corpus_texts) -> list[str]:
    return [p for lang in LANGS for p in corpus_texts(lang, 150)]


@pytest.fixture(scope="module")
def sample(corpus_texts) -> list[str]:
    rnd = random.Random(9)
    texts = []
    for lang in LANGS:
        paragraphs = corpus_texts(lang)
        texts += rnd.sample(paragraphs, PARAGRAPHS_PER_LANG)
    return texts + TRICKY


def fields(e) -> dict:
    return {
        "ids": e.ids,
        "tokens": e.tokens,
        "type_ids": e.type_ids,
        "offsets": [tuple(o) for o in e.offsets],
        "attention_mask": e.attention_mask,
        "special_tokens_mask": e.special_tokens_mask,
        "word_ids": e.word_ids,
    }


# --- the tokenizers under test, each built with the reference's API -------------------------------


def _bert_template(tok: tokenizers.Tokenizer, cls: str = "[CLS]", sep: str = "[SEP]") -> None:
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))],
    )


def word_level_whitespace(texts):
    tok = tokenizers.Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        texts, trainers.WordLevelTrainer(vocab_size=3000, special_tokens=["[UNK]", "[CLS]", "[SEP]"])
    )
    _bert_template(tok)
    return tok


def word_level_unicode_scripts_ctc(texts):
    tok = tokenizers.Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Nmt()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.UnicodeScripts(), pre_tokenizers.FixedLength(length=3)])
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=4000, special_tokens=["<unk>", "<pad>", "|"]))
    tok.decoder = decoders.CTC(pad_token="<pad>", word_delimiter_token="|", cleanup=True)
    return tok


def word_level_byte_level_normalizer(texts):
    tok = tokenizers.Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.ByteLevel()])
    # After the ByteLevel normalizer a space is "Ġ": split on it, then cut long words.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.CharDelimiterSplit("\u0120"), pre_tokenizers.FixedLength(length=4)]
    )
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=3000, special_tokens=["<unk>"]))
    tok.decoder = decoders.CTC(pad_token="<unk>", word_delimiter_token="\u0120", cleanup=False)
    return tok


def bpe_metaspace_digits(texts, prepend_scheme: str, split: bool):
    tok = tokenizers.Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme=prepend_scheme, split=split),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme=prepend_scheme, split=split)
    # Trained on Latin-script text only, so Cyrillic and CJK paragraphs need (fused) unknowns.
    latin = [t for t in texts if t.isascii()] or texts[:200]
    tok.train_from_iterator(latin, trainers.BpeTrainer(vocab_size=1200, special_tokens=["<unk>"], limit_alphabet=60))
    return tok


def _bpe_parts(tok: tokenizers.Tokenizer) -> tuple[dict, list]:
    model = json.loads(tok.to_str())["model"]
    return model["vocab"], [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]


def bpe_byte_fallback(texts):
    base = bpe_metaspace_digits(texts, "always", True)
    vocab, merges = _bpe_parts(base)
    for byte in range(256):
        vocab.setdefault(f"<0x{byte:02X}>", len(vocab))
    tok = tokenizers.Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = base.normalizer
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Sequence(
        [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    return tok


def bpe_ignore_merges(texts):
    base = bpe_metaspace_digits(texts, "first", False)
    vocab, merges = _bpe_parts(base)
    tok = tokenizers.Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    tok.decoder = decoders.Metaspace(prepend_scheme="first")
    return tok


def bpe_prefix_suffix(texts):
    tok = tokenizers.Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.BertNormalizer()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.BPEDecoder(suffix="</w>")
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        special_tokens=["[UNK]", "[CLS]", "[SEP]"],
        continuing_subword_prefix="##",
        end_of_word_suffix="</w>",
        limit_alphabet=300,
    )
    tok.train_from_iterator(texts, trainer)
    _bert_template(tok)
    return tok


def unigram_byte_fallback(texts):
    tok = tokenizers.Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.UnicodeScripts(), pre_tokenizers.Metaspace()])
    latin = [t for t in texts if t.isascii()] or texts[:200]
    trainer = trainers.UnigramTrainer(vocab_size=800, special_tokens=["<unk>"], unk_token="<unk>")
    tok.train_from_iterator(latin, trainer)
    model = json.loads(tok.to_str())["model"]
    vocab = [tuple(p) for p in model["vocab"]]
    vocab += [(f"<0x{b:02X}>", -20.0) for b in range(256)]
    fallback = tokenizers.Tokenizer(models.Unigram(vocab, unk_id=model["unk_id"], byte_fallback=True))
    fallback.normalizer = tok.normalizer
    fallback.pre_tokenizer = tok.pre_tokenizer
    fallback.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    return fallback


def unigram_unk_only(texts):
    """No byte fallback: unknown chars become the (fused) unk token."""
    tok = tokenizers.Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Nmt()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="never")
    latin = [t for t in texts if t.isascii()] or texts[:200]
    tok.train_from_iterator(latin, trainers.UnigramTrainer(vocab_size=600, special_tokens=["<unk>"], unk_token="<unk>"))
    tok.decoder = decoders.Metaspace(prepend_scheme="never")
    return tok


def sentencepiece_converted(texts, rule: str, model_type: str = "unigram"):
    """A real SentencePiece model with `rule`'s charsmap, converted by transformers' converter."""
    sentencepiece = pytest.importorskip("sentencepiece")
    from sentencepiece import sentencepiece_model_pb2
    from transformers.convert_slow_tokenizer import SpmConverter

    blob = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=blob,
        vocab_size=1500,
        model_type=model_type,
        normalization_rule_name=rule,
        byte_fallback=model_type == "bpe",
        user_defined_symbols=["<mask>"] if model_type == "bpe" else [],
        character_coverage=0.9995,
        minloglevel=2,
        num_threads=1,
    )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(blob.getvalue())
    assert proto.normalizer_spec.precompiled_charsmap, rule
    if model_type == "unigram":
        vocab = [(p.piece, p.score) for p in proto.pieces]
    else:
        vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    return SpmConverter.build_tokenizer_from_spm_proto(proto, vocab)


def precompiled_only(texts, rule: str):
    """The converted charsmap alone, in front of a WordLevel over single chars: normalization
    differences show up char by char, with their offsets."""
    converted = sentencepiece_converted(texts, rule)
    charsmap = next(
        n for n in json.loads(converted.to_str())["normalizer"]["normalizers"] if n["type"] == "Precompiled"
    )["precompiled_charsmap"]
    import base64

    tok = tokenizers.Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Precompiled(base64.b64decode(charsmap))
    tok.pre_tokenizer = pre_tokenizers.FixedLength(length=1)
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(vocab_size=5000, special_tokens=["<unk>"]))
    return tok


BUILDERS = {
    "wordlevel-whitespace": word_level_whitespace,
    "wordlevel-scripts-fixedlength-ctc": word_level_unicode_scripts_ctc,
    "wordlevel-bytelevel-chardelimiter": word_level_byte_level_normalizer,
    "bpe-metaspace-always-split": lambda t: bpe_metaspace_digits(t, "always", True),
    "bpe-metaspace-first-nosplit": lambda t: bpe_metaspace_digits(t, "first", False),
    "bpe-metaspace-never-split": lambda t: bpe_metaspace_digits(t, "never", True),
    "bpe-byte-fallback": bpe_byte_fallback,
    "bpe-ignore-merges": bpe_ignore_merges,
    "bpe-prefix-suffix": bpe_prefix_suffix,
    "unigram-byte-fallback": unigram_byte_fallback,
    "unigram-unk": unigram_unk_only,
    "spm-unigram-nmt_nfkc": lambda t: sentencepiece_converted(t, "nmt_nfkc"),
    "spm-unigram-nfkc_cf": lambda t: sentencepiece_converted(t, "nfkc_cf"),
    "spm-bpe-nmt_nfkc": lambda t: sentencepiece_converted(t, "nmt_nfkc", "bpe"),
    "precompiled-nmt_nfkc-chars": lambda t: precompiled_only(t, "nmt_nfkc"),
    "precompiled-nfkc_cf-chars": lambda t: precompiled_only(t, "nfkc_cf"),
}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def built(request, training_texts, tmp_path_factory):
    """(name, path of the saved tokenizer.json, reference tokenizer loaded from it, ours)."""
    reference = BUILDERS[request.param](training_texts)
    path = tmp_path_factory.mktemp(request.param) / "tokenizer.json"
    reference.save(str(path))
    return request.param, path, tokenizers.Tokenizer.from_file(str(path)), Tokenizer.from_file(str(path))


# --- the comparisons -------------------------------------------------------------------------------


def test_encodings_match(built, sample):
    name, _, reference, ours = built
    mismatches = []
    for text in sample:
        expected = fields(reference.encode(text))
        got = fields(ours.encode(text))
        if got != expected:
            diff = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
            mismatches.append((text[:60], {k: (str(a)[:200], str(b)[:200]) for k, (a, b) in diff.items()}))
    assert not mismatches, f"{name}: {len(mismatches)}/{len(sample)} texts differ; first: {mismatches[:2]}"


def test_pairs_and_batches_match(built, sample):
    name, _, reference, ours = built
    pairs = list(zip(sample[::2], sample[1::2]))
    expected = [fields(e) for e in reference.encode_batch(pairs)]
    assert [fields(e) for e in ours.encode_batch(pairs)] == expected, name
    # The ids-only fast path must agree with the full one.
    ids, offsets = ours.encode_batch_flat(sample)
    flat = [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    assert flat == [e.ids for e in reference.encode_batch(sample)], name


def test_decode_matches(built, sample):
    name, _, reference, ours = built
    for text in sample:
        ids = reference.encode(text).ids
        for skip in (True, False):
            assert ours.decode(ids, skip_special_tokens=skip) == reference.decode(ids, skip_special_tokens=skip), (
                name,
                text[:60],
                skip,
            )


def test_saved_json_round_trips(built, sample, tmp_path):
    name, path, reference, ours = built
    original = json.loads(path.read_text(encoding="utf-8"))
    saved = json.loads(ours.to_str())
    for key in ("normalizer", "pre_tokenizer", "decoder", "post_processor"):
        assert saved[key] == original[key], (name, key)
    assert saved["model"]["type"] == original["model"]["type"]
    ours_path = tmp_path / "ours.json"
    ours.save(str(ours_path))
    reloaded_reference = tokenizers.Tokenizer.from_file(str(ours_path))
    reloaded_ours = Tokenizer.from_str(ours.to_str())
    for text in sample[::5]:
        expected = fields(reference.encode(text))
        assert fields(reloaded_reference.encode(text)) == expected, (name, text[:60])
        assert fields(reloaded_ours.encode(text)) == expected, (name, text[:60])


def test_added_tokens_inside_the_text(built, sample):
    """Added tokens cut the text before the pre-tokenizer runs: Metaspace's `first` scheme, the
    script and fixed-length splits and the word ids must restart exactly as in the reference."""
    name, _, reference, ours = built
    reference = tokenizers.Tokenizer.from_str(reference.to_str())
    ours = Tokenizer.from_str(ours.to_str())
    for tok in (reference, ours):
        tok.add_special_tokens(["<sep>"])
        tok.add_tokens(["zzz"])
    texts = [f"{a[:80]}<sep>{b[:80]} zzz{a[-40:]}<sep>" for a, b in zip(sample[::3], sample[1::3])]
    expected = [fields(e) for e in reference.encode_batch(texts)]
    assert [fields(e) for e in ours.encode_batch(texts)] == expected, name


# --- components on their own ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "decoder",
    [
        decoders.CTC(),
        decoders.CTC(pad_token="[PAD]", word_delimiter_token="_", cleanup=False),
        decoders.CTC(pad_token="<pad>", word_delimiter_token="|", cleanup=True),
    ],
)
def test_ctc_decoder_on_frame_sequences(decoder, tmp_path):
    rnd = random.Random(3)
    alphabet = ["<pad>", "[PAD]", "|", "_", "a", "b", "c", "'", ".", " .", "n't", "s", "'s", "do", " do not"]
    vocab = {t: i for i, t in enumerate(alphabet)}
    tok = tokenizers.Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tok.decoder = decoder
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    ours = Tokenizer.from_file(str(path))
    for _ in range(300):
        frames = [rnd.choice(alphabet) for _ in range(rnd.randint(0, 25))]
        assert ours.decode_tokens(frames) == tok.decoder.decode(frames), frames


def test_word_level_without_pre_tokenizer_takes_the_ids_only_path(tmp_path):
    vocab = {"<unk>": 0, "hello": 1, "wörld": 2, "日本": 3, " ": 4}
    tok = tokenizers.Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    ours = Tokenizer.from_file(str(path))
    texts = ["hello", "wörld", "日本", " ", "hello world", "", "nope"]
    ids, offsets = ours.encode_batch_flat(texts)
    flat = [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    assert flat == [e.ids for e in tok.encode_batch(texts)] == [[1], [2], [3], [4], [0], [], [0]]
    assert [fields(e) for e in ours.encode_batch(texts)] == [fields(e) for e in tok.encode_batch(texts)]


def test_word_level_without_unk_token_in_vocab_fails_like_the_reference(tmp_path):
    tok = tokenizers.Tokenizer(models.WordLevel({"a": 0}, unk_token="<unk>"))
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    ours = Tokenizer.from_file(str(path))
    assert ours.encode("a").ids == [0]
    with pytest.raises(Exception):  # noqa: B017 - the reference raises a bare Exception
        tok.encode("b")
    with pytest.raises(ferroformers.FerroformersError, match="<unk>"):
        ours.encode("b")


@pytest.mark.parametrize("pre_tokenizer", [pre_tokenizers.UnicodeScripts(), pre_tokenizers.Whitespace()])
def test_char_classes_on_every_code_point(pre_tokenizer, tmp_path):
    """Every BMP char and a seventh of the others, in runs of 64 consecutive code points, so a char
    whose script (or word-char class) differs from the reference's changes the split."""
    tok = tokenizers.Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizer
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    ours = Tokenizer.from_file(str(path))
    chars = [chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000 and (c < 0x10000 or c % 7 == 0)]
    texts = ["".join(chars[i : i + 64]) + "a\u044f " for i in range(0, len(chars), 64)]
    expected = [e.offsets for e in tok.encode_batch(texts)]
    got = [e.offsets for e in ours.encode_batch(texts)]
    bad = [t[:10] for t, a, b in zip(texts, got, expected) if a != b]
    assert not bad, f"{len(bad)} chunks differ, first starting {bad[:3]!r}"


@pytest.mark.parametrize("rule", ["nmt_nfkc", "nfkc_cf"])
def test_precompiled_on_every_code_point(rule, training_texts, tmp_path):
    """A real charsmap over every BMP char and a seventh of the others, in runs of consecutive code
    points (graphemes form across neighbours: Hangul jamo, combining marks, emoji modifiers), plus
    base letters followed by each combining mark."""
    trained = precompiled_only(training_texts, rule)
    # Every char in the vocabulary, so the tokens spell out the normalized text exactly.
    vocab = {"<unk>": 0} | {chr(c): c + 1 for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000}
    tok = tokenizers.Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = trained.normalizer
    tok.pre_tokenizer = trained.pre_tokenizer
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    ours = Tokenizer.from_file(str(path))
    chars = [chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000 and (c < 0x10000 or c % 7 == 0)]
    texts = ["".join(chars[i : i + 48]) for i in range(0, len(chars), 48)]
    texts += [base + chr(mark) for base in "aeoAJ" for mark in range(0x300, 0x370)]
    expected = [fields(e) for e in tok.encode_batch(texts)]
    got = [fields(e) for e in ours.encode_batch(texts)]
    bad = [ascii(t[:6]) for t, a, b in zip(texts, got, expected) if a != b]
    assert not bad, f"{len(bad)} texts differ, first starting {bad[:3]}"


def test_fixed_length_rejects_zero_length():
    tok = tokenizers.Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    data = json.loads(tok.to_str())
    data["pre_tokenizer"] = {"type": "FixedLength", "length": 0}
    # The reference loads it and panics on the first encode; we refuse it when loading.
    with pytest.raises(ferroformers.TokenizerFileError, match="length must be at least 1"):
        Tokenizer.from_str(json.dumps(data))
