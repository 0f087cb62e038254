//! libFuzzer target: arbitrary bytes as a `tokenizer.json` (`cargo +nightly fuzz run tokenizer_json`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ferroformers_fuzz::parse_tokenizer_json(data);
});
