//! The first layer on only the input columns a block of images uses.
//!
//! MNIST pixels are 81% zeros and 67 pixels are zero in every image, so
//! a batch of 64 images uses about 63% of the 784 input columns. A zero
//! pixel contributes exactly nothing to the first layer's product and
//! to its weight gradient, so both can run as dense products over the
//! *used* columns only: the inputs gathered into `B x W` (`W` columns),
//! the weights' matching columns into `O x W`. Results then differ from
//! the full product only by summation order.
//!
//! The used columns are kept as runs `(start, len)` of consecutive
//! pixels (runs closer than [`MERGE_GAP`] are merged, so that copies
//! stay long), which makes every gather and scatter a few contiguous
//! copies per row.
//!
//! **Bit-identical to the dense product.** faer's GEMM sums each output
//! over the inner dimension in order, one block of [`GEMM_KC`] at a
//! time (adding each block's sum to the output). Runs never cross a
//! multiple of [`GEMM_KC`], and the compacted product is taken as one
//! product per such block of the dense columns ([`ActiveCols::blocks`]):
//! then the only difference from the dense product is the exact zeros
//! left out, which change no partial sum. A test checks it.

use crate::data::Samples;
use crate::model::INPUTS;

/// Runs separated by at most this many unused columns are merged (the
/// zero columns in between cost a little arithmetic, save a copy).
pub(crate) const MERGE_GAP: usize = 2;

/// [`ActiveCols::find_within`] counts the used columns after this many
/// images, then after twice as many, and so on.
pub(crate) const FIND_FIRST_CHECK: usize = 8;

/// The inner-dimension block of faer's f32 GEMM (`kc` in
/// private-gemm-x86: `min(depth, 512)`).
pub(crate) const GEMM_KC: usize = 512;

/// The input columns a block of images uses, as runs.
#[derive(Clone, Debug)]
pub struct ActiveCols {
    mask: Vec<u8>,
    runs: Vec<(u16, u16)>,
    width: usize,
}

impl Default for ActiveCols {
    fn default() -> Self {
        Self::new()
    }
}

impl ActiveCols {
    /// All 784 columns (one run); buffers for any block.
    pub fn new() -> Self {
        let mut runs = Vec::with_capacity(INPUTS / 2 + 1);
        runs.push((0, INPUTS as u16));
        ActiveCols {
            mask: vec![0; INPUTS],
            runs,
            width: INPUTS,
        }
    }

    /// Finds the columns that samples `idx` of `src` use: a pixel is
    /// used when it is non-zero in at least one of them.
    pub fn find(&mut self, src: &Samples, idx: &[u32]) {
        self.find_within(src, idx, INPUTS);
    }

    /// [`ActiveCols::find`]; returns whether the runs cover at most
    /// `limit` columns. When more than `limit` columns are used it may
    /// stop early (the runs would not be used), leaving all 784 columns
    /// as one run.
    pub(crate) fn find_within(&mut self, src: &Samples, idx: &[u32], limit: usize) -> bool {
        self.mask.fill(0);
        // Runs cover at least the used columns, so once more than
        // `limit` are used the answer is known: checked after 8, 16, 32,
        // ... images, a dense batch (Fashion-MNIST's) costs a few images'
        // look instead of all of them, and a sparse one a few counts.
        let mut next_check = FIND_FIRST_CHECK;
        for (seen, &i) in idx.iter().enumerate() {
            for (m, &p) in self.mask.iter_mut().zip(src.image(i as usize)) {
                *m |= p;
            }
            if seen + 1 == next_check && limit < INPUTS {
                next_check *= 2;
                if self.mask.iter().filter(|&&m| m != 0).count() > limit {
                    self.runs.clear();
                    self.runs.push((0, INPUTS as u16));
                    self.width = INPUTS;
                    return false;
                }
            }
        }
        self.runs.clear();
        self.width = 0;
        let mut k = 0;
        while k < INPUTS {
            if self.mask[k] == 0 {
                k += 1;
                continue;
            }
            let start = k;
            let mut end = k + 1; // one past the last used column
            let mut j = end;
            let limit = (start / GEMM_KC + 1) * GEMM_KC; // never cross a block
            while j < INPUTS.min(limit) && j <= end + MERGE_GAP {
                if self.mask[j] != 0 {
                    end = j + 1;
                }
                j += 1;
            }
            self.runs.push((start as u16, (end - start) as u16));
            self.width += end - start;
            k = end;
        }
        self.width <= limit
    }

