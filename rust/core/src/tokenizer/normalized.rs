//! `NormalizedString`: a string being normalized, that remembers where every byte of the
//! normalized text came from in the original input, so token offsets can point at the user's text.
//!
//! The alignment model follows Hugging Face's (their offsets are our oracle): each byte of the
//! normalized string maps to the byte range of the original char it derives from. Edits are
//! expressed as a stream of `(char, change)`: `0` replaces one char, `1` inserts a char (aligned
//! with the char before it), `-n` replaces one char and removes the `n` chars that follow it.

use std::ops::Range;

use unicode_normalization_alignments::UnicodeNormalization;

/// How a split keeps its delimiters, as `tokenizer.json` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SplitDelimiterBehavior {
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormalizedString {
    /// Length in bytes of the original text this piece covers. The text itself is not kept: offsets
    /// only need positions, and not copying it saves an allocation per split on the hot path.
    original_len: usize,
    normalized: String,
    /// For each byte of `normalized`, the byte range in `original` it comes from.
    alignments: Vec<(usize, usize)>,
    /// Where `original` starts inside the whole input (this may be a slice of it).
    original_shift: usize,
}

impl From<&str> for NormalizedString {
    fn from(s: &str) -> Self {
        let mut alignments = Vec::with_capacity(s.len());
        for (i, c) in s.char_indices() {
            let n = c.len_utf8();
            alignments.extend(std::iter::repeat_n((i, i + n), n));
        }
        NormalizedString {
            original_len: s.len(),
            normalized: s.to_owned(),
            alignments,
            original_shift: 0,
        }
    }
}

impl NormalizedString {
    pub fn get(&self) -> &str {
        &self.normalized
    }

    pub fn len(&self) -> usize {
        self.normalized.len()
    }

    pub fn is_empty(&self) -> bool {
        self.normalized.is_empty()
    }

    /// The byte range of this piece inside the whole original input.
    pub fn offsets_original(&self) -> (usize, usize) {
        (self.original_shift, self.original_shift + self.original_len)
    }

    /// Map a byte range of the normalized string to a byte range of `original` (relative to this
    /// piece). `None` when out of bounds.
    pub fn normalized_to_original(&self, range: Range<usize>) -> Option<Range<usize>> {
        if range.start == range.end {
            return Some(range);
        }
        if range.start > range.end {
            return None;
        }
        let aligns = self.alignments.get(range)?;
        Some(aligns[0].0..aligns[aligns.len() - 1].1)
    }

    /// A new `NormalizedString` for the normalized byte range `range` (on char boundaries).
    pub fn slice(&self, range: Range<usize>) -> Option<NormalizedString> {
        if !(self.normalized.is_char_boundary(range.start)
            && self.normalized.is_char_boundary(range.end))
        {
            return None;
        }
        let original_range = if self.normalized.is_empty() && range == (0..0) {
            0..self.original_len
        } else {
            self.normalized_to_original(range.clone())?
        };
        let shift = original_range.start;
        Some(NormalizedString {
            original_len: original_range.len(),
            normalized: self.normalized[range.clone()].to_owned(),
            alignments: self.alignments[range]
                .iter()
                .map(|&(a, b)| (a - shift, b - shift))
                .collect(),
            original_shift: self.original_shift + shift,
        })
    }

    /// Replace the normalized bytes `range` by `dest` (see the module docs for `change`).
    /// `initial_removed` chars at the start of the range are dropped before `dest` starts.
    pub fn transform_range<I>(&mut self, range: Range<usize>, dest: I, initial_removed: usize)
    where
        I: IntoIterator<Item = (char, isize)>,
    {
        let mut replaced = self.normalized[range.clone()].chars();
        let skipped: usize = (&mut replaced)
            .take(initial_removed)
            .map(char::len_utf8)
            .sum();
        let mut cursor = range.start + skipped;
        let mut new_alignments = Vec::with_capacity(range.len());
        let mut new_text = String::with_capacity(range.len());
        for (c, change) in dest {
            let align = if change > 0 {
                // An inserted char shares the alignment of the char before it.
                if cursor == 0 {
                    (0, 0)
                } else {
                    self.alignments[cursor - 1]
                }
            } else {
                self.alignments[cursor]
            };
            if change <= 0 {
                cursor += replaced.next().map_or(0, char::len_utf8);
            }
            if change < 0 {
                cursor += (&mut replaced)
                    .take((-change) as usize)
                    .map(char::len_utf8)
                    .sum::<usize>();
            }
            new_alignments.extend(std::iter::repeat_n(align, c.len_utf8()));
            new_text.push(c);
        }
        self.alignments.splice(range.clone(), new_alignments);
        self.normalized.replace_range(range, &new_text);
    }

    pub fn transform<I: IntoIterator<Item = (char, isize)>>(
        &mut self,
        dest: I,
        initial_removed: usize,
    ) {
        self.transform_range(0..self.normalized.len(), dest, initial_removed)
    }

