//! libFuzzer target: arbitrary bytes encoded and decoded by the shared tokenizers, as written and
//! with truncation/padding on (`cargo +nightly fuzz run encode_decode`). The first byte picks the
//! tokenizer, the rest is the input of `ferroformers_fuzz::encode_decode`.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use ferroformers_core::Tokenizer;

fn tokenizers() -> &'static [Tokenizer] {
    static TOKENIZERS: OnceLock<Vec<Tokenizer>> = OnceLock::new();
    TOKENIZERS.get_or_init(|| {
        let folder = std::env::var_os("FERRO_FUZZ_TOKENIZERS")
            .map(Into::into)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tokenizers")
            });
        ferroformers_fuzz::load_tokenizers(&folder)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let tokenizers = tokenizers();
    ferroformers_fuzz::encode_decode(&tokenizers[usize::from(pick) % tokenizers.len()], rest);
});
