//! `Temperature` (transformers' `TemperatureLogitsWarper`).

use crate::generation::{LogitsProcessor, RowInput};

/// Divides the scores by the temperature: below 1 sharpens the distribution, above 1 flattens it.
#[derive(Debug, Clone)]
pub struct Temperature {
    temperature: f32,
}

impl Temperature {
    pub fn new(temperature: f64) -> Self {
        assert!(temperature > 0.0, "temperature must be positive");
        Temperature {
            temperature: temperature as f32,
        }
    }
}

impl LogitsProcessor for Temperature {
    fn process(&self, _row: &RowInput<'_>, scores: &mut [f32]) {
        for s in scores.iter_mut() {
            *s /= self.temperature;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divides() {
        let mut s = [1.0, -2.0, f32::NEG_INFINITY];
        Temperature::new(0.5).process(&RowInput::new(&[]), &mut s);
        assert_eq!(s, [2.0, -4.0, f32::NEG_INFINITY]);
    }
}
