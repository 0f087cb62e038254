//! Dropout masks filled in parallel, reproducible from a seed alone.
//!
//! A mask holds `1 / (1 - p)` with probability `1 - p` and `0.0` otherwise, so `x * mask` is
//! inverted dropout (the expected value of every element is unchanged, as `torch.nn.Dropout` does).
//!
//! The mask is cut into fixed chunks of [`CHUNK`] elements and each chunk draws from its own
//! generator, seeded from `(seed, chunk index)`. Threads only decide which chunk is filled when, so
//! the mask depends on `(seed, p)` and the element's position alone: not on the number of threads,
//! and not even on the length (a shorter mask is a prefix of a longer one).
//!
//! Each element compares one 32-bit uniform integer with `floor((1 - p) * 2^32)`: an integer
//! comparison instead of a float conversion per element, and keep probabilities exact to 2^-32.

use rayon::prelude::*;

use super::{SplitMix64, XoshiroLanes};
use crate::tokenizer::threads;
use crate::{Error, Result};

/// Elements per independently seeded chunk (256 KiB of f32): large enough that seeding a chunk is
/// negligible, small enough that a (16, 12, 128, 128) attention mask gives every thread many chunks.
pub const CHUNK: usize = 1 << 16;

/// Parallel xoshiro streams per chunk; each step gives `2 * LANES` elements (two 32-bit halves of
/// every 64-bit output).
const LANES: usize = 4;
const BLOCK: usize = 2 * LANES;

/// Check that `p` is a usable drop probability: finite and in `[0, 1)`.
pub fn check_drop_probability(p: f64) -> Result<()> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "dropout probability must be in [0, 1), got {p}; p = 1 drops everything (multiply by zeros instead)"
        )))
    }
}

/// Fill `out` with a dropout mask for drop probability `p` (in `[0, 1)`) from `seed`.
///
/// Runs on the crate's thread pool when the mask spans more than one chunk and parallelism is
/// enabled; the result is the same either way.
pub fn fill_dropout_mask(out: &mut [f32], p: f64, seed: u64) -> Result<()> {
    check_drop_probability(p)?;
    let keep = 1.0 - p;
    let scale = (1.0 / keep) as f32;
    // Keep an element when its uniform u32 is below `threshold`: probability threshold / 2^32.
    let threshold = (keep * 4_294_967_296.0).floor();
    if threshold >= 4_294_967_296.0 {
        // p is so small that 1 - p rounds to 1: nothing is ever dropped.
        out.fill(scale);
        return Ok(());
    }
    let threshold = threshold as u32;
    let key = SplitMix64::mix(seed);
    let fill = |(index, chunk): (usize, &mut [f32])| {
        fill_chunk(chunk, chunk_seed(key, index), threshold, scale)
    };
    if out.len() > CHUNK && threads::parallelism_enabled() {
        threads::pool().install(|| out.par_chunks_mut(CHUNK).enumerate().for_each(fill));
    } else {
        out.chunks_mut(CHUNK).enumerate().for_each(fill);
    }
    Ok(())
}

/// The seed of chunk `index`: output number `index + 1` of a SplitMix64 stream started at `key`,
/// computed directly (SplitMix64's n-th output is `mix(state + n * GAMMA)`).
fn chunk_seed(key: u64, index: usize) -> u64 {
    SplitMix64::mix(key.wrapping_add((index as u64 + 1).wrapping_mul(SplitMix64::GAMMA)))
}

/// The next `BLOCK` mask values: element `lane` takes the low half of lane `lane`'s output, element
/// `LANES + lane` its high half.
#[inline(always)]
fn block_values(rng: &mut XoshiroLanes<LANES>, threshold: u32, scale_bits: u32) -> [f32; BLOCK] {
    let random = rng.next_u64s();
    let mut values = [0f32; BLOCK];
    for lane in 0..LANES {
        let (low, high) = (random[lane] as u32, (random[lane] >> 32) as u32);
        // All ones when kept, all zeros when dropped, and-ed with the scale's bits: a branch-free
        // select (a branch would mispredict on random data).
        values[lane] = f32::from_bits(((low < threshold) as u32).wrapping_neg() & scale_bits);
        values[LANES + lane] =
            f32::from_bits(((high < threshold) as u32).wrapping_neg() & scale_bits);
    }
    values
}