    pub fn nfd(&mut self) {
        let s = self.normalized.clone();
        self.transform(s.nfd(), 0);
    }
    pub fn nfkd(&mut self) {
        let s = self.normalized.clone();
        self.transform(s.nfkd(), 0);
    }
    pub fn nfc(&mut self) {
        let s = self.normalized.clone();
        self.transform(s.nfc(), 0);
    }
    pub fn nfkc(&mut self) {
        let s = self.normalized.clone();
        self.transform(s.nfkc(), 0);
    }

    /// Keep only the chars for which `keep` is true; a removed char is folded into the kept char
    /// before it (or counted as removed at the start).
    pub fn filter<F: Fn(char) -> bool>(&mut self, keep: F) {
        let mut removed_after = 0isize;
        let mut kept_rev: Vec<(char, isize)> = Vec::with_capacity(self.normalized.len());
        for c in self.normalized.chars().rev() {
            if keep(c) {
                kept_rev.push((c, -removed_after));
                removed_after = 0;
            } else {
                removed_after += 1;
            }
        }
        kept_rev.reverse();
        self.transform(kept_rev, removed_after as usize);
    }

    /// Map each char to one char.
    pub fn map<F: Fn(char) -> char>(&mut self, f: F) {
        let dest: Vec<(char, isize)> = self.normalized.chars().map(|c| (f(c), 0)).collect();
        self.transform(dest, 0);
    }

    pub fn lowercase(&mut self) {
        if self.normalized.is_ascii() {
            // Fast path: ASCII lowercasing is one byte for one byte, alignments unchanged.
            self.normalized.make_ascii_lowercase();
            return;
        }
        let mut dest = Vec::with_capacity(self.normalized.len());
        for c in self.normalized.chars() {
            for (i, l) in c.to_lowercase().enumerate() {
                dest.push((l, isize::from(i > 0)));
            }
        }
        self.transform(dest, 0);
    }

    /// Insert `s` before the first char (nothing happens on an empty string).
    pub fn prepend(&mut self, s: &str) {
        if let Some(first) = self.normalized.chars().next() {
            let dest: Vec<(char, isize)> = s
                .chars()
                .enumerate()
                .map(|(i, c)| (c, isize::from(i != 0)))
                .chain(std::iter::once((first, 1)))
                .collect();
            self.transform_range(0..first.len_utf8(), dest, 0);
        }
    }

    /// Append `s` after the last char (nothing happens on an empty string).
    pub fn append(&mut self, s: &str) {
        if let Some((i, last)) = self.normalized.char_indices().last() {
            let dest: Vec<(char, isize)> = std::iter::once((last, 0))
                .chain(s.chars().map(|c| (c, 1)))
                .collect();
            self.transform_range(i..self.normalized.len(), dest, 0);
        }
    }

    /// Replace every match of `matches` (byte ranges in the current normalized string, sorted,
    /// non-overlapping) by `content`.
    pub fn replace_ranges(&mut self, matches: &[(usize, usize)], content: &str) {
        let mut shift: isize = 0;
        for &(a, b) in matches {
            let start = (a as isize + shift) as usize;
            let end = (b as isize + shift) as usize;
            let removed_chars = self.normalized[start..end].chars().count();
            self.transform_range(start..end, content.chars().map(|c| (c, 1)), removed_chars);
            shift += content.len() as isize - (b - a) as isize;
        }
    }

    /// Strip whitespace at the left and/or right.
    pub fn strip_sides(&mut self, left: bool, right: bool) {
        let leading = if left {
            self.normalized
                .chars()
                .take_while(|c| c.is_whitespace())
                .count()
        } else {
            0
        };
        let trailing = if right {
            self.normalized
                .chars()
                .rev()
                .take_while(|c| c.is_whitespace())
                .count()
        } else {
            0
        };
        if leading == 0 && trailing == 0 {
            return;
        }
        let n = self.normalized.chars().count();
        if leading >= n {
            self.transform(std::iter::empty(), n);
            return;
        }
        let dest: Vec<(char, isize)> = self
            .normalized
            .chars()
            .enumerate()
            .filter(|&(i, _)| i >= leading && i < n - trailing)
            .map(|(i, c)| {
                (
                    c,
                    if i == n - trailing - 1 {
                        -(trailing as isize)
                    } else {
                        0
                    },
                )
            })
            .collect();
        self.transform(dest, leading);
    }

