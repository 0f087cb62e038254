//! The fuzz targets' bodies (`fuzz/src/lib.rs`) on stable Rust, driven by a seeded generator instead
//! of libFuzzer, so every `cargo test` fuzzes a little and anyone can run a long campaign without
//! nightly:
//!
//! - `encode_decode`: byte strings (random bytes, and text drawn from a pool weighted toward
//!   whitespace, combining marks, emoji, CJK, controls and the shared tokenizers' special tokens)
//!   through each shared tokenizer, as written and with truncation / padding on;
//! - `parse_tokenizer_json`: the shared `tokenizer.json` files mutated: cut short, bytes flipped,
//!   and, keeping the JSON valid, values swapped between fields, replaced by another type (null,
//!   -1, 2^64, 1e308, "", [], {}) or keys removed.
//!
//! `FERRO_FUZZ_CASES` (per test, default 1,000 / 400) and `FERRO_FUZZ_SEED` (default 0) scale it
//! up: `FERRO_FUZZ_CASES=100000 cargo test --release -p ferroformers-core --test fuzz_bodies`.
//! A failing case prints its seed and index; the same seed reproduces it.

#[path = "../../../fuzz/src/lib.rs"]
mod bodies;

use std::path::Path;

use ferroformers_core::Tokenizer;
use serde_json::Value;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/tokenizers");

/// splitmix64: a tiny seeded generator, enough to spread cases (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    env_number("FERRO_FUZZ_SEED", 0)
}

/// Pieces random text is made of: what tokenizers find hard.
const PIECES: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\t",
    "\r\n",
    "\u{0}",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{200b}",
    "\u{200d}",
    "\u{feff}",
    "\u{2028}",
    "\u{301}",
    "\u{308}",
    "\u{fe0f}",
    "e\u{301}",
    "ﬁ",
    "Å",
    "ß",
    "İ",
    "ǅ",
    "日本語",
    "中",
    "한국어",
    "ไทย",
    "عربى",
    "עברית",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "🇫🇷",
    "𝔘",
    "\u{10ffff}",
    "\u{e000}",
    "a",
    "Hello",
    "world",
    "don't",
    "'s",
    "123",
    "4.5",
    "--",
    "...",
    "!?",
    "http://x.y/z",
    "<|endoftext|>",
    "[CLS]",
    "[SEP]",
    "[PAD]",
    "[MASK]",
    "[UNK]",
    "<s>",
    "</s>",
    "<pad>",
    "<unk>",
    "<mask>",
    "▁",
    "Ġ",
    "##",
    "<0x41>",
];

fn random_case(rng: &mut Rng) -> Vec<u8> {
    let mut data = vec![rng.next() as u8];
    let len = rng.below(200);
    if rng.below(4) == 0 {
        data.extend((0..len).map(|_| rng.next() as u8)); // mostly invalid UTF-8
    } else {
        for _ in 0..len / 4 {
            data.extend_from_slice(rng.pick(PIECES).as_bytes());
        }
    }
    data
}

#[test]
fn encode_decode_on_random_bytes_never_panics() {
    let tokenizers = bodies::load_tokenizers(Path::new(SHARED));
    let cases = env_number("FERRO_FUZZ_CASES", 1000);
    let mut rng = Rng(seed());
    for case in 0..cases {
        let data = random_case(&mut rng);
        let tokenizer = &tokenizers[case as usize % tokenizers.len()];
        run_case("encode_decode", case, &data, || {
            bodies::encode_decode(tokenizer, &data)
        });
    }
}

/// Kinds of value a mutated field can get.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => Value::from(-1),
        2 => Value::from(u64::MAX),
        3 => serde_json::from_str("1e308").unwrap(),
        4 => Value::from(""),
        5 => Value::Array(vec![]),
        6 => Value::Object(Default::default()),
        7 => Value::from(true),
        8 => Value::from(0),
        9 => Value::from("\u{0}\u{301}[CLS]"),
        10 => Value::from(1_000_000_000u64),
        _ => Value::from(0.5),
    }
}

