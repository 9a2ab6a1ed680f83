//! Histograms with fixed, recorded edges: per-sample losses on log bins
//! (plus underflow and overflow), weights on symmetric linear bins.

/// Bin edges and counting. Bin 0 is the underflow `[-inf, edges[0])`
/// (for losses it holds exact zeros too), the last bin the overflow
/// `[edges[last], inf]`; NaN is counted in neither, but in `nan`.
#[derive(Clone, Debug)]
pub struct Bins {
    /// Inner edges, ascending (`n_inner + 1` values).
    pub edges: Vec<f64>,
    log: bool,
}

impl Bins {
    /// `per_decade` log bins from `lo` to `hi` (both > 0).
    pub fn log(lo: f64, hi: f64, per_decade: usize) -> Self {
        let decades = (hi / lo).log10();
        let n = (decades * per_decade as f64).round().max(1.0) as usize;
        let edges = (0..=n)
            .map(|i| lo * 10f64.powf(decades * i as f64 / n as f64))
            .collect();
        Bins { edges, log: true }
    }

    /// `n` linear bins over `[-range, range]`.
    pub fn symmetric(range: f64, n: usize) -> Self {
        let edges = (0..=n)
            .map(|i| -range + 2.0 * range * i as f64 / n as f64)
            .collect();
        Bins { edges, log: false }
    }

    /// Bins including underflow and overflow.
    pub fn len(&self) -> usize {
        self.edges.len() + 1
    }

    /// Never empty (there are always the two outer bins).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Lower edge of every bin (`-inf` for the underflow).
    pub fn lower(&self) -> Vec<f64> {
        std::iter::once(f64::NEG_INFINITY)
            .chain(self.edges.iter().copied())
            .collect()
    }

    /// Upper edge of every bin (`+inf` for the overflow).
    pub(crate) fn upper(&self) -> Vec<f64> {
        self.edges
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .collect()
    }

    /// The bin of `x` (`None` for NaN).
    #[inline]
    pub fn bin(&self, x: f32) -> Option<usize> {
        let x = x as f64;
        if x.is_nan() {
            return None;
        }
        let e = &self.edges;
        if x < e[0] {
            return Some(0);
        }
        if x >= e[e.len() - 1] {
            return Some(e.len());
        }
        // First edge above x; a direct estimate, then a local fix-up.
        let n = e.len() - 1;
        let t = if self.log {
            (x / e[0]).log10() / (e[n] / e[0]).log10()
        } else {
            (x - e[0]) / (e[n] - e[0])
        };
        let mut i = ((t * n as f64) as usize).min(n - 1);
        while i > 0 && x < e[i] {
            i -= 1;
        }
        while i + 1 < n && x >= e[i + 1] {
            i += 1;
        }
        Some(i + 1)
    }

    /// Counts `xs` into `counts` (overwritten, `len()` long); returns the
    /// number of NaNs.
    pub fn count(&self, xs: &[f32], counts: &mut [u64]) -> u64 {
        counts.fill(0);
        let mut nan = 0;
        for &x in xs {
            match self.bin(x) {
                Some(b) => counts[b] += 1,
                None => nan += 1,
            }
        }
        nan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_bins_count_exactly_with_under_and_overflow() {
        let b = Bins::log(1e-8, 1e3, 10);
        assert_eq!(b.edges.len(), 111);
        assert_eq!(b.len(), 112);
        // 1e-8_f32 is just below 1e-8, so it would be an underflow:
        // the edges are exact f64 values.
        let xs = [
            0.0,
            1e-9,
            1.5e-8,
            2e-8,
            0.5,
            999.0,
            1e3,
            1e9,
            f32::NAN,
            f32::INFINITY,
        ];
        let mut c = vec![0; b.len()];
        let nan = b.count(&xs, &mut c);
        assert_eq!(nan, 1);
        assert_eq!(c[0], 2); // 0 and 1e-9
        assert_eq!(c[b.len() - 1], 3); // 1e3, 1e9, inf
        assert_eq!(c.iter().sum::<u64>(), 9);
        // Every finite value lands in the bin whose edges hold it.
        let (lo, hi) = (b.lower(), b.upper());
        for &x in &xs[..8] {
            let i = b.bin(x).unwrap();
            assert!(
                lo[i] <= x as f64 && (x as f64) < hi[i] || i == b.len() - 1,
                "{x} in bin {i}"
            );
        }
    }

    #[test]
    fn symmetric_bins_are_symmetric() {
        let b = Bins::symmetric(1.0, 4);
        assert_eq!(b.edges, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(b.bin(-0.25), Some(2));
        assert_eq!(b.bin(0.25), Some(3));
        assert_eq!(b.bin(-2.0), Some(0));
        assert_eq!(b.bin(1.0), Some(5));
    }
}