    /// Split at `matches` (byte ranges of delimiters, sorted), keeping delimiters per `behavior`.
    pub fn split_at(
        &self,
        matches: &[(usize, usize)],
        behavior: SplitDelimiterBehavior,
    ) -> Vec<NormalizedString> {
        // Turn the matches into a cover of the string: (range, is_delimiter).
        let mut pieces: Vec<((usize, usize), bool)> = Vec::with_capacity(matches.len() * 2 + 1);
        let mut last = 0;
        for &(a, b) in matches {
            if last < a {
                pieces.push(((last, a), false));
            }
            pieces.push(((a, b), true));
            last = b;
        }
        if last < self.normalized.len() {
            pieces.push(((last, self.normalized.len()), false));
        }
        use SplitDelimiterBehavior::*;
        let ranges: Vec<(usize, usize)> = match behavior {
            Removed => pieces.into_iter().filter(|p| !p.1).map(|p| p.0).collect(),
            Isolated => pieces.into_iter().map(|p| p.0).collect(),
            Contiguous => {
                let mut out: Vec<(usize, usize)> = Vec::new();
                let mut prev_delim = false;
                for (r, is_delim) in pieces {
                    match out.last_mut() {
                        Some(last) if is_delim == prev_delim => last.1 = r.1,
                        _ => out.push(r),
                    }
                    prev_delim = is_delim;
                }
                out
            }
            MergedWithPrevious => {
                let mut out: Vec<(usize, usize)> = Vec::new();
                let mut prev_delim = false;
                for (r, is_delim) in pieces {
                    match out.last_mut() {
                        Some(last) if is_delim && !prev_delim => last.1 = r.1,
                        _ => out.push(r),
                    }
                    prev_delim = is_delim;
                }
                out
            }
            MergedWithNext => {
                let mut out: Vec<(usize, usize)> = Vec::new();
                let mut prev_delim = false;
                for (r, is_delim) in pieces.into_iter().rev() {
                    match out.last_mut() {
                        Some(last) if is_delim && !prev_delim => last.0 = r.0,
                        _ => out.push(r),
                    }
                    prev_delim = is_delim;
                }
                out.reverse();
                out
            }
        };
        ranges
            .into_iter()
            .filter_map(|(a, b)| self.slice(a..b))
            .collect()
    }

    /// Byte ranges of the chars matching `pred`, each char its own match.
    pub fn char_matches<F: Fn(char) -> bool>(&self, pred: F) -> Vec<(usize, usize)> {
        self.normalized
            .char_indices()
            .filter(|&(_, c)| pred(c))
            .map(|(i, c)| (i, i + c.len_utf8()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_keeps_alignment_of_decomposed_chars() {
        let mut n = NormalizedString::from("élégant");
        n.nfd();
        assert_eq!(n.alignments[..4], [(0, 2), (0, 2), (0, 2), (2, 3)]);
    }

    #[test]
    fn filter_folds_removed_chars_into_previous() {
        let mut n = NormalizedString::from("élégant");
        n.filter(|c| c != 'n');
        assert_eq!(n.get(), "élégat");
        assert_eq!(n.alignments.last(), Some(&(8, 9)));
        let mut n = NormalizedString::from("  Hello  ");
        n.filter(|c| !c.is_whitespace());
        assert_eq!(n.get(), "Hello");
        assert_eq!(n.normalized_to_original(0..5), Some(2..7));
    }

    #[test]
    fn prepend_aligns_with_first_char() {
        let mut n = NormalizedString::from("there");
        n.prepend("Hey ");
        assert_eq!(n.get(), "Hey there");
        assert_eq!(n.normalized_to_original(0..4), Some(0..1));
    }

    #[test]
    fn cjk_padding_aligns_spaces_with_the_char() {
        let mut n = NormalizedString::from("野口 No");
        let dest: Vec<(char, isize)> = n
            .get()
            .chars()
            .flat_map(|c| {
                if (c as u32) > 0x4E00 {
                    vec![(' ', 0), (c, 1), (' ', 1)]
                } else {
                    vec![(c, 0)]
                }
            })
            .collect();
        n.transform(dest, 0);
        assert_eq!(n.get(), " 野  口  No");
        assert_eq!(n.alignments[0], (0, 3));
        assert_eq!(n.alignments[5], (3, 6));
    }

    #[test]
    fn split_behaviors() {
        use SplitDelimiterBehavior::*;
        let s = NormalizedString::from("The-final--countdown");
        let m = s.char_matches(|c| c == '-');
        let run = |b| {
            s.split_at(&m, b)
                .iter()
                .map(|n| n.get().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(Removed), ["The", "final", "countdown"]);
        assert_eq!(run(Isolated), ["The", "-", "final", "-", "-", "countdown"]);
        assert_eq!(
            run(MergedWithPrevious),
            ["The-", "final-", "-", "countdown"]
        );
        assert_eq!(run(MergedWithNext), ["The", "-final", "-", "-countdown"]);
        assert_eq!(run(Contiguous), ["The", "-", "final", "--", "countdown"]);
    }

    #[test]
    fn slices_keep_offsets_into_the_whole_input() {
        let s = NormalizedString::from("Hello world");
        let w = s.slice(6..11).unwrap();
        assert_eq!(w.get(), "world");
        assert_eq!(w.offsets_original(), (6, 11));
    }

    #[test]
    fn replace_and_strip() {
        let mut s = NormalizedString::from("aaaab");
        s.replace_ranges(&[(0, 3)], "b");
        assert_eq!(s.get(), "bab");
        let mut s = NormalizedString::from("  This is  ");
        s.strip_sides(true, true);
        assert_eq!(s.get(), "This is");
        assert_eq!(s.normalized_to_original(0..7), Some(2..9));
    }
}
