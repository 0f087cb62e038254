//! `TemplateProcessing`: special tokens placed by a template such as `[CLS] $A [SEP] $B:1 [SEP]:1`.
//!
//! In `tokenizer.json` a template is a list of pieces, each `{"Sequence":{"id":"A","type_id":0}}`
//! or `{"SpecialToken":{"id":"[CLS]","type_id":0}}`; `special_tokens` maps each special token
//! name to its ids and tokens (one name may stand for several tokens). The string form
//! (`"[CLS] $A [SEP]"`) is what the Python constructor takes; [`Template::parse`] reads it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::PostProcessor;
use crate::{Encoding, Error, Result};

/// Which input a template piece stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SequenceId {
    A,
    B,
}

impl SequenceId {
    fn index(self) -> usize {
        match self {
            SequenceId::A => 0,
            SequenceId::B => 1,
        }
    }
}

/// One element of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Piece {
    Sequence { id: SequenceId, type_id: u32 },
    SpecialToken { id: String, type_id: u32 },
}

impl Piece {
    /// Read one piece of the string form: `$A`, `$B`, `$` (A), `$1` (A with type id 1), each
    /// optionally followed by `:type_id`; anything else is a special token name (`[SEP]:1`).
    pub fn parse(s: &str) -> std::result::Result<Piece, String> {
        let err = || {
            format!("cannot read template piece {s:?}: expected `$A`, `$B`, `$<type_id>` or a special token, optionally followed by `:<type_id>`")
        };
        let (name, type_id) = match s.split(':').collect::<Vec<_>>().as_slice() {
            [name] => (*name, None),
            [name, type_id] => (*name, Some(type_id.parse::<u32>().map_err(|_| err())?)),
            _ => return Err(err()),
        };
        let piece = match name.strip_prefix('$') {
            Some("" | "A" | "a") => Piece::Sequence {
                id: SequenceId::A,
                type_id: 0,
            },
            Some("B" | "b") => Piece::Sequence {
                id: SequenceId::B,
                type_id: 0,
            },
            Some(n) => Piece::Sequence {
                id: SequenceId::A,
                type_id: n.parse().map_err(|_| err())?,
            },
            None => Piece::SpecialToken {
                id: name.to_string(),
                type_id: 0,
            },
        };
        Ok(match (piece, type_id) {
            (Piece::Sequence { id, .. }, Some(t)) => Piece::Sequence { id, type_id: t },
            (Piece::SpecialToken { id, .. }, Some(t)) => Piece::SpecialToken { id, type_id: t },
            (piece, None) => piece,
        })
    }
}

/// A list of pieces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Template(pub Vec<Piece>);

impl Template {
    /// Read the string form: pieces separated by single spaces, e.g. `"[CLS] $A [SEP] $B:1 [SEP]:1"`.
    ///
    /// ```
    /// use ferroformers_core::processors::{Piece, SequenceId, Template};
    /// let t = Template::parse("[CLS] $0 [SEP]").unwrap();
    /// assert_eq!(t.0[1], Piece::Sequence { id: SequenceId::A, type_id: 0 });
    /// ```
    pub fn parse(s: &str) -> std::result::Result<Template, String> {
        s.split(' ')
            .map(Piece::parse)
            .collect::<std::result::Result<_, _>>()
            .map(Template)
    }

    fn special_ids(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::SpecialToken { id, .. } => Some(id.as_str()),
            Piece::Sequence { .. } => None,
        })
    }

    fn uses(&self, seq: SequenceId) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, Piece::Sequence { id, .. } if *id == seq))
    }
}

/// The ids and tokens one special-token name stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialToken {
    pub id: String,
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
}

impl SpecialToken {
    /// A special token made of one token whose name is its text, as most are.
    pub fn single(token: impl Into<String>, id: u32) -> Self {
        let token = token.into();
        SpecialToken {
            id: token.clone(),
            ids: vec![id],
            tokens: vec![token],
        }
    }
}

/// ```
/// use ferroformers_core::processors::{PostProcessor, SpecialToken, Template, TemplateProcessing};
/// let p = TemplateProcessing::new(
///     Template::parse("[CLS] $A [SEP]").unwrap(),
///     Template::parse("[CLS] $A [SEP] $B:1 [SEP]:1").unwrap(),
///     vec![SpecialToken::single("[CLS]", 101), SpecialToken::single("[SEP]", 102)],
/// )
/// .unwrap();
/// assert_eq!(p.added_tokens(true), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TemplateJson")]
pub struct TemplateProcessing {
    single: Template,
    pair: Template,
    /// Sorted by name, as the reference writes them.
    special_tokens: BTreeMap<String, SpecialToken>,
}

