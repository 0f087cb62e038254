//! Added tokens: tokens the user (or the tokenizer file) adds on top of the model's vocabulary.
//! They are matched in the raw or normalized text before pre-tokenization and never split.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::models::{Model, Token};
use crate::normalizers::Normalizer;
use crate::tokenizer::normalized::NormalizedString;
use crate::tokenizer::pre_tokenized::{PreTokenizedString, Split};
use crate::Result;

/// One added token, with `tokenizer.json`'s flags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddedToken {
    pub content: String,
    /// Match only when not inside a word.
    #[serde(default)]
    pub single_word: bool,
    /// Swallow the whitespace on its left / right.
    #[serde(default)]
    pub lstrip: bool,
    #[serde(default)]
    pub rstrip: bool,
    /// Match against the normalized text (else the raw text).
    #[serde(default = "default_normalized")]
    pub normalized: bool,
    #[serde(default)]
    pub special: bool,
}

fn default_normalized() -> bool {
    true
}

impl AddedToken {
    /// A token as `add_tokens` / `add_special_tokens` create it: special tokens match raw text.
    pub fn new(content: impl Into<String>, special: bool) -> Self {
        AddedToken {
            content: content.into(),
            single_word: false,
            lstrip: false,
            rstrip: false,
            normalized: !special,
            special,
        }
    }
}

/// An automaton over some added tokens, with the id of each pattern.
#[derive(Debug, Clone, Default)]
struct Matcher {
    automaton: Option<AhoCorasick>,
    ids: Vec<u32>,
    /// The distinct first bytes of the patterns when there are at most three (GPT-2's one
    /// special token has one): a text without any of them has no match, which `memchr` tells
    /// in a few nanoseconds, less than starting the automaton's search on every text costs.
    first_bytes: Option<Vec<u8>>,
}

