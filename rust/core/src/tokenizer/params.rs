//! Padding and truncation parameters: plain structs, serialized as `tokenizer.json` writes them.

use serde::{Deserialize, Serialize};

use super::encoding::Direction;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectionName {
    Left,
    Right,
}

impl From<DirectionName> for Direction {
    fn from(d: DirectionName) -> Self {
        match d {
            DirectionName::Left => Direction::Left,
            DirectionName::Right => Direction::Right,
        }
    }
}

impl From<Direction> for DirectionName {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Left => DirectionName::Left,
            Direction::Right => DirectionName::Right,
        }
    }
}

fn right() -> DirectionName {
    DirectionName::Right
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TruncationStrategy {
    LongestFirst,
    OnlyFirst,
    OnlySecond,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruncationParams {
    #[serde(default = "right")]
    pub direction: DirectionName,
    pub max_length: usize,
    pub strategy: TruncationStrategy,
    #[serde(default)]
    pub stride: usize,
}

impl Default for TruncationParams {
    fn default() -> Self {
        TruncationParams {
            direction: DirectionName::Right,
            max_length: 512,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaddingStrategy {
    BatchLongest,
    Fixed(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaddingParams {
    pub strategy: PaddingStrategy,
    #[serde(default = "right")]
    pub direction: DirectionName,
    #[serde(default)]
    pub pad_to_multiple_of: Option<usize>,
    #[serde(default)]
    pub pad_id: u32,
    #[serde(default)]
    pub pad_type_id: u32,
    #[serde(default = "default_pad_token")]
    pub pad_token: String,
}

fn default_pad_token() -> String {
    "[PAD]".to_owned()
}

impl PaddingParams {
    /// The longest padded row these settings may ask for: 16 Mi tokens (about 1 GB of encoding).
    /// Padding allocates every pad up front, so an absurd fixed length or multiple (a typo, a
    /// hostile `tokenizer.json`) would otherwise abort the process on allocation.
    pub const MAX_PADDED_LENGTH: usize = 1 << 24;

    /// Refuses a fixed length or a `pad_to_multiple_of` above [`Self::MAX_PADDED_LENGTH`].
    pub fn validate(&self) -> crate::Result<()> {
        let too_long = |what: &str, n: usize| {
            crate::Error::invalid(format!(
                "padding {what} {n} is larger than the {} tokens ferroformers pads to at most: \
                 use a smaller value (a row of that many tokens would not fit in memory)",
                Self::MAX_PADDED_LENGTH
            ))
        };
        if let PaddingStrategy::Fixed(n) = self.strategy {
            if n > Self::MAX_PADDED_LENGTH {
                return Err(too_long("length", n));
            }
        }
        match self.pad_to_multiple_of {
            Some(m) if m > Self::MAX_PADDED_LENGTH => Err(too_long("pad_to_multiple_of", m)),
            _ => Ok(()),
        }
    }
}

impl Default for PaddingParams {
    fn default() -> Self {
        PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            direction: DirectionName::Right,
            pad_to_multiple_of: None,
            pad_id: 0,
            pad_type_id: 0,
            pad_token: default_pad_token(),
        }
    }
}