// Not inlined into the rayon closure: compiled on its own, the block loop stays branch-free and
// vectorized (inlined, LLVM turned the select back into branches: 3x slower on random data).
#[inline(never)]
fn fill_chunk(chunk: &mut [f32], seed: u64, threshold: u32, scale: f32) {
    let mut rng = XoshiroLanes::<LANES>::from_seed(seed);
    let scale_bits = scale.to_bits();
    let mut blocks = chunk.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        block.copy_from_slice(&block_values(&mut rng, threshold, scale_bits));
    }
    // A partial last block takes the first values of a full one, so element i never depends on
    // where the mask ends.
    let rest = blocks.into_remainder();
    if !rest.is_empty() {
        let values = block_values(&mut rng, threshold, scale_bits);
        rest.copy_from_slice(&values[..rest.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(n: usize, p: f64, seed: u64) -> Vec<f32> {
        let mut out = vec![f32::NAN; n];
        fill_dropout_mask(&mut out, p, seed).unwrap();
        out
    }

    #[test]
    fn values_are_zero_or_the_inverse_keep_probability() {
        let scale = (1.0f64 / 0.7) as f32;
        for v in mask(100_003, 0.3, 7) {
            assert!(v == 0.0 || v == scale, "unexpected mask value {v}");
        }
    }

    #[test]
    fn keep_rate_matches_one_minus_p() {
        let n = 4_000_000;
        for p in [0.1, 0.5, 0.9, 0.999] {
            let kept = mask(n, p, 1).iter().filter(|&&v| v != 0.0).count() as f64;
            let expected = n as f64 * (1.0 - p);
            // Binomial standard deviation; 6 sigma leaves no room for flakiness.
            let sigma = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (kept - expected).abs() < 6.0 * sigma,
                "p={p}: kept {kept}, expected {expected} +- {sigma}"
            );
        }
    }

    #[test]
    fn same_mask_whatever_the_thread_count() {
        let n = 5 * CHUNK + 123;
        // One thread takes the serial path; more threads share the chunks out.
        let masks: Vec<Vec<f32>> = [1, 2, 3]
            .into_iter()
            .map(|t| {
                threads::set_num_threads(t);
                mask(n, 0.1, 42)
            })
            .collect();
        threads::set_num_threads(0);
        assert_eq!(masks[0], masks[1]);
        assert_eq!(masks[0], masks[2]);
        // And both equal the chunks filled one by one, by hand.
        let keep = 0.9f64;
        let threshold = (keep * 4_294_967_296.0).floor() as u32;
        let mut by_hand = vec![0.0; n];
        for (i, chunk) in by_hand.chunks_mut(CHUNK).enumerate() {
            fill_chunk(
                chunk,
                chunk_seed(SplitMix64::mix(42), i),
                threshold,
                (1.0 / keep) as f32,
            );
        }
        assert_eq!(masks[0], by_hand);
    }

    #[test]
    fn a_shorter_mask_is_a_prefix_of_a_longer_one() {
        let long = mask(3 * CHUNK + 17, 0.25, 5);
        for n in [0, 1, 7, 8, 9, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3] {
            assert_eq!(mask(n, 0.25, 5)[..], long[..n], "n={n}");
        }
    }

    #[test]
    fn different_seeds_give_different_masks() {
        let a = mask(10_000, 0.5, 1);
        let b = mask(10_000, 0.5, 2);
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        // Independent masks agree on about half the elements at p = 0.5.
        assert!((4_000..6_000).contains(&same), "{same} equal elements");
        // Chunks of one mask differ from each other too (no repeated stream).
        let m = mask(2 * CHUNK, 0.5, 3);
        assert_ne!(m[..CHUNK], m[CHUNK..]);
    }

    #[test]
    fn p_zero_keeps_everything_with_scale_one() {
        assert!(mask(1000, 0.0, 9).iter().all(|&v| v == 1.0));
        // 1 - 1e-17 rounds to 1 in f64: nothing can be dropped, and the scale is 1.
        assert!(mask(1000, 1e-17, 9).iter().all(|&v| v == 1.0));
    }

    #[test]
    fn extreme_p_still_gives_valid_masks() {
        // p close to 1: almost everything dropped, the survivors carry the huge scale.
        let m = mask(1_000_000, 0.99999, 4);
        let scale = (1.0f64 / (1.0 - 0.99999)) as f32;
        let kept = m.iter().filter(|&&v| v != 0.0).count();
        assert!(m.iter().all(|&v| v == 0.0 || v == scale));
        assert!(kept < 60, "{kept} kept at p=0.99999");
        // A tiny but representable p drops a few elements.
        let m = mask(1_000_000, 1e-4, 4);
        let dropped = m.iter().filter(|&&v| v == 0.0).count();
        assert!((40..200).contains(&dropped), "{dropped} dropped at p=1e-4");
    }

    #[test]
    fn bad_probabilities_are_refused() {
        let mut out = vec![0.0f32; 4];
        for p in [1.0, 1.5, -0.1, f64::NAN, f64::INFINITY] {
            let err = fill_dropout_mask(&mut out, p, 0).unwrap_err().to_string();
            assert!(err.contains("[0, 1)"), "{err}");
        }
    }
}