    /// The runs `(start, len)`, in column order.
    pub fn runs(&self) -> &[(u16, u16)] {
        &self.runs
    }

    /// Columns covered by the runs.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The compacted columns of each [`GEMM_KC`] block of the dense
    /// columns, as ranges of compacted column indices, in order (empty
    /// ones included).
    pub fn blocks(&self) -> [std::ops::Range<usize>; INPUTS.div_ceil(GEMM_KC)] {
        let mut out: [std::ops::Range<usize>; INPUTS.div_ceil(GEMM_KC)] = Default::default();
        let mut at = 0;
        for (b, r) in out.iter_mut().enumerate() {
            let start = at;
            for &(s, n) in &self.runs {
                if s as usize / GEMM_KC == b {
                    at += n as usize;
                }
            }
            *r = start..at;
        }
        out
    }
}

/// Copies the used columns of samples `idx` of `src` into `x`
/// (`B x W` row-major, as `u8 / 255`) and their labels into `labels`.
pub(crate) fn gather_cols(
    src: &Samples,
    idx: &[u32],
    cols: &ActiveCols,
    x: &mut [f32],
    labels: &mut [u8],
) {
    struct Op<'a>(
        &'a Samples,
        &'a [u32],
        &'a ActiveCols,
        &'a mut [f32],
        &'a mut [u8],
    );
    impl pulp::WithSimd for Op<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Op(src, idx, cols, x, labels) = self;
            let w = cols.width();
            for ((&i, row), lab) in idx.iter().zip(x.chunks_exact_mut(w)).zip(labels.iter_mut()) {
                let img = src.image(i as usize);
                let mut at = 0;
                for &(s, n) in cols.runs() {
                    let (s, n) = (s as usize, n as usize);
                    for (d, &p) in row[at..at + n].iter_mut().zip(&img[s..s + n]) {
                        *d = super::byte_to_unit(p);
                    }
                    at += n;
                }
                *lab = src.labels[i as usize];
            }
        }
    }
    crate::kernels::arch().dispatch(Op(src, idx, cols, x, labels));
}

/// Scalar twin of [`gather_cols`]: pixel by pixel, through the mask.
#[cfg(test)]
pub(crate) fn gather_cols_ref(src: &Samples, idx: &[u32], cols: &ActiveCols, x: &mut [f32]) {
    let w = cols.width();
    for (r, &i) in idx.iter().enumerate() {
        let img = src.image(i as usize);
        let mut at = 0;
        for (k, &p) in img.iter().enumerate() {
            if cols
                .runs()
                .iter()
                .any(|&(s, n)| (s as usize..(s + n) as usize).contains(&k))
            {
                x[r * w + at] = p as f32 / 255.0;
                at += 1;
            }
        }
    }
}

/// The used columns of `w` (`O x 784` row-major) into `out` (`O x W`).
pub(crate) fn gather_weight_cols(w: &[f32], cols: &ActiveCols, out: &mut [f32]) {
    let width = cols.width();
    for (src, dst) in w.chunks_exact(INPUTS).zip(out.chunks_exact_mut(width)) {
        let mut at = 0;
        for &(s, n) in cols.runs() {
            let (s, n) = (s as usize, n as usize);
            dst[at..at + n].copy_from_slice(&src[s..s + n]);
            at += n;
        }
    }
}

