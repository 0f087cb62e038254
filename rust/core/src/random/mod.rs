//! Fast, seedable pseudo-random numbers for tensor-sized work (dropout masks).
//!
//! Not for generation sampling (that uses ChaCha, see [`crate::generation::sampler`]): here the
//! point is throughput. [`SplitMix64`] turns a seed into well-mixed starting states;
//! [`Xoshiro256PlusPlus`] is the bulk generator (Blackman & Vigna, 2019), and [`XoshiroLanes`] runs
//! several independent xoshiro256++ streams side by side so the compiler can keep them in SIMD
//! registers.

pub mod dropout;

/// SplitMix64 (Steele, Lea & Flood, 2014): a 64-bit counter passed through a strong mixing
/// function. Any seed, including 0, gives a good stream, which is why it seeds the others.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The mixing function alone: a bijection on u64 that spreads every input bit over the output.
    pub fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        Self::mix(self.state)
    }
}

/// xoshiro256++: 256 bits of state, period 2^256 - 1, passes BigCrush; a handful of adds, shifts
/// and rotations per 64 output bits.
#[derive(Debug, Clone)]
pub struct Xoshiro256PlusPlus {
    s: [u64; 4],
}

impl Xoshiro256PlusPlus {
    /// The state filled from SplitMix64 seeded with `seed`, as the authors recommend (it can never be
    /// all zeros, the one state xoshiro must avoid, except with probability 2^-256).
    pub fn from_seed(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        Xoshiro256PlusPlus {
            s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

/// `LANES` independent xoshiro256++ generators stepped together: one call gives one output of each.
/// The state is stored word-major (`s[word][lane]`) so each update is the same operation on
/// `LANES` adjacent u64s, which the compiler turns into vector instructions.
#[derive(Debug, Clone)]
pub struct XoshiroLanes<const LANES: usize> {
    s: [[u64; LANES]; 4],
}

impl<const LANES: usize> XoshiroLanes<LANES> {
    /// Lane `i` starts from the state [`Xoshiro256PlusPlus::from_seed`] would give for
    /// `SplitMix64::mix(seed) + i` (distinct, well-separated seeds), so a lane alone is an ordinary
    /// xoshiro256++ stream.
    pub fn from_seed(seed: u64) -> Self {
        let base = SplitMix64::mix(seed);
        let lanes: [Xoshiro256PlusPlus; LANES] = std::array::from_fn(|lane| {
            Xoshiro256PlusPlus::from_seed(base.wrapping_add(lane as u64))
        });
        XoshiroLanes {
            s: std::array::from_fn(|word| std::array::from_fn(|lane| lanes[lane].s[word])),
        }
    }

    #[inline(always)]
    pub fn next_u64s(&mut self) -> [u64; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0u64; LANES];
        for l in 0..LANES {
            out[l] = s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_output() {
        // First outputs of the reference C implementation (splitmix64.c) seeded with 1234567.
        let mut sm = SplitMix64::new(1234567);
        assert_eq!(sm.next_u64(), 6457827717110365317);
        assert_eq!(sm.next_u64(), 3203168211198807973);
        assert_eq!(sm.next_u64(), 9817491932198370423);
    }

    #[test]
    fn xoshiro256plusplus_matches_the_reference_output() {
        // State s = [1, 2, 3, 4]: the reference C implementation (xoshiro256plusplus.c) gives these.
        let mut x = Xoshiro256PlusPlus { s: [1, 2, 3, 4] };
        let expected: [u64; 4] = [41943041, 58720359, 3588806011781223, 3591011842654386];
        for e in expected {
            assert_eq!(x.next_u64(), e);
        }
    }

    #[test]
    fn each_lane_is_an_ordinary_xoshiro_stream() {
        let mut lanes = XoshiroLanes::<4>::from_seed(99);
        let base = SplitMix64::mix(99);
        let mut singles: Vec<Xoshiro256PlusPlus> = (0..4)
            .map(|i| Xoshiro256PlusPlus::from_seed(base.wrapping_add(i)))
            .collect();
        for _ in 0..100 {
            let got = lanes.next_u64s();
            for (lane, single) in singles.iter_mut().enumerate() {
                assert_eq!(got[lane], single.next_u64());
            }
        }
    }
}