#[derive(Deserialize)]
struct TemplateJson {
    single: Template,
    pair: Template,
    special_tokens: BTreeMap<String, SpecialToken>,
}

impl TryFrom<TemplateJson> for TemplateProcessing {
    type Error = String;

    fn try_from(j: TemplateJson) -> std::result::Result<Self, String> {
        // The reference loads such files and fails (or panics) only when processing; we refuse
        // them up front, naming what is missing.
        let missing: BTreeSet<&str> = j
            .single
            .special_ids()
            .chain(j.pair.special_ids())
            .filter(|id| !j.special_tokens.contains_key(*id))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.into_iter().collect();
            return Err(format!(
                "TemplateProcessing: the template uses special token(s) {} missing from `special_tokens`",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ));
        }
        for (name, tok) in &j.special_tokens {
            if tok.ids.len() != tok.tokens.len() {
                return Err(format!(
                    "TemplateProcessing: special token `{name}` has {} ids but {} tokens",
                    tok.ids.len(),
                    tok.tokens.len()
                ));
            }
        }
        Ok(TemplateProcessing {
            single: j.single,
            pair: j.pair,
            special_tokens: j.special_tokens,
        })
    }
}

impl TemplateProcessing {
    /// Checks, like the reference's builder, that every special token used is given and that
    /// `pair` uses both `$A` and `$B`.
    pub fn new(
        single: Template,
        pair: Template,
        special_tokens: Vec<SpecialToken>,
    ) -> Result<Self> {
        if !(pair.uses(SequenceId::A) && pair.uses(SequenceId::B)) {
            return Err(Error::invalid(
                "TemplateProcessing: the pair template must use both $A and $B",
            ));
        }
        let special_tokens = special_tokens
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        TemplateProcessing::try_from(TemplateJson {
            single,
            pair,
            special_tokens,
        })
        .map_err(Error::invalid)
    }

    pub fn single(&self) -> &Template {
        &self.single
    }

    pub fn pair(&self) -> &Template {
        &self.pair
    }

    pub fn special_tokens(&self) -> &BTreeMap<String, SpecialToken> {
        &self.special_tokens
    }

    fn count_added(&self, template: &Template) -> usize {
        template
            .special_ids()
            .map(|id| self.special_tokens.get(id).map_or(0, |t| t.ids.len()))
            .sum()
    }
}

impl PostProcessor for TemplateProcessing {
    fn added_tokens(&self, is_pair: bool) -> usize {
        self.count_added(if is_pair { &self.pair } else { &self.single })
    }