/// A compact row (`W` values) back in place in a full row (784 values):
/// unused columns get exactly 0.
pub(crate) fn scatter_row(compact: &[f32], cols: &ActiveCols, row: &mut [f32]) {
    row.fill(0.0);
    let mut at = 0;
    for &(s, n) in cols.runs() {
        let (s, n) = (s as usize, n as usize);
        row[s..s + n].copy_from_slice(&compact[at..at + n]);
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> Samples {
        // Three images: a blob, a sparse line, an isolated pixel; column
        // 700 and beyond unused; gaps of 1, 2 and 3 columns.
        let mut pixels = vec![0u8; 3 * INPUTS];
        for (k, p) in pixels.iter_mut().enumerate().take(140).skip(100) {
            *p = (k % 251) as u8 + 1;
        }
        for k in [142usize, 145, 149, 300, 301] {
            pixels[INPUTS + k] = 7;
        }
        pixels[2 * INPUTS + 699] = 255;
        Samples {
            pixels,
            labels: vec![1, 2, 3],
        }
    }

    #[test]
    fn runs_cover_exactly_the_used_columns_with_small_gaps_merged() {
        let src = images();
        let mut c = ActiveCols::new();
        assert_eq!(c.width(), INPUTS);
        c.find(&src, &[0, 1, 2]);
        // 100..140 and 142 (gap 2) and 145 (gap 2) merge; 149 (gap 3) does not.
        assert_eq!(c.runs(), &[(100, 46), (149, 1), (300, 2), (699, 1)]);
        assert_eq!(c.width(), 50);
        assert_eq!(c.blocks(), [0..49, 49..50]);
        c.find(&src, &[2]);
        assert_eq!(c.runs(), &[(699, 1)]);
        assert_eq!(c.blocks(), [0..0, 0..1]);
        c.find(&src, &[]);
        assert_eq!((c.runs().len(), c.width()), (0, 0));
        // 46 used columns, 50 covered: within 50; not within 49 (the
        // runs), nor 40 (the used columns). After 8 images it stops
        // early and leaves all the columns.
        assert!(c.find_within(&src, &[0, 1, 2], 50));
        assert_eq!(c.width(), 50);
        assert!(!c.find_within(&src, &[0, 1, 2], 49));
        assert!(!c.find_within(&src, &[0, 1, 2], 40));
        assert_eq!(c.width(), 50);
        let eight = [0, 1, 2, 0, 1, 2, 0, 1];
        assert!(c.find_within(&src, &eight, 50));
        assert!(!c.find_within(&src, &eight, 40));
        assert_eq!((c.runs(), c.width()), (&[(0, INPUTS as u16)][..], INPUTS));
    }

    #[test]
    fn runs_stop_at_gemm_blocks() {
        let mut pixels = vec![0u8; INPUTS];
        for p in &mut pixels[500..530] {
            *p = 1;
        }
        let src = Samples {
            pixels,
            labels: vec![0],
        };
        let mut c = ActiveCols::new();
        c.find(&src, &[0]);
        assert_eq!(c.runs(), &[(500, 12), (512, 18)]);
        assert_eq!(c.blocks(), [0..12, 12..30]);
    }

    #[test]
    fn gathers_and_scatter_match_their_twins() {
        let src = images();
        let mut c = ActiveCols::new();
        let idx = [2u32, 0, 1];
        c.find(&src, &idx);
        let w = c.width();
        let (mut x, mut x_ref, mut labels) = (vec![9.0; 3 * w], vec![9.0; 3 * w], vec![0; 3]);
        gather_cols(&src, &idx, &c, &mut x, &mut labels);
        gather_cols_ref(&src, &idx, &c, &mut x_ref);
        assert_eq!(x, x_ref);
        assert_eq!(labels, [3, 1, 2]);
        // Weights: columns out and back.
        let o = 3;
        let wfull: Vec<f32> = (0..o * INPUTS).map(|k| k as f32).collect();
        let mut wc = vec![0.0; o * w];
        gather_weight_cols(&wfull, &c, &mut wc);
        let mut row = vec![5.0; INPUTS];
        scatter_row(&wc[w..2 * w], &c, &mut row);
        for (k, &v) in row.iter().enumerate() {
            let used = c
                .runs()
                .iter()
                .any(|&(s, n)| (s as usize..(s + n) as usize).contains(&k));
            assert_eq!(
                v,
                if used { (INPUTS + k) as f32 } else { 0.0 },
                "column {k}"
            );
        }
    }
}
