//! Logits processors that apply in every decoding mode (greedy, sampling, beam search), one file
//! per transformers class.

mod bad_words;
mod min_length;
mod min_new_tokens;
mod no_repeat_ngram;
mod repetition_penalty;
mod suppress_tokens;

pub use bad_words::BadWords;
pub use min_length::MinLength;
pub use min_new_tokens::MinNewTokens;
pub use no_repeat_ngram::NoRepeatNGram;
pub use repetition_penalty::RepetitionPenalty;
pub use suppress_tokens::SuppressTokens;

/// Set `scores[t]` to `-inf` for every id in `ids` that is inside the vocabulary.
pub(crate) fn ban(scores: &mut [f32], ids: impl IntoIterator<Item = u32>) {
    for t in ids {
        if let Some(s) = scores.get_mut(t as usize) {
            *s = f32::NEG_INFINITY;
        }
    }
}
