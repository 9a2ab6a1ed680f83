//! Seeded random streams (xoshiro256++). Each use gets its own stream,
//! derived from the run seed, a purpose and an index (e.g. the epoch),
//! so that resuming at epoch `e` needs no saved generator state and
//! changing one use never shifts another.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// What a stream is used for.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub(crate) enum Purpose {
    /// Initial weights.
    Init = 1,
    /// Which pool samples go to train and validation.
    Split = 2,
    /// The order of training samples in one epoch.
    Shuffle = 3,
    /// The samples `report` draws at random for its figures.
    Report = 4,
}

/// A generator for (`seed`, `purpose`, `index`).
pub(crate) fn stream(seed: u64, purpose: Purpose, index: u64) -> Rng {
    Rng(Xoshiro256PlusPlus::seed_from_u64(stream_seed(
        seed, purpose, index,
    )))
}

/// The 64-bit value a [`stream`] is seeded from: with it, a stream is
/// `Xoshiro256PlusPlus::seed_from_u64(value)` (rand_xoshiro). Run files
/// record the next epoch's as the shuffle state.
pub(crate) fn stream_seed(seed: u64, purpose: Purpose, index: u64) -> u64 {
    let mut s = splitmix(seed);
    s = splitmix(s ^ (purpose as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    splitmix(s ^ index.wrapping_mul(0x9FB2_1C65_1E98_DF25))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded generator with the few draws preinterp needs.
pub(crate) struct Rng(Xoshiro256PlusPlus);

impl Rng {
    /// Uniform in `[0, 1)` with 24 random bits.
    pub(crate) fn unit_f32(&mut self) -> f32 {
        (self.0.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform_f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit_f32()
    }

    /// Uniform integer in `0..n` (Lemire's multiply-and-reject, unbiased).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.0.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Fisher-Yates shuffle in place.
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| stream(7, Purpose::Shuffle, 3).below(1000))
            .collect();
        assert!(a.iter().all(|&x| x == a[0]));
        let mut x = stream(7, Purpose::Shuffle, 3);
        let mut y = stream(7, Purpose::Shuffle, 4);
        let xs: Vec<u64> = (0..8).map(|_| x.below(1 << 40)).collect();
        let ys: Vec<u64> = (0..8).map(|_| y.below(1 << 40)).collect();
        assert_ne!(xs, ys);
    }

    #[test]
    fn shuffle_is_a_permutation_and_roughly_uniform() {
        let mut counts = [0u32; 4];
        for i in 0..4000 {
            let mut v = [0, 1, 2, 3];
            stream(1, Purpose::Shuffle, i).shuffle(&mut v);
            let mut s = v;
            s.sort();
            assert_eq!(s, [0, 1, 2, 3]);
            counts[v[0]] += 1;
        }
        // Each value lands first about 1000 times.
        assert!(
            counts.iter().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
    }
}
