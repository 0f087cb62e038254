//! Whole-tokenizer parity with Hugging Face `tokenizers` 0.23.3 for SentencePiece-style
//! tokenizers: `t5-style-unigram` (NFKC, Metaspace, Unigram), `llama-style-bpe` (BPE with byte
//! fallback), and variants of the Unigram one with other Metaspace settings and with byte
//! fallback. Each case compares `encode` (ids, tokens, char offsets, words; special tokens
//! added) and `decode` with the oracle's, on tricky strings and ~3000 corpus paragraphs per
//! shared tokenizer. The expected outputs come from
//! `fixtures/generate_sentencepiece_parity.py`; see there for the fixture format.

use std::collections::HashMap;

use ferroformers_core::tokenizer::{EncodeInput, OffsetType};
use ferroformers_core::{Encoding, Tokenizer};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
const LANGUAGES: [&str; 7] = ["en", "de", "es", "it", "pl", "ru", "zh"];

fn shared_json(name: &str) -> String {
    let path = format!("{SHARED}/tokenizers/{name}/tokenizer.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The variants of `t5-style-unigram` that the fixture generator builds (its `variants()`).
fn variant(name: &str) -> Tokenizer {
    let mut cfg: serde_json::Value =
        serde_json::from_str(&shared_json("t5-style-unigram")).unwrap();
    let mut metaspace = |scheme: &str, split: bool| {
        for key in ["pre_tokenizer", "decoder"] {
            cfg[key]["prepend_scheme"] = scheme.into();
            cfg[key]["split"] = split.into();
        }
    };
    match name {
        "t5-first-nosplit" => metaspace("first", false),
        "t5-never" => metaspace("never", true),
        "t5-byte-fallback" => {
            cfg["model"]["byte_fallback"] = true.into();
            let vocab = cfg["model"]["vocab"].as_array_mut().unwrap();
            for b in 0..=255u8 {
                vocab.push(serde_json::json!([format!("<0x{b:02X}>"), -20.0]));
            }
        }
        _ => panic!("unknown variant {name}"),
    }
    Tokenizer::from_json(&cfg.to_string(), name).unwrap()
}

fn corpus() -> HashMap<&'static str, Vec<String>> {
    LANGUAGES
        .iter()
        .map(|&lang| {
            let path = format!("{SHARED}/corpus/{lang}.txt");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            (lang, text.split("\n\n").map(str::to_string).collect())
        })
        .collect()
}

/// The text the generator hashes: one line per token, then the decoded string.
fn canonical(enc: &Encoding, decoded: &str) -> String {
    let mut out = String::new();
    for i in 0..enc.ids.len() {
        let word = enc.words[i].map_or("-".to_string(), |w| w.to_string());
        let (s, e) = enc.offsets[i];
        out += &format!("{}\t{}\t{s}\t{e}\t{word}\n", enc.ids[i], enc.tokens[i]);
    }
    out + "decoded\t" + decoded
}

fn fnv1a64(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn encode(tok: &Tokenizer, text: &str) -> (Encoding, String) {
    let enc = tok
        .encode(&EncodeInput::from(text), true, OffsetType::Char)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let decoded = tok
        .decode(&enc.ids, true)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
    (enc, decoded)
}

#[derive(serde::Deserialize)]
struct FullCase {
    text: String,
    ids: Vec<u32>,
    tokens: HashMap<usize, String>,
    offsets: Vec<usize>,
    words: Vec<i64>,
    decoded: String,
}

/// Checks every case of `fixtures/sentencepiece_parity_<name>.jsonl`; returns how many.
fn check(name: &str, tok: &Tokenizer, corpus: &HashMap<&str, Vec<String>>) -> usize {
    let path = format!(
        "{}/tests/fixtures/sentencepiece_parity_{name}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut failures = Vec::new();
    let mut cases = 0;
    for line in fixture.lines() {
        cases += 1;
        if line.starts_with('{') {
            let case: FullCase = serde_json::from_str(line).unwrap();
            let (enc, decoded) = encode(tok, &case.text);
            let tokens: Vec<String> = case
                .ids
                .iter()
                .enumerate()
                .map(|(i, &id)| match case.tokens.get(&i) {
                    Some(t) => t.clone(),
                    None => tok.id_to_token(id).unwrap_or_default().to_string(),
                })
                .collect();
            let offsets: Vec<(usize, usize)> =
                case.offsets.chunks(2).map(|c| (c[0], c[1])).collect();
            let words: Vec<Option<u32>> =
                case.words.iter().map(|&w| u32::try_from(w).ok()).collect();
            let got = (&enc.ids, &enc.tokens, &enc.offsets, &enc.words, &decoded);
            let expected = (&case.ids, &tokens, &offsets, &words, &case.decoded);
            if got != expected {
                failures.push(format!(
                    "{:?}:\n  got      {got:?}\n  expected {expected:?}",
                    case.text
                ));
            }
        } else {
            let (lang, index, n, digest): (String, usize, usize, String) =
                serde_json::from_str(line).unwrap();
            let text = &corpus[lang.as_str()][index];
            let (enc, decoded) = encode(tok, text);
            if enc.ids.len() != n || fnv1a64(&canonical(&enc, &decoded)) != digest {
                failures.push(format!(
                    "{lang} paragraph {index} {text:?}: got {} tokens (expected {n}), a different \
                     digest; run the generator's full_case() on it to compare:\n{}",
                    enc.ids.len(),
                    canonical(&enc, &decoded)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {cases} cases differ, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
    cases
}

#[test]
fn t5_style_unigram_matches_hugging_face() {
    let path = format!("{SHARED}/tokenizers/t5-style-unigram/tokenizer.json");
    let tok = Tokenizer::from_file(&path).unwrap();
    assert!(check("t5-style-unigram", &tok, &corpus()) > 3000);
}

#[test]
fn llama_style_bpe_matches_hugging_face() {
    let path = format!("{SHARED}/tokenizers/llama-style-bpe/tokenizer.json");
    let tok = Tokenizer::from_file(&path).unwrap();
    assert!(check("llama-style-bpe", &tok, &corpus()) > 3000);
}

#[test]
fn metaspace_and_unigram_variants_match_hugging_face() {
    let corpus = corpus();
    for name in ["t5-first-nosplit", "t5-never", "t5-byte-fallback"] {
        assert!(check(name, &variant(name), &corpus) > 700, "{name}");
    }
}

#[test]
fn t5_style_unigram_round_trips_through_json() {
    // Scores are written back as Hugging Face holds them (see `unigram.rs` on how it reads
    // them), so saving and loading again gives the same tokenizer.
    let path = format!("{SHARED}/tokenizers/t5-style-unigram/tokenizer.json");
    let tok = Tokenizer::from_file(&path).unwrap();
    let json = tok.to_json(false).unwrap();
    let again = Tokenizer::from_json(&json, "round trip").unwrap();
    assert_eq!(again.to_json(false).unwrap(), json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["model"]["type"], "Unigram");
    assert_eq!(value["model"]["unk_id"], 2);
    assert_eq!(value["model"]["byte_fallback"], false);
    assert_eq!(
        value["pre_tokenizer"].to_string(),
        r#"{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}"#
    );
    let text = "Hello world, ☃ snowman!";
    let a = tok.encode(&EncodeInput::from(text), true, OffsetType::Char);
    let b = again.encode(&EncodeInput::from(text), true, OffsetType::Char);
    assert_eq!(a.unwrap(), b.unwrap());
}