impl Matcher {
    fn build(patterns: Vec<(String, u32)>) -> Self {
        if patterns.is_empty() {
            return Matcher::default();
        }
        let (texts, ids): (Vec<String>, Vec<u32>) = patterns.into_iter().unzip();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&texts)
            .expect("aho-corasick over added tokens");
        let mut first_bytes: Vec<u8> = texts.iter().filter_map(|t| t.bytes().next()).collect();
        first_bytes.sort_unstable();
        first_bytes.dedup();
        // An empty pattern would match anywhere: no byte rules it out.
        let every_pattern_has_a_first_byte = texts.iter().all(|t| !t.is_empty());
        Matcher {
            automaton: Some(automaton),
            ids,
            first_bytes: (every_pattern_has_a_first_byte && first_bytes.len() <= 3)
                .then_some(first_bytes),
        }
    }

    /// False when `text` cannot hold a match (a quick test, see `first_bytes`).
    fn may_match(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        match self.first_bytes.as_deref() {
            Some(&[a]) => memchr::memchr(a, bytes).is_some(),
            Some(&[a, b]) => memchr::memchr2(a, b, bytes).is_some(),
            Some(&[a, b, c]) => memchr::memchr3(a, b, c, bytes).is_some(),
            _ => true,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AddedVocabulary {
    /// In insertion order, as `tokenizer.json` lists them.
    tokens: Vec<(u32, AddedToken)>,
    by_content: FxHashMap<String, u32>,
    by_id: FxHashMap<u32, usize>,
    special: FxHashSet<String>,
    raw_matcher: Matcher,
    normalized_matcher: Matcher,
    /// The normalized text of each `normalized` token: what `id_to_token` and decoding show,
    /// as Hugging Face does (while `token_to_id` and the vocabulary keep the text as added).
    normalized_text: FxHashMap<u32, String>,
    /// When true, special tokens are not matched in the input (they are encoded as text).
    pub encode_special_tokens: bool,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl AddedVocabulary {
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn tokens(&self) -> impl Iterator<Item = &(u32, AddedToken)> {
        self.tokens.iter()
    }

    pub fn token_to_id(&self, content: &str) -> Option<u32> {
        self.by_content.get(content).copied()
    }

    pub fn id_to_token(&self, id: u32) -> Option<&AddedToken> {
        self.by_id.get(&id).map(|&i| &self.tokens[i].1)
    }

    /// The text of an added token as decoding shows it (normalized for `normalized` tokens).
    pub fn id_to_text(&self, id: u32) -> Option<&str> {
        let token = self.id_to_token(id)?;
        Some(
            self.normalized_text
                .get(&id)
                .map_or(token.content.as_str(), String::as_str),
        )
    }

    pub fn is_special(&self, content: &str) -> bool {
        self.special.contains(content)
    }

    /// Add tokens; a token already in the model's vocabulary keeps the model's id, a new one gets
    /// the next free id. Returns how many of `tokens` were not already present with the same flags.
    pub fn add<M: Model + ?Sized, N: Normalizer + ?Sized>(
        &mut self,
        tokens: &[AddedToken],
        model: &M,
        normalizer: Option<&N>,
    ) -> usize {
        let mut ignored = 0;
        for token in tokens {
            if token.content.is_empty() {
                ignored += 1;
                continue;
            }
            if token.special {
                // Once special, always special (Hugging Face keeps them in a separate list).
                self.special.insert(token.content.clone());
            }
            if let Some(&id) = self.by_content.get(&token.content) {
                let slot = self.by_id[&id];
                if self.tokens[slot].1 == *token {
                    ignored += 1;
                } else {
                    // Re-adding updates the flags.
                    self.tokens[slot].1 = token.clone();
                }
                continue;
            }
            let id = model.token_to_id(&token.content).unwrap_or_else(|| {
                let vocab = model.vocab_size() as u32;
                match self.by_id.keys().max() {
                    Some(&max) if max >= vocab || vocab == 0 => max + 1,
                    _ => vocab,
                }
            });
            self.by_content.insert(token.content.clone(), id);
            self.by_id.insert(id, self.tokens.len());
            self.tokens.push((id, token.clone()));
        }
        self.rebuild_matchers(normalizer);
        tokens.len() - ignored
    }

    /// Rebuild the automata (also needed when the normalizer changes).
    pub fn rebuild_matchers<N: Normalizer + ?Sized>(&mut self, normalizer: Option<&N>) {
        let mut raw = Vec::new();
        let mut normalized = Vec::new();
        self.normalized_text.clear();
        for (id, token) in &self.tokens {
            if token.normalized {
                let mut content = NormalizedString::from(token.content.as_str());
                if let Some(n) = normalizer {
                    // A normalizer that fails on a token's text leaves the text as it is.
                    let _ = n.normalize(&mut content);
                }
                if content.get() != token.content {
                    self.normalized_text.insert(*id, content.get().to_owned());
                }
                if !content.is_empty() {
                    normalized.push((content.get().to_owned(), *id));
                }
            } else {
                raw.push((token.content.clone(), *id));
            }
        }
        self.raw_matcher = Matcher::build(raw);
        self.normalized_matcher = Matcher::build(normalized);
    }

    /// Find the added tokens in `text`: a cover of `text` by `(Option<id>, byte range)`.
    fn find_matches(&self, text: &str, matcher: &Matcher) -> Vec<(Option<u32>, (usize, usize))> {
        let mut out = Vec::new();
        self.find_matches_into(text, matcher, &mut out);
        out
    }

    /// [`AddedVocabulary::find_matches`] into `out`, cleared first (the ids-only path reuses one
    /// buffer for every text).
    fn find_matches_into(
        &self,
        text: &str,
        matcher: &Matcher,
        out: &mut Vec<(Option<u32>, (usize, usize))>,
    ) {
        out.clear();
        let Some(automaton) = matcher
            .automaton
            .as_ref()
            .filter(|_| matcher.may_match(text))
        else {
            out.push((None, (0, text.len())));
            return;
        };
        let mut done = 0;
        for m in automaton.find_iter(text) {
            let id = matcher.ids[m.pattern().as_usize()];
            let token = self.id_to_token(id).expect("matcher ids are added tokens");
            if self.encode_special_tokens && token.special {
                continue;
            }
            let (mut start, mut stop) = (m.start(), m.end());
            if token.single_word {
                let left_ok =
                    start == 0 || !text[..start].chars().next_back().is_some_and(is_word_char);
                let right_ok =
                    stop == text.len() || !text[stop..].chars().next().is_some_and(is_word_char);
                if !(left_ok && right_ok) {
                    continue;
                }
            }
            if token.lstrip {
                let trailing_ws_start = text[..start]
                    .char_indices()
                    .rev()
                    .take_while(|(_, c)| c.is_whitespace())
                    .last()
                    .map_or(start, |(i, _)| i);
                // Whitespace already consumed by the previous match stays there.
                start = trailing_ws_start.max(done);
            }
            if token.rstrip {
                stop += text[stop..]
                    .chars()
                    .take_while(|c| c.is_whitespace())
                    .map(char::len_utf8)
                    .sum::<usize>();
            }
            if done < start {
                out.push((None, (done, start)));
            }
            out.push((Some(id), (start, stop)));
            done = stop;
        }
        if done < text.len() || out.is_empty() {
            out.push((None, (done, text.len())));
        }
    }

    /// The added tokens matched in the raw input into `out` (cleared first): a cover of `text`
    /// by `(Option<id>, byte range)` (`None`: text between matches, still to normalize).
    /// Whether `text` may hold an added token matched on the raw text; `false` means
    /// [`AddedVocabulary::raw_segments`] is the whole text.
    pub(crate) fn may_match_raw(&self, text: &str) -> bool {
        self.raw_matcher.automaton.is_some() && self.raw_matcher.may_match(text)
    }

    /// [`AddedVocabulary::may_match_raw`] for the tokens matched on normalized text.
    pub(crate) fn may_match_normalized(&self, text: &str) -> bool {
        self.normalized_matcher.automaton.is_some() && self.normalized_matcher.may_match(text)
    }

    pub(crate) fn raw_segments(&self, text: &str, out: &mut Vec<(Option<u32>, (usize, usize))>) {
        self.find_matches_into(text, &self.raw_matcher, out);
    }

    /// The added tokens matched in normalized text, as [`AddedVocabulary::raw_segments`].
    pub(crate) fn normalized_segments(
        &self,
        text: &str,
        out: &mut Vec<(Option<u32>, (usize, usize))>,
    ) {
        self.find_matches_into(text, &self.normalized_matcher, out);
    }

    fn split_on_matches(&self, n: NormalizedString, matcher: &Matcher) -> Vec<Split> {
        if matcher.automaton.is_none() {
            return vec![Split::from(n)];
        }
        self.find_matches(n.get(), matcher)
            .into_iter()
            .filter_map(|(id, (a, b))| {
                let piece = n.slice(a..b)?;
                let tokens =
                    id.map(|id| vec![Token::new(id, piece.get().to_owned(), (0, piece.len()))]);
                Some(Split {
                    normalized: piece,
                    tokens,
                })
            })
            .collect()
    }

    /// Extract added tokens from the raw text, normalize the rest, then extract the added tokens
    /// that match normalized text.
    pub fn extract_and_normalize<N: Normalizer + ?Sized>(
        &self,
        normalizer: Option<&N>,
        text: &str,
    ) -> Result<PreTokenizedString> {
        let mut p = PreTokenizedString::from(text);
        if self.raw_matcher.automaton.is_some() {
            p.split(|_, n| Ok(self.split_on_matches(n, &self.raw_matcher)))?;
        }
        p.split(|_, mut n| {
            if let Some(norm) = normalizer {
                norm.normalize(&mut n)?;
            }
            Ok(self.split_on_matches(n, &self.normalized_matcher))
        })?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::word_level::WordLevel;
    use crate::normalizers::NormalizerWrapper;

    fn segments(vocab: &AddedVocabulary, text: &str) -> Vec<(Option<u32>, (usize, usize))> {
        let mut out = vec![(Some(99), (9, 9))]; // cleared first
        vocab.raw_segments(text, &mut out);
        out
    }

    /// The first-byte test only skips texts that cannot match: with one to three distinct first
    /// bytes, and with four (no such test), every text gets the automaton's segments.
    #[test]
    fn raw_segments_with_and_without_the_first_byte_test() {
        let model = WordLevel::new([("<unk>".to_string(), 0)], "<unk>").unwrap();
        let contents = ["<|end|>", "<|start|>", "[SEP]", "{x}", "@@"];
        let distinct_first_bytes = [Some(1), Some(1), Some(2), Some(3), None];
        for (n, expected) in (1..=5).zip(distinct_first_bytes) {
            let mut vocab = AddedVocabulary::default();
            let tokens: Vec<AddedToken> = contents[..n]
                .iter()
                .map(|c| AddedToken::new(*c, true))
                .collect();
            vocab.add(&tokens, &model, None::<&NormalizerWrapper>);
            assert_eq!(
                vocab.raw_matcher.first_bytes.as_ref().map(Vec::len),
                expected
            );
            let end = vocab.token_to_id("<|end|>").unwrap();
            assert_eq!(segments(&vocab, "plain text"), [(None, (0, 10))]);
            assert_eq!(segments(&vocab, "a < b"), [(None, (0, 5))]);
            assert_eq!(segments(&vocab, ""), [(None, (0, 0))]);
            assert_eq!(
                segments(&vocab, "a<|end|>b"),
                [(None, (0, 1)), (Some(end), (1, 8)), (None, (8, 9))]
            );
            if n >= 3 {
                let sep = vocab.token_to_id("[SEP]").unwrap();
                assert_eq!(
                    segments(&vocab, "[SEP]x"),
                    [(Some(sep), (0, 5)), (None, (5, 6))]
                );
            }
        }
    }
}
