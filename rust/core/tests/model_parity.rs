//! Model-level parity with Hugging Face `tokenizers` 0.23.3 on real text: the `model` object of
//! each shared `tokenizer.json` is loaded with serde, and the tokens of a few thousand real
//! pre-tokenized pieces are compared with the oracle's (ids, values and offsets). The expected
//! outputs come from `fixtures/generate_model_parity.py`.

use ferroformers_core::models::{Model, ModelWrapper};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/tokenizers");

fn load_model(name: &str) -> ModelWrapper {
    let path = format!("{SHARED}/{name}/tokenizer.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(json["model"].take()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Case {
    piece: String,
    ids: Vec<u32>,
    offsets: Vec<(usize, usize)>,
}

fn load_cases(name: &str) -> Vec<Case> {
    let path = format!(
        "{}/tests/fixtures/model_parity_{name}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|line| {
            let (piece, ids, flat): (String, Vec<u32>, Vec<usize>) =
                serde_json::from_str(line).unwrap();
            let offsets = flat.chunks(2).map(|c| (c[0], c[1])).collect();
            Case {
                piece,
                ids,
                offsets,
            }
        })
        .collect()
}

/// Checks every fixture piece, and returns how often each id was produced.
fn check_parity(name: &str) -> std::collections::HashMap<u32, usize> {
    let model = load_model(name);
    let cases = load_cases(name);
    assert!(cases.len() > 2000, "{name}: only {} cases", cases.len());
    let mut counts = std::collections::HashMap::new();
    // Twice: the second pass is served by the BPE cache and must agree too.
    for pass in 0..2 {
        let mut failures = Vec::new();
        for case in &cases {
            let tokens = model.tokenize(&case.piece).unwrap();
            let ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
            let offsets: Vec<(usize, usize)> = tokens.iter().map(|t| t.offsets).collect();
            if ids != case.ids || offsets != case.offsets {
                failures.push(format!(
                    "{:?}: got {ids:?} {offsets:?}, expected {:?} {:?}",
                    case.piece, case.ids, case.offsets
                ));
            }
            for t in &tokens {
                assert_eq!(Some(t.value.as_str()), model.id_to_token(t.id));
                if pass == 0 {
                    *counts.entry(t.id).or_default() += 1;
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{name} (pass {pass}): {} of {} pieces differ, first ones:\n{}",
            failures.len(),
            cases.len(),
            failures[..failures.len().min(10)].join("\n")
        );
    }
    counts
}

#[test]
fn gpt2_matches_hugging_face() {
    check_parity("gpt2");
}

#[test]
fn roberta_style_bpe_matches_hugging_face() {
    check_parity("roberta-style-bpe");
}

#[test]
fn llama_style_bpe_matches_hugging_face() {
    let counts = check_parity("llama-style-bpe");
    let model = load_model("llama-style-bpe");
    // The sample must exercise byte fallback and the fused unknown token.
    let byte_tokens: usize = (0..=255u8)
        .filter_map(|b| model.token_to_id(&format!("<0x{b:02X}>")))
        .map(|id| counts.get(&id).copied().unwrap_or(0))
        .sum();
    assert!(byte_tokens > 0, "no byte-fallback token in the sample");
}

#[test]
fn bert_uncased_matches_hugging_face() {
    let counts = check_parity("bert-uncased");
    let model = load_model("bert-uncased");
    assert!(counts.contains_key(&model.token_to_id("[UNK]").unwrap()));
}

#[test]
fn bert_cased_wordpiece_matches_hugging_face() {
    check_parity("bert-cased-wordpiece");
}

#[test]
fn bpe_from_legacy_files_matches_tokenizer_json() {
    use ferroformers_core::models::bpe::Bpe;
    let dir = std::path::Path::new(SHARED).join("gpt2");
    let from_files = Bpe::from_files(&dir.join("vocab.json"), &dir.join("merges.txt")).unwrap();
    let from_json = load_model("gpt2");
    assert_eq!(from_files.vocab_size(), from_json.vocab_size());
    for case in load_cases("gpt2").iter().take(500) {
        assert_eq!(
            from_files.tokenize(&case.piece).unwrap(),
            from_json.tokenize(&case.piece).unwrap()
        );
    }
}

#[test]
fn wordpiece_from_vocab_txt_matches_tokenizer_json() {
    use ferroformers_core::models::wordpiece::WordPiece;
    let path = std::path::Path::new(SHARED).join("bert-uncased/vocab.txt");
    let from_txt = WordPiece::from_vocab_txt(&path, "[UNK]", "##", 100).unwrap();
    let from_json = load_model("bert-uncased");
    assert_eq!(from_txt.vocab(), from_json.vocab());
    for case in load_cases("bert-uncased").iter().take(500) {
        assert_eq!(
            from_txt.tokenize(&case.piece).unwrap(),
            from_json.tokenize(&case.piece).unwrap()
        );
    }
}

#[test]
fn serialized_models_load_back_identically() {
    for name in ["gpt2", "llama-style-bpe", "bert-uncased"] {
        let model = load_model(name);
        let json = serde_json::to_string(&model).unwrap();
        let back: ModelWrapper = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json, "{name}");
        for case in load_cases(name).iter().take(200) {
            assert_eq!(
                back.tokenize(&case.piece).unwrap(),
                model.tokenize(&case.piece).unwrap()
            );
        }
    }
}
