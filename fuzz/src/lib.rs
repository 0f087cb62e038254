//! The bodies of the fuzz targets, shared by libFuzzer (`fuzz_targets/*.rs`, nightly, `cargo fuzz
//! run`) and by the seeded stable run in `rust/core/tests/fuzz_bodies.rs` (which includes this file
//! by path, so both drive the same code).
//!
//! The promise checked: whatever the bytes, the core returns `Ok` or `Err` and never panics, hangs or
//! aborts; and what it returns is self-consistent (every `Encoding` field has one entry per token,
//! the ids-only paths give the full path's ids, ids past the vocabulary are an error in `decode`,
//! and a `tokenizer.json` that parsed serialises to one that parses again).

use std::borrow::Cow;
use std::path::Path;

use ferroformers_core::tokenizer::{
    DirectionName, EncodeInput, InputSequence, OffsetType, PaddingParams, PaddingStrategy,
    Tokenizer, TruncationParams, TruncationStrategy,
};
use ferroformers_core::Encoding;

/// Inputs longer than this are cut: the targets look for crashes, not for slow big inputs (the
/// Python tests bound time and memory of multi-megabyte texts).
const MAX_INPUT: usize = 4096;

/// Parse `data` as a `tokenizer.json`; a tokenizer that parses must encode, decode and round-trip.
pub fn parse_tokenizer_json(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tokenizer) = Tokenizer::from_json(json, "<fuzz input>") else {
        return;
    };
    for probe in [
        &b"\x00Hello world, caf\xc3\xa9 \xe2\x80\x94 12 345!"[..],
        b"\x03a b  c\n\t<|endoftext|>[CLS]</s>",
        b"\x1f",
    ] {
        encode_decode(&tokenizer, probe);
    }
    // What we read, we can write and read again (a saved tokenizer must load). Known exception: a
    // vocabulary in which two tokens share an id loads (as in Hugging Face) but saves one of them.
    let vocab = tokenizer.get_vocab(false);
    let distinct_ids: std::collections::HashSet<_> = vocab.values().collect();
    if distinct_ids.len() < vocab.len() {
        return;
    }
    if let Ok(written) = tokenizer.to_json(false) {
        if let Err(e) = Tokenizer::from_json(&written, "<fuzz round trip>") {
            panic!("a parsed tokenizer.json does not parse after saving: {e}\n{written}");
        }
    }
}

/// Encode and decode `data` with `tokenizer`. The first byte picks the options (special tokens,
/// a pair, pre-tokenized words, byte offsets, skipping special tokens in `decode`); the rest is the
/// text (invalid UTF-8 replaced) and, read as little-endian u16s, ids to decode.
pub fn encode_decode(tokenizer: &Tokenizer, data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let add_special_tokens = flags & 1 != 0;
    let offsets = if flags & 8 != 0 {
        OffsetType::Byte
    } else {
        OffsetType::Char
    };
    let skip_special_tokens = flags & 16 != 0;
    let input = encode_input(&text, flags & 2 != 0, flags & 4 != 0);

    let full = tokenizer.encode(&input, add_special_tokens, offsets);
    if let Ok(encoding) = &full {
        check_consistent(encoding);
        if let Ok(ids_only) =
            tokenizer.encode_batch_ids_only(std::slice::from_ref(&input), add_special_tokens)
        {
            assert_eq!(
                ids_only[0].ids, encoding.ids,
                "the ids-only path disagrees with encode on {text:?}"
            );
            check_consistent(&ids_only[0]);
        }
        if tokenizer.padding.is_none() {
            if let Ok(ragged) =
                tokenizer.encode_batch_ids(std::slice::from_ref(&input), add_special_tokens)
            {
                assert_eq!(
                    ragged.row(0),
                    &encoding.ids[..],
                    "encode_batch_ids disagrees with encode on {text:?}"
                );
            }
        }
        let _ = tokenizer.decode(&encoding.ids, skip_special_tokens);
    }

    // Arbitrary ids, some past the vocabulary: those must be an error, never a panic.
    let vocab_size = tokenizer.get_vocab_size(true);
    let ids: Vec<u32> = rest
        .chunks_exact(2)
        .map(|pair| u32::from(u16::from_le_bytes([pair[0], pair[1]])) % (vocab_size as u32 + 3))
        .collect();
    let decoded = tokenizer.decode(&ids, skip_special_tokens);
    if ids.iter().any(|&id| tokenizer.id_to_token(id).is_none()) {
        assert!(
            decoded.is_err(),
            "decode accepted an id past the vocabulary"
        );
    }
    let _ = tokenizer.decode_tokens(text.split(' ').map(str::to_owned).collect());
}

fn encode_input<'s>(text: &'s str, pair: bool, pretokenized: bool) -> EncodeInput<'s> {
    let sequence = |s: &'s str| -> InputSequence<'s> {
        if pretokenized {
            InputSequence::PreTokenized(s.split_whitespace().map(Cow::Borrowed).collect())
        } else {
            InputSequence::Raw(Cow::Borrowed(s))
        }
    };
    if pair {
        let middle = (0..=text.len() / 2)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        EncodeInput {
            first: sequence(&text[..middle]),
            second: Some(sequence(&text[middle..])),
        }
    } else {
        EncodeInput {
            first: sequence(text),
            second: None,
        }
    }
}

fn check_consistent(encoding: &Encoding) {
    let n = encoding.ids.len();
    assert_eq!(encoding.type_ids.len(), n, "type_ids");
    assert_eq!(encoding.attention_mask.len(), n, "attention_mask");
    assert_eq!(encoding.special_tokens_mask.len(), n, "special_tokens_mask");
    assert_eq!(encoding.offsets.len(), n, "offsets");
    for overflow in &encoding.overflowing {
        check_consistent(overflow);
    }
}

/// The tokenizers the encode/decode target runs on: every shared `tokenizer.json` under `folder`
/// (sorted by name), each as written and with truncation and padding switched on (two settings,
/// one with a stride and left-side padding), so those code paths are fuzzed too.
pub fn load_tokenizers(folder: &Path) -> Vec<Tokenizer> {
    let mut paths: Vec<_> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .filter_map(|entry| Some(entry.ok()?.path().join("tokenizer.json")))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no tokenizer.json under {}",
        folder.display()
    );
    let mut tokenizers = Vec::new();
    for path in paths {
        let plain = Tokenizer::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut short = plain.clone();
        short.truncation = Some(TruncationParams {
            max_length: 7,
            stride: 2,
            strategy: TruncationStrategy::LongestFirst,
            direction: DirectionName::Right,
        });
        let mut padded = plain.clone();
        padded.truncation = Some(TruncationParams {
            max_length: 24,
            stride: 0,
            strategy: TruncationStrategy::OnlyFirst,
            direction: DirectionName::Left,
        });
        padded.padding = Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(24),
            direction: DirectionName::Left,
            pad_to_multiple_of: Some(8),
            pad_id: 0,
            pad_type_id: 0,
            pad_token: "<pad>".to_owned(),
        });
        tokenizers.extend([plain, short, padded]);
    }
    tokenizers
}
