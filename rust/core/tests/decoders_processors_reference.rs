//! Parity with Hugging Face `tokenizers` 0.23.3 for the decoder and post-processor of every
//! tokenizer in `shared/tokenizers`: expected outputs were written by
//! `fixtures/make_post_decode_fixtures.py` with the reference.

use ferroformers_core::decoders::{Decoder, DecoderWrapper};
use ferroformers_core::processors::{PostProcessor, PostProcessorWrapper};
use ferroformers_core::Encoding;
use serde_json::Value;

fn fixture(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn encoding(v: &Value) -> Encoding {
    Encoding {
        ids: u32s(&v["ids"]),
        type_ids: u32s(&v["type_ids"]),
        tokens: strings(&v["tokens"]),
        words: v["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_u64().map(|w| w as u32))
            .collect(),
        offsets: v["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o[0].as_u64().unwrap() as usize,
                    o[1].as_u64().unwrap() as usize,
                )
            })
            .collect(),
        special_tokens_mask: u32s(&v["special_tokens_mask"]),
        attention_mask: u32s(&v["attention_mask"]),
        overflowing: v["overflowing"]
            .as_array()
            .unwrap()
            .iter()
            .map(encoding)
            .collect(),
        ..Default::default()
    }
}

fn sequence_ids(v: &Value) -> Vec<Option<usize>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().map(|s| s as usize))
        .collect()
}

/// Compare every field, and the overflowing pieces recursively. With `nested: false`, the
/// overflowing pieces' own `overflowing` lists are not compared: the reference nests pieces there
/// (its `merge_with` keeps the first encoding's overflowing when combining it with the pair's),
/// which our `Encoding::merge_with` does not do yet.
fn assert_same(got: &Encoding, want: &Value, what: &str, nested: bool) {
    let mut expected = encoding(want);
    let want_overflowing = std::mem::take(&mut expected.overflowing);
    let mut got_flat = got.clone();
    got_flat.overflowing.clear();
    got_flat.sequence_ranges.clear();
    assert_eq!(got_flat, expected, "{what}");
    assert_eq!(
        got.sequence_ids(),
        sequence_ids(&want["sequence_ids"]),
        "{what}: sequence ids"
    );
    if !nested && what.contains("overflowing") {
        return;
    }
    assert_eq!(
        got.overflowing.len(),
        want_overflowing.len(),
        "{what}: overflowing count"
    );
    for (i, (g, w)) in got
        .overflowing
        .iter()
        .zip(want["overflowing"].as_array().unwrap())
        .enumerate()
    {
        assert_same(g, w, &format!("{what} / overflowing {i}"), nested);
    }
}

#[test]
fn decoders_match_the_reference() {
    let cases = fixture("decoders.json");
    assert!(!cases.is_empty());
    for case in &cases {
        let decoder: DecoderWrapper = serde_json::from_value(case["decoder"].clone()).unwrap();
        let tokens = strings(&case["tokens"]);
        let got = decoder.decode(tokens.clone()).unwrap();
        assert_eq!(
            got,
            case["text"].as_str().unwrap(),
            "{}: {tokens:?}",
            case["tokenizer"]
        );
    }
}

#[test]
fn decoder_configs_round_trip() {
    for case in fixture("decoders.json") {
        let decoder: DecoderWrapper = serde_json::from_value(case["decoder"].clone()).unwrap();
        assert_eq!(serde_json::to_value(&decoder).unwrap(), case["decoder"]);
    }
}

#[test]
fn processors_match_the_reference() {
    check_processors(false);
}

#[test]
fn processors_match_the_reference_with_nested_overflowing() {
    check_processors(true);
}

fn check_processors(nested: bool) {
    let cases = fixture("processors.json");
    assert!(!cases.is_empty());
    for (n, case) in cases.iter().enumerate() {
        let processor: PostProcessorWrapper =
            serde_json::from_value(case["processor"].clone()).unwrap();
        assert_eq!(serde_json::to_value(&processor).unwrap(), case["processor"]);
        let a = encoding(&case["a"]);
        let b = (!case["b"].is_null()).then(|| encoding(&case["b"]));
        let is_pair = b.is_some();
        let add_special = case["add_special_tokens"].as_bool().unwrap();
        let what = format!(
            "case {n}: {} {} pair={is_pair} add_special={add_special}",
            case["tokenizer"], case["processor"]["type"]
        );
        assert_eq!(
            processor.added_tokens(is_pair),
            case["added_tokens"].as_u64().unwrap() as usize,
            "{what}: added_tokens"
        );
        let got = processor.process(a, b, add_special).unwrap();
        assert_same(&got, &case["expected"], &what, nested);
    }
}
