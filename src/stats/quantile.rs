//! Quantiles by linear interpolation between order statistics, numpy's
//! default (`numpy.quantile(x, p)`, `method="linear"`): with `n` sorted
//! values the `p`-quantile sits at position `h = p (n - 1)` and is
//! `x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])`.
//!
//! Like numpy, an infinite neighbour makes even an exact order statistic
//! NaN (`0 * inf`): `numpy.quantile([1, inf], 0)` is NaN.

/// The `p`-quantile position among `n` sorted values: the lower index
/// and the weight of the next one (`n > 0`, `0 <= p <= 1`).
pub fn position(n: usize, p: f64) -> (usize, f64) {
    let h = p * (n.max(1) - 1) as f64;
    let lo = h.floor() as usize;
    (lo, h - lo as f64)
}

/// The `p`-quantile of `x`, sorted ascending (by [`f64::total_cmp`] when
/// it may hold NaN, which then sorts last and is interpolated like any
/// value). NaN when `x` is empty.
pub(crate) fn quantile_sorted(x: &[f64], p: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let (lo, frac) = position(x.len(), p);
    let hi = (lo + 1).min(x.len() - 1);
    x[lo] + frac * (x[hi] - x[lo])
}

/// The `p`-quantile of the values of `x` that are not NaN
/// (`numpy.nanquantile(x, p)`); NaN when every value is NaN or `x` is
/// empty.
pub(crate) fn nan_quantile(x: impl IntoIterator<Item = f64>, p: f64) -> f64 {
    let mut v: Vec<f64> = x.into_iter().filter(|v| !v.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_interpolation_by_hand() {
        let x = [1.0, 2.0, 3.0, 4.0];
        // h = 0.25 * 3 = 0.75: 1 + 0.75 (2 - 1).
        assert_eq!(quantile_sorted(&x, 0.25), 1.75);
        assert_eq!(quantile_sorted(&x, 0.5), 2.5);
        assert_eq!(quantile_sorted(&x, 0.75), 3.25);
        assert_eq!(quantile_sorted(&x, 0.0), 1.0);
        assert_eq!(quantile_sorted(&x, 1.0), 4.0);
        assert_eq!(quantile_sorted(&[5.0], 0.25), 5.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn numpy_results() {
        // numpy.quantile([0.3, 1.7, 2.0, 8.5, 10.0], [0.1, 0.99]) ->
        // [0.86, 9.94].
        let x = [0.3, 1.7, 2.0, 8.5, 10.0];
        assert!((quantile_sorted(&x, 0.1) - 0.86).abs() < 1e-12);
        assert!((quantile_sorted(&x, 0.99) - 9.94).abs() < 1e-12);
        // numpy.nanquantile([3, nan, 1, 2], 0.5) -> 2.0
        assert_eq!(nan_quantile([3.0, f64::NAN, 1.0, 2.0], 0.5), 2.0);
        assert!(nan_quantile([f64::NAN], 0.5).is_nan());
        // numpy.quantile([1, inf], 0) -> nan (0 * inf).
        assert!(quantile_sorted(&[1.0, f64::INFINITY], 0.0).is_nan());
        // numpy.quantile([1, inf], 1) -> nan (inf - inf).
        assert!(quantile_sorted(&[1.0, f64::INFINITY], 1.0).is_nan());
    }
}
