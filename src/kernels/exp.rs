//! Vectorised `exp` for the softmax: the one transcendental the
//! compiler will not vectorise on its own (libm's `expf` is a call).
//!
//! Cephes-style: `x = n ln2 + r` with `n = round(x log2 e)` (found with
//! the 1.5 * 2^23 rounding trick, so no float-to-int instruction is
//! needed), a degree-6 polynomial for `e^r`, then `2^n` built in the
//! exponent bits. Relative error at most 3 ulp on `[EXP_MIN, EXP_MAX]`
//! (tested); inputs below `ln(f32::MIN_POSITIVE)` give exactly 0, NaN
//! stays NaN.

use pulp::{Simd, WithSimd};

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
const MAGIC_BITS: u32 = 0x4B40_0000;
/// Below this `e^x` is subnormal in f32; we return 0.
pub(crate) const EXP_MIN: f32 = -87.336_55;
/// Above this `2^n` would need exponent 128; we return +inf (the exact
/// result overflows from 88.7228; the softmax only ever takes `x <= 0`).
pub(crate) const EXP_MAX: f32 = 88.376_26;
const C: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// `x[i] = exp(x[i])` in place, using the widest SIMD the CPU has.
pub fn exp_inplace(x: &mut [f32]) {
    struct Op<'a>(&'a mut [f32]);
    impl WithSimd for Op<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let (head, tail) = S::as_mut_simd_f32s(self.0);
            for v in head {
                *v = exp_simd(simd, *v);
            }
            if !tail.is_empty() {
                let v = simd.partial_load_f32s(tail);
                simd.partial_store_f32s(tail, exp_simd(simd, v));
            }
        }
    }
    super::arch().dispatch(Op(x));
}

#[inline(always)]
fn exp_simd<S: Simd>(s: S, x: S::f32s) -> S::f32s {
    let too_small = s.less_than_f32s(x, s.splat_f32s(EXP_MIN));
    let too_big = s.greater_than_f32s(x, s.splat_f32s(EXP_MAX));
    // Clamp (NaN fails both comparisons and flows through as NaN).
    let xc = s.select_f32s(too_small, s.splat_f32s(EXP_MIN), x);
    let xc = s.select_f32s(too_big, s.splat_f32s(EXP_MAX), xc);
    let t = s.mul_add_f32s(xc, s.splat_f32s(LOG2E), s.splat_f32s(MAGIC));
    let n = s.sub_f32s(t, s.splat_f32s(MAGIC));
    let r = s.mul_add_f32s(n, s.splat_f32s(-LN2_HI), xc);
    let r = s.mul_add_f32s(n, s.splat_f32s(-LN2_LO), r);
    let mut p = s.splat_f32s(C[0]);
    for &c in &C[1..] {
        p = s.mul_add_f32s(p, r, s.splat_f32s(c));
    }
    let r2 = s.mul_f32s(r, r);
    let p = s.mul_add_f32s(p, r2, s.add_f32s(r, s.splat_f32s(1.0)));
    // 2^n: (n + 127) << 23, with n read from the low bits of `t`.
    let nbits = s.sub_u32s(s.transmute_u32s_f32s(t), s.splat_u32s(MAGIC_BITS - 127));
    let scale = s.transmute_f32s_u32s(s.wrapping_dyn_shl_u32s(nbits, s.splat_u32s(23)));
    let y = s.mul_f32s(p, scale);
    let y = s.select_f32s(too_small, s.splat_f32s(0.0), y);
    s.select_f32s(too_big, s.splat_f32s(f32::INFINITY), y)
}

/// Scalar twin of [`exp_inplace`] (libm).
pub fn exp_inplace_ref(x: &mut [f32]) {
    for v in x {
        *v = if *v < EXP_MIN { 0.0 } else { v.exp() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_within_3_ulp_over_the_range() {
        // Every 97th float bit pattern between -87.3 and 88.7 plus edges.
        let mut xs: Vec<f32> = (0..200_000)
            .map(|i| EXP_MIN + (EXP_MAX - EXP_MIN) * (i as f32 / 199_999.0))
            .collect();
        xs.extend([0.0, -0.0, 1e-30, -1e-30, -1.0, 1.0, -20.5, 10.25]);
        let mut got = xs.clone();
        exp_inplace(&mut got);
        let mut worst = 0.0f64;
        for (&x, &y) in xs.iter().zip(&got) {
            let want = (x as f64).exp();
            if want < f32::MIN_POSITIVE as f64 || want > f32::MAX as f64 {
                continue;
            }
            let ulp = (want as f32).abs() * f32::EPSILON;
            let err = ((y as f64 - want) / ulp as f64).abs();
            worst = worst.max(err);
        }
        assert!(worst <= 3.0, "worst error {worst} ulp");
    }

    #[test]
    fn edges_are_exact() {
        let mut v = vec![
            -100.0,
            -1e30,
            100.0,
            f32::NAN,
            0.0,
            f32::NEG_INFINITY,
            f32::INFINITY,
        ];
        v.extend([0.0; 13]); // make it long enough to take the SIMD body too
        exp_inplace(&mut v);
        assert_eq!(v[0], 0.0);
        assert_eq!(v[1], 0.0);
        assert_eq!(v[2], f32::INFINITY);
        assert!(v[3].is_nan());
        assert_eq!(v[4], 1.0);
        assert_eq!(v[5], 0.0);
        assert_eq!(v[6], f32::INFINITY);
    }
}