    /// One encoding per template piece, merged by the caller. Each input takes the type id its
    /// piece gives, but its overflowing pieces keep theirs (the model's 0), as in the reference.
    fn process_encodings(
        &self,
        mut encodings: Vec<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        let template = match encodings.len() {
            1 => &self.single,
            2 => &self.pair,
            n => {
                return Err(Error::invalid(format!(
                    "TemplateProcessing takes one or two sequences, got {n}"
                )))
            }
        };
        let n = encodings.len();
        // Where each sequence is used for the last time: it is moved out there and cloned only
        // where a template repeats it (cloning every encoding would copy all its tokens).
        let last_use = |i: usize| {
            template
                .0
                .iter()
                .rposition(|p| matches!(p, Piece::Sequence { id, .. } if id.index() == i))
        };
        let mut out = Vec::with_capacity(template.0.len());
        for (position, piece) in template.0.iter().enumerate() {
            match piece {
                Piece::Sequence { id, type_id } => {
                    let i = id.index();
                    let e = encodings.get_mut(i).ok_or_else(|| {
                        Error::invalid(format!(
                            "the template uses ${id:?} but {n} sequence(s) were given"
                        ))
                    })?;
                    e.set_type_ids(*type_id);
                    e.set_sequence_id(i);
                    if last_use(i) == Some(position) {
                        out.push(std::mem::take(e));
                    } else {
                        out.push(e.clone());
                    }
                }
                Piece::SpecialToken { id, type_id } => {
                    if add_special_tokens {
                        // Present: checked when the processor was built.
                        let tok = &self.special_tokens[id];
                        out.push(Encoding::from_special_tokens(
                            &tok.ids,
                            &tok.tokens,
                            *type_id,
                        ));
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::test_support::plain;
    use crate::tokenizer::Direction;

    fn bert() -> TemplateProcessing {
        TemplateProcessing::new(
            Template::parse("[CLS] $A [SEP]").unwrap(),
            Template::parse("[CLS] $A [SEP] $B:1 [SEP]:1").unwrap(),
            vec![
                SpecialToken::single("[CLS]", 101),
                SpecialToken::single("[SEP]", 102),
            ],
        )
        .unwrap()
    }

    #[test]
    fn pieces_parse() {
        let seq = |id, type_id| Piece::Sequence { id, type_id };
        assert_eq!(Piece::parse("$").unwrap(), seq(SequenceId::A, 0));
        assert_eq!(Piece::parse("$B").unwrap(), seq(SequenceId::B, 0));
        assert_eq!(Piece::parse("$1").unwrap(), seq(SequenceId::A, 1));
        assert_eq!(Piece::parse("$B:2").unwrap(), seq(SequenceId::B, 2));
        assert_eq!(Piece::parse("$:1").unwrap(), seq(SequenceId::A, 1));
        assert_eq!(
            Piece::parse("[SEP]:1").unwrap(),
            Piece::SpecialToken {
                id: "[SEP]".into(),
                type_id: 1
            }
        );
        assert!(Piece::parse("$C:1").is_err());
        assert!(Piece::parse("$A:").is_err());
        assert!(Piece::parse("a:b:c").is_err());
    }

    #[test]
    fn missing_special_token_is_named() {
        let err = serde_json::from_str::<TemplateProcessing>(
            r#"{"single":[{"SpecialToken":{"id":"[X]","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
                "pair":[{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("`[X]`"), "{err}");
        assert!(TemplateProcessing::new(
            Template::parse("$A").unwrap(),
            Template::parse("$A $A").unwrap(),
            vec![]
        )
        .is_err());
    }

    #[test]
    fn string_templates_are_not_json() {
        // The reference reads only the list form from tokenizer.json.
        assert!(serde_json::from_str::<TemplateProcessing>(
            r#"{"single":"$A","pair":"$A $B","special_tokens":{}}"#
        )
        .is_err());
    }

    #[test]
    fn single_and_pair() {
        let p = bert();
        assert_eq!(p.added_tokens(false), 2);
        let out = p.process(plain(&["a", "b"]), None, true).unwrap();
        assert_eq!(out.tokens, ["[CLS]", "a", "b", "[SEP]"]);
        assert_eq!(out.sequence_ids(), [None, Some(0), Some(0), None]);
        let out = p.process(plain(&["a"]), Some(plain(&["c"])), true).unwrap();
        assert_eq!(out.tokens, ["[CLS]", "a", "[SEP]", "c", "[SEP]"]);
        assert_eq!(out.type_ids, [0, 0, 0, 1, 1]);
        assert_eq!(out.special_tokens_mask, [1, 0, 1, 0, 1]);
        assert_eq!(out.sequence_ids(), [None, Some(0), None, Some(1), None]);
    }

    #[test]
    fn overflowing_pieces_are_templated_too() {
        let mut a = plain(&["a", "b", "c"]);
        a.truncate(2, 0, Direction::Right).unwrap();
        let mut b = plain(&["x", "y"]);
        b.truncate(1, 0, Direction::Right).unwrap();
        let out = bert().process(a, Some(b), true).unwrap();
        assert_eq!(out.tokens, ["[CLS]", "a", "b", "[SEP]", "x", "[SEP]"]);
        let pieces: Vec<_> = out.overflowing.iter().map(|o| o.tokens.join(" ")).collect();
        assert_eq!(
            pieces,
            [
                "[CLS] c [SEP] x [SEP]",
                "[CLS] c [SEP] y [SEP]",
                "[CLS] a b [SEP] y [SEP]"
            ]
        );
        // B's overflowing piece keeps type id 0, as in the reference.
        assert_eq!(out.overflowing[2].type_ids, [0, 0, 0, 0, 0, 1]);
        assert_eq!(
            out.overflowing[0].sequence_ids(),
            [None, Some(0), None, Some(1), None]
        );
    }

    #[test]
    fn special_tokens_serialize_sorted() {
        let p = TemplateProcessing::new(
            Template::parse("[Z] $A [A]").unwrap(),
            Template::parse("$A $B").unwrap(),
            vec![
                SpecialToken::single("[Z]", 1),
                SpecialToken::single("[A]", 2),
            ],
        )
        .unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.find("\"[A]\":").unwrap() < json.find("\"[Z]\":").unwrap());
    }
}