/// Every path to a value in `json` (objects and arrays alike), skipping into vocabularies and merge
/// lists beyond their first entries (they are large and all alike).
fn paths(json: &Value, prefix: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(prefix.clone());
    match json {
        Value::Object(map) => {
            for (key, value) in map.iter().take(16) {
                prefix.push(PathStep::Key(key.clone()));
                paths(value, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate().take(8) {
                prefix.push(PathStep::Index(i));
                paths(value, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at<'a>(json: &'a mut Value, path: &[PathStep]) -> &'a mut Value {
    path.iter().fold(json, |v, step| match step {
        PathStep::Key(k) => &mut v[k.as_str()],
        PathStep::Index(i) => &mut v[*i],
    })
}

/// One mutation of a parsed `tokenizer.json`, keeping it valid JSON.
fn mutate_structure(json: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    paths(json, &mut Vec::new(), &mut all);
    let target = rng.pick(&all[1..]).clone();
    match rng.below(4) {
        0 => *at(json, &target) = odd_value(rng),
        1 => {
            let other = rng.pick(&all[1..]).clone();
            let value = at(json, &other).clone();
            *at(json, &target) = value;
        }
        2 => {
            let (last, parent) = target.split_last().unwrap();
            match (at(json, parent), last) {
                (Value::Object(map), PathStep::Key(k)) => {
                    map.remove(k);
                }
                (Value::Array(items), PathStep::Index(i)) if *i < items.len() => {
                    items.remove(*i);
                }
                _ => {}
            }
        }
        _ => {
            let value = at(json, &target).clone();
            if let Value::Array(items) = at(json, &target) {
                items.push(value);
            } else {
                *at(json, &target) = Value::Array(vec![value]);
            }
        }
    }
}

/// `json` (a `tokenizer.json`) with its model's vocabulary cut to the ids below `keep` and the
/// added tokens' (and BPE merges to those whose parts and result remain): the same pipeline, parsed
/// in a fraction of the time, so a debug-build `cargo test` gets through many more mutations.
fn shrink_vocabulary(mut json: Value, keep: u64) -> Value {
    let added: Vec<u64> = json["added_tokens"]
        .as_array()
        .map(|tokens| tokens.iter().filter_map(|t| t["id"].as_u64()).collect())
        .unwrap_or_default();
    let kept = |id: &Value| {
        id.as_u64()
            .is_some_and(|id| id < keep || added.contains(&id))
    };
    let model = &mut json["model"];
    match &mut model["vocab"] {
        Value::Object(vocab) => vocab.retain(|_, id| kept(id)),
        Value::Array(pieces) => pieces.truncate(keep as usize),
        _ => {}
    }
    let vocab = model["vocab"].clone();
    if let Value::Array(merges) = &mut model["merges"] {
        merges.retain(|merge| {
            let (a, b) = match merge {
                Value::String(s) => match s.split_once(' ') {
                    Some((a, b)) => (a.to_owned(), b.to_owned()),
                    None => return false,
                },
                Value::Array(pair) if pair.len() == 2 => (
                    pair[0].as_str().unwrap_or_default().to_owned(),
                    pair[1].as_str().unwrap_or_default().to_owned(),
                ),
                _ => return false,
            };
            [&a, &b, &format!("{a}{b}")]
                .iter()
                .all(|piece| vocab.get(piece.as_str()).is_some())
        });
    }
    json
}

/// The shared `tokenizer.json` files, as text: each whole, and each with its vocabulary shrunk.
fn tokenizer_sources() -> (Vec<String>, Vec<String>) {
    let mut whole: Vec<String> = std::fs::read_dir(SHARED)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("tokenizer.json")).ok())
        .collect();
    whole.sort();
    let small = whole
        .iter()
        .map(|text| shrink_vocabulary(serde_json::from_str(text).unwrap(), 400).to_string())
        .collect();
    (whole, small)
}

#[test]
fn parse_mutated_tokenizer_json_never_panics() {
    // Mutations go to the shrunk files (a full vocabulary takes most of a second to parse in a debug
    // build); one case in 16 cuts or flips a whole file.
    let (whole, small) = tokenizer_sources();
    let cases = env_number("FERRO_FUZZ_CASES", 400);
    let mut rng = Rng(seed() ^ 0x5eed);
    for case in 0..cases {
        let use_whole = rng.below(16) == 0;
        let text = rng.pick(if use_whole { &whole } else { &small });
        let data: Vec<u8> = match rng.below(5) {
            0 => text.as_bytes()[..rng.below(text.len())].to_vec(),
            1 => {
                let mut bytes = text.as_bytes().to_vec();
                for _ in 0..=rng.below(4) {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
                bytes
            }
            _ => {
                let mut json: Value = serde_json::from_str(text).unwrap();
                for _ in 0..=rng.below(3) {
                    mutate_structure(&mut json, &mut rng);
                }
                serde_json::to_vec(&json).unwrap()
            }
        };
        run_case("parse_tokenizer_json", case, &data, || {
            bodies::parse_tokenizer_json(&data)
        });
    }
}

#[test]
fn shared_tokenizers_parse_and_pass_the_body() {
    // The unmutated files, whole and shrunk, must parse: otherwise the mutations above would only
    // test error paths.
    let (whole, small) = tokenizer_sources();
    for text in whole.iter().chain(&small) {
        if let Err(e) = Tokenizer::from_json(text, "shared") {
            panic!("{e}: {}", &text[..text.len().min(300)]);
        }
        bodies::parse_tokenizer_json(text.as_bytes());
    }
    // `FERRO_FUZZ_SEEDS=fuzz/corpus/tokenizer_json` writes the shrunk files there: libFuzzer's seeds.
    if let Some(folder) = std::env::var_os("FERRO_FUZZ_SEEDS") {
        std::fs::create_dir_all(&folder).unwrap();
        for (i, text) in small.iter().enumerate() {
            std::fs::write(Path::new(&folder).join(format!("shared-{i}.json")), text).unwrap();
        }
    }
}

/// `FERRO_FUZZ_REPLAY=<file>` runs one saved libFuzzer input of the `encode_decode` target (its first
/// byte picks the tokenizer, as there) and prints how long it took; without it this test does nothing.
#[test]
fn replay_an_encode_decode_input() {
    let Some(path) = std::env::var_os("FERRO_FUZZ_REPLAY") else {
        return;
    };
    let data = std::fs::read(path).unwrap();
    let tokenizers = bodies::load_tokenizers(Path::new(SHARED));
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let start = std::time::Instant::now();
    bodies::encode_decode(&tokenizers[usize::from(pick) % tokenizers.len()], rest);
    eprintln!("replayed {} bytes in {:?}", data.len(), start.elapsed());
}

/// Run one case; on a panic, say how to reproduce it and save the input for `cargo fuzz run`.
fn run_case(target: &str, case: u64, data: &[u8], body: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        let saved = std::env::temp_dir().join(format!("ferro-fuzz-{target}-{}-{case}", seed()));
        let _ = std::fs::write(&saved, data);
        eprintln!(
            "{target}: case {case} with FERRO_FUZZ_SEED={} panicked; its input is in {} \
             (replay: cargo +nightly fuzz run {target} {})",
            seed(),
            saved.display(),
            saved.display()
        );
        std::panic::resume_unwind(panic);
    }
}
