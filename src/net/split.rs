//! One training pass on several threads, bit for bit what one thread
//! computes.
//!
//! Every output element is summed in exactly the order one thread sums
//! it: the work is cut across output elements, never across a summed
//! dimension.
//!
//! - Forward, a hidden layer `z = a W^T`: across output units (columns
//!   of `z`, rows of `W`), each part with its bias and ReLU.
//! - Backward, `da = dz W`: across `da`'s columns, each part summing
//!   over the same blocks of weight rows, in the same order, as
//!   [`super::backward`] does; then the ReLU mask of the layer below
//!   and its bias gradient on those columns (column sums in row order).
//! - Backward, `dW = dz^T a` and the optimiser: across whole blocks of
//!   weight rows ([`super::grad_block_rows`]), the very blocks one
//!   thread takes, each handed to its part of the [`GradSink`].
//!
//! faer's GEMM sums each element of a product over the inner dimension
//! in order, one `kc` block at a time, whichever block of outputs it
//! sits in; it rounds differently only where it takes another kernel: a
//! product of at most [`FAER_SMALL_MNK`] multiply-adds (nano-gemm), one
//! of a single output row or column (matrix-vector kernels), or an inner
//! dimension of 1. So no part is cut to fewer than [`GRAIN`] columns,
//! below that size or from fewer than 2 rows, and nothing is cut when
//! an inner dimension is 1. Tests check steps on 1, 2, 3 and 16 threads
//! (the last cut as finely as this allows) bit for bit, on the SIMD path
//! the process runs (`PREINTERP_SIMD=avx2` for faer's AVX2 kernels on
//! an AVX-512 machine).
//!
//! A product is cut only when it has at least [`MIN_CUT_MACS`]
//! multiply-adds, and each part gets at least [`MIN_PART_MACS`]: narrow
//! models (3x100) stay on one thread, and a pass that cuts nothing runs
//! on its caller's thread. The parts run on the
//! current rayon pool through `rayon::join` (no allocation), each with
//! subnormals flushed on the thread that runs it (MXCSR is per thread).

use std::ops::Range;
use std::sync::OnceLock;

use faer::{Accum, MatMut, MatRef};

use super::{
    first_layer_backward, first_layer_product, grad_block_rows, weight_grad_rows, FirstInput,
    GradSink, PartBuffers,
};
use crate::kernels::bias_relu::{bias_relu_backward_row, bias_relu_forward};
use crate::kernels::denormals::FlushDenormals;
use crate::kernels::matmul::{matmul, view, view_mut, FAER_SMALL_MNK};
use crate::kernels::sparse_input::ActiveCols;
use crate::model::{LayerSpan, INPUTS};

/// Multiply-adds a product must have to be cut at all, unless
/// [`MIN_CUT_MACS_ENV`] says otherwise: 6 Mi, so that the paper's
/// 3x100 models at batch 16 and 64 are never cut, even on dense inputs
/// (64 x 784 x 100 = 5.0 M multiply-adds in the first layer), while a
/// 1000-wide layer at batch 16 (16 M; 6.6 M on MNIST's used columns in
/// the first layer) is.
pub(crate) const MIN_CUT_MACS: usize = 6 << 20;

/// Multiply-adds each part of a cut product must get, unless
/// [`MIN_PART_MACS_ENV`] says otherwise: 1 Mi, 20 to 40 us of one
/// core's GEMM, against a few microseconds to hand a part to a running
/// thread. A 1000-wide hidden layer at batch 16 is cut into up to 16
/// parts.
pub(crate) const MIN_PART_MACS: usize = 1 << 20;

/// The environment variable that sets [`MIN_CUT_MACS`], to measure
/// where cuts pay on a given machine. The results never depend on it.
pub(crate) const MIN_CUT_MACS_ENV: &str = "PREINTERP_MIN_CUT_MACS";

/// The environment variable that sets [`MIN_PART_MACS`], to measure
/// where cuts pay on a given machine. The results never depend on it.
pub(crate) const MIN_PART_MACS_ENV: &str = "PREINTERP_MIN_PART_MACS";

/// The positive number in environment variable `name`, else `default`.
fn env_macs(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(default)
}

/// The defaults of [`Splitting::new`]: [`MIN_CUT_MACS`] and
/// [`MIN_PART_MACS`], or what their environment variables say (read
/// once).
pub(crate) fn default_min_macs() -> (usize, usize) {
    static MACS: OnceLock<(usize, usize)> = OnceLock::new();
    *MACS.get_or_init(|| {
        (
            env_macs(MIN_CUT_MACS_ENV, MIN_CUT_MACS),
            env_macs(MIN_PART_MACS_ENV, MIN_PART_MACS),
        )
    })
}

/// Columns are cut in multiples of this many (one 64-byte cache line of
/// f32, so parts rarely share a line of a row).
pub(crate) const GRAIN: usize = 16;

/// How a pass may cut its products: those of at least `min_cut_macs`
/// multiply-adds, into up to `threads` parts of at least
/// `min_part_macs` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Splitting {
    /// Threads to cut across (1: nothing is cut).
    pub threads: usize,
    /// Multiply-adds a product must have to be cut.
    pub min_cut_macs: usize,
    /// Multiply-adds each part must get.
    pub min_part_macs: usize,
}

impl Splitting {
    /// One thread: nothing is cut.
    pub(crate) const ONE: Splitting = Splitting {
        threads: 1,
        min_cut_macs: MIN_CUT_MACS,
        min_part_macs: MIN_PART_MACS,
    };

    /// Up to `threads` parts, with the default minimums
    /// ([`default_min_macs`]).
    pub fn new(threads: usize) -> Self {
        let (min_cut_macs, min_part_macs) = default_min_macs();
        Splitting {
            threads: threads.max(1),
            min_cut_macs,
            min_part_macs,
        }
    }

    /// Parts that a product of `macs` multiply-adds pays for, at most
    /// `threads`.
    fn by_work(&self, macs: usize) -> usize {
        if macs < self.min_cut_macs {
            return 1;
        }
        self.threads.min(macs / self.min_part_macs.max(1))
    }

    /// Whether a pass of `rows` rows, whose first layer takes `x_cols`
    /// input columns (see [`super::Workspace::x_cols`]), may cut any
    /// layer of `layers`; when not, it can run where it is called,
    /// without entering a pool.
    pub fn may_split(&self, layers: &[LayerSpan], rows: usize, x_cols: usize) -> bool {
        layers.iter().enumerate().any(|(l, span)| {
            let i = if l == 0 { x_cols } else { span.fan_in };
            self.by_work(rows * i * span.fan_out) > 1
        })
    }

    /// Parts for a product with `rows x n` outputs, cut across its `n`
    /// columns: `macs` multiply-adds in all, `k_min` the smallest inner
    /// dimension of the products it takes (one per block of the inner
    /// dimension). 1 means: not cut.
    pub(crate) fn col_parts(&self, rows: usize, n: usize, k_min: usize, macs: usize) -> usize {
        if self.threads < 2 || rows < 2 || k_min < 2 {
            return 1;
        }
        // Every part's smallest product stays above faer's small kernels.
        let min_cols = (FAER_SMALL_MNK / (rows * k_min) + 1).max(GRAIN);
        let by_shape = (n / GRAIN) / min_cols.div_ceil(GRAIN);
        self.by_work(macs).min(by_shape).max(1)
    }

    /// Parts for a weight gradient of `blocks` blocks of rows and `macs`
    /// multiply-adds, cut across whole blocks. 1 means: not cut.
    fn row_parts(&self, blocks: usize, macs: usize) -> usize {
        self.by_work(macs).min(blocks).max(1)
    }

    /// Parts for the first layer's forward product of `rows` rows into
    /// `o` units, on all 784 columns or on the used ones (`compact`).
    pub(crate) fn first_forward_parts(
        &self,
        rows: usize,
        o: usize,
        compact: Option<&ActiveCols>,
    ) -> usize {
        let (k, k_min) = match compact {
            None => (INPUTS, INPUTS),
            Some(c) => {
                let blocks = c.blocks();
                let used = blocks.iter().map(|b| b.len()).filter(|&n| n > 0);
                (c.width(), used.min().unwrap_or(0))
            }
        };
        self.col_parts(rows, o, k_min, rows * k * o)
    }

    /// Parts for the first layer's weight gradient (`o` rows, `i` input
    /// columns as the batch holds them) over `rows` rows.
    pub(crate) fn first_backward_parts(&self, rows: usize, o: usize, i: usize) -> usize {
        let blocks = o.div_ceil(grad_block_rows(INPUTS, o));
        self.row_parts(blocks, rows * i * o)
    }
}

/// How a hidden or output layer's backward pass is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BackwardPlan {
    /// Parts of `da = dz W`, across `da`'s columns.
    pub cols: usize,
    /// Parts of `dW = dz^T a`, across whole blocks of weight rows.
    pub rows: usize,
}

impl BackwardPlan {
    /// The cuts for layer `span` over `rows` rows.
    pub fn new(splitting: &Splitting, rows: usize, span: &LayerSpan) -> Self {
        let (i, o) = (span.fan_in, span.fan_out);
        let step = grad_block_rows(i, o);
        let blocks = o.div_ceil(step);
        let last = o - (blocks - 1) * step;
        let macs = rows * i * o;
        BackwardPlan {
            cols: splitting.col_parts(rows, i, step.min(last), macs),
            rows: splitting.row_parts(blocks, macs),
        }
    }

    /// Whether anything is cut (else the layer takes the one-thread path).
    pub(crate) fn is_split(&self) -> bool {
        self.cols > 1 || self.rows > 1
    }
}

/// Where each of `parts` parts of `n` items begins: in whole units of
/// `unit` items (the last part also takes what is left over).
#[derive(Clone, Copy, Debug)]
struct Cuts {
    n: usize,
    unit: usize,
    units: usize,
    parts: usize,
}

impl Cuts {
    /// `n` columns in parts of whole [`GRAIN`]s.
    fn cols(n: usize, parts: usize) -> Self {
        Cuts {
            n,
            unit: GRAIN,
            units: n / GRAIN,
            parts,
        }
    }

    /// `n` weight rows in parts of whole blocks of `step` rows.
    fn blocks(n: usize, step: usize, parts: usize) -> Self {
        Cuts {
            n,
            unit: step,
            units: n.div_ceil(step),
            parts,
        }
    }

    /// The first item of part `k` (`n` for `k = parts`).
    fn at(&self, k: usize) -> usize {
        if k >= self.parts {
            return self.n;
        }
        (self.unit * (k * self.units / self.parts)).min(self.n)
    }
}

/// What one part works on, cut in two between parts.
trait Piece: Send + Sized {
    /// The pieces before and from item `at`, the first of them for
    /// `left` parts.
    fn cut(self, left: usize, at: usize) -> (Self, Self);
}

/// Runs `work` on each part in `parts` of `piece` (cut by `cuts`), in
/// parallel on the current rayon pool, the first part on this thread.
fn fork<P: Piece>(parts: Range<usize>, piece: P, cuts: &Cuts, work: &(impl Fn(P) + Sync)) {
    if parts.len() <= 1 {
        let _flush = FlushDenormals::on();
        work(piece);
        return;
    }
    let mid = parts.start + parts.len() / 2;
    let (a, b) = piece.cut(mid - parts.start, cuts.at(mid));
    rayon::join(
        || fork(parts.start..mid, a, cuts, work),
        || fork(mid..parts.end, b, cuts, work),
    );
}

/// The rows of a row-major view, as slices.
fn rows_mut(m: MatMut<'_, f32>) -> impl Iterator<Item = &mut [f32]> {
    m.row_iter_mut().map(|r| {
        r.try_as_row_major_mut()
            .expect("rows of unit stride")
            .as_slice_mut()
    })
}

/// Output columns from `c0` on.
struct Cols<'a> {
    c0: usize,
    dst: MatMut<'a, f32>,
}

impl Piece for Cols<'_> {
    fn cut(self, _: usize, at: usize) -> (Self, Self) {
        let (a, b) = self.dst.split_at_col_mut(at - self.c0);
        (
            Cols {
                c0: self.c0,
                dst: a,
            },
            Cols { c0: at, dst: b },
        )
    }
}

/// A hidden layer's forward pass, `dst (B x O) = relu(inp (B x I) W^T + b)`
/// (`dst` row-major, `w` `O x I`), cut across output units into `parts`.
pub(crate) fn linear_relu_forward(
    dst: MatMut<'_, f32>,
    inp: &[f32],
    w: &[f32],
    bias: &[f32],
    parts: usize,
) {
    let (rows, o) = (dst.nrows(), dst.ncols());
    let i = w.len() / o;
    let inp = view(inp, rows, i);
    let work = |p: Cols<'_>| {
        let Cols { c0, mut dst } = p;
        let c = dst.ncols();
        let wt = view(&w[c0 * i..], c, i).transpose();
        matmul(dst.as_mut(), Accum::Replace, inp, wt);
        for row in rows_mut(dst) {
            bias_relu_forward(row, &bias[c0..c0 + c]);
        }
    };
    fork(0..parts, Cols { c0: 0, dst }, &Cuts::cols(o, parts), &work);
}

/// The first layer's input to its forward product: `x` (dense or
/// compacted, see [`super::gather_input`]) and the buffer for the
/// weights' used columns.
pub(crate) struct FirstForward<'a> {
    /// The gathered inputs.
    pub x: &'a [f32],
    /// The used columns, when `x` is compacted.
    pub compact: Option<&'a ActiveCols>,
    /// The first layer's weights on the used columns, `O x W`.
    pub w0c: &'a mut [f32],
}

/// Output units from `c0` on, with their rows of the gathered weights
/// (`width` columns each).
struct FirstCols<'a> {
    c0: usize,
    dst: MatMut<'a, f32>,
    w0c: &'a mut [f32],
    width: usize,
}

impl Piece for FirstCols<'_> {
    fn cut(self, _: usize, at: usize) -> (Self, Self) {
        let FirstCols {
            c0,
            dst,
            w0c,
            width,
        } = self;
        let (da, db) = dst.split_at_col_mut(at - c0);
        let (wa, wb) = w0c.split_at_mut((at - c0) * width);
        (
            FirstCols {
                c0,
                dst: da,
                w0c: wa,
                width,
            },
            FirstCols {
                c0: at,
                dst: db,
                w0c: wb,
                width,
            },
        )
    }
}

/// The first layer's forward pass, `dst (B x O) = relu(x W_0^T + b)`
/// (`w` = `W_0`, `O x 784`), cut across output units into `parts`; each
/// part gathers its own rows of the weights' used columns.
pub(crate) fn first_layer_forward(
    dst: MatMut<'_, f32>,
    w: &[f32],
    bias: &[f32],
    input: FirstForward<'_>,
    parts: usize,
) {
    let o = dst.ncols();
    let FirstForward { x, compact, w0c } = input;
    let width = compact.map_or(0, |c| c.width());
    let work = |p: FirstCols<'_>| {
        let FirstCols {
            c0, mut dst, w0c, ..
        } = p;
        let c = dst.ncols();
        let w = &w[c0 * INPUTS..(c0 + c) * INPUTS];
        first_layer_product(dst.as_mut(), w, x, compact, w0c);
        for row in rows_mut(dst) {
            bias_relu_forward(row, &bias[c0..c0 + c]);
        }
    };
    let piece = FirstCols {
        c0: 0,
        dst,
        w0c: &mut w0c[..o * width],
        width,
    };
    fork(0..parts, piece, &Cuts::cols(o, parts), &work);
}

/// Columns of `da` from `c0` on, with their bias gradients.
struct GradCols<'a> {
    c0: usize,
    da: MatMut<'a, f32>,
    db: &'a mut [f32],
}

impl Piece for GradCols<'_> {
    fn cut(self, _: usize, at: usize) -> (Self, Self) {
        let GradCols { c0, da, db } = self;
        let (a, b) = da.split_at_col_mut(at - c0);
        let (dba, dbb) = db.split_at_mut(at - c0);
        (
            GradCols { c0, da: a, db: dba },
            GradCols {
                c0: at,
                da: b,
                db: dbb,
            },
        )
    }
}

/// A layer's input gradient `da (B x I) = dz (B x O) W (O x I)`, summed
/// over the same blocks of weight rows as [`super::backward`], then
/// through the ReLU of the layer below (`below`, its activations, `B x
/// I`) with its bias gradient into `db` (`I`); cut across `da`'s columns
/// into `parts`.
pub(crate) fn input_grad(
    dz: MatRef<'_, f32>,
    w: &[f32],
    da: &mut [f32],
    below: &[f32],
    db: &mut [f32],
    parts: usize,
) {
    let (rows, o, i) = (dz.nrows(), dz.ncols(), db.len());
    let step = grad_block_rows(i, o);
    let work = |p: GradCols<'_>| {
        let GradCols { c0, mut da, db } = p;
        let c = db.len();
        let mut r0 = 0;
        while r0 < o {
            let r = step.min(o - r0);
            let accum = if r0 == 0 { Accum::Replace } else { Accum::Add };
            let w_blk = view(&w[r0 * i..], r, i).subcols(c0, c);
            matmul(da.as_mut(), accum, dz.subcols(r0, r), w_blk);
            r0 += r;
        }
        db.fill(0.0);
        for (b, row) in rows_mut(da).enumerate() {
            let k = b * i + c0;
            bias_relu_backward_row(row, &below[k..k + c], db);
        }
    };
    let piece = GradCols {
        c0: 0,
        da: view_mut(da, rows, i),
        db,
    };
    fork(0..parts, piece, &Cuts::cols(i, parts), &work);
}

/// Weight rows from `r0` on (`fan_in` columns each, the weights at
/// parameter offset `w_at`), with their part of the sink and of the
/// per-thread buffers.
struct WeightRows<'a, S> {
    r0: usize,
    fan_in: usize,
    w_at: usize,
    w: &'a mut [f32],
    sink: S,
    bufs: &'a mut [PartBuffers],
}

impl<S: GradSink> Piece for WeightRows<'_, S> {
    fn cut(mut self, left: usize, at: usize) -> (Self, Self) {
        let k = (at - self.r0) * self.fan_in;
        let (wa, wb) = self.w.split_at_mut(k);
        let sink = self.sink.split_off(self.w_at + at * self.fan_in);
        let (ba, bb) = self.bufs.split_at_mut(left);
        let right = WeightRows {
            r0: at,
            fan_in: self.fan_in,
            w_at: self.w_at,
            w: wb,
            sink,
            bufs: bb,
        };
        let left = WeightRows {
            w: wa,
            bufs: ba,
            ..self
        };
        (left, right)
    }
}

/// The whole weight matrix of `span` as one piece, its sink cut off
/// `sink` (which keeps the parameters before it).
fn weight_piece<'a, S: GradSink>(
    span: &LayerSpan,
    params: &'a mut [f32],
    sink: &mut S,
    bufs: &'a mut [PartBuffers],
    parts: usize,
) -> WeightRows<'a, S> {
    assert!(bufs.len() >= parts, "one PartBuffers per part");
    WeightRows {
        r0: 0,
        fan_in: span.fan_in,
        w_at: span.w,
        w: &mut params[span.w_range()],
        sink: sink.split_off(span.w),
        bufs,
    }
}

/// A hidden or output layer's weight gradient `dW = dz^T a` (`a` =
/// `inp`), each block handed to `sink`, cut across whole blocks of
/// weight rows into `parts` (one [`PartBuffers`] each). Takes the
/// layer's weights off `sink`: its bias must have been handed over.
pub(crate) fn weight_grad<S: GradSink>(
    span: &LayerSpan,
    dz: MatRef<'_, f32>,
    inp: MatRef<'_, f32>,
    params: &mut [f32],
    sink: &mut S,
    bufs: &mut [PartBuffers],
    parts: usize,
) {
    let i = span.fan_in;
    let step = grad_block_rows(i, span.fan_out);
    let work = |p: WeightRows<'_, S>| {
        let WeightRows {
            r0,
            w,
            mut sink,
            bufs,
            ..
        } = p;
        let rows = r0..r0 + w.len() / i;
        weight_grad_rows(span, dz, inp, rows, &mut bufs[0].gblock, w, &mut sink);
    };
    let piece = weight_piece(span, params, sink, bufs, parts);
    fork(
        0..parts,
        piece,
        &Cuts::blocks(span.fan_out, step, parts),
        &work,
    );
}

/// The first layer's weight gradient `dW = dz^T x` (`x` dense, or on
/// the used columns `cols`), each block (or scattered row) handed to
/// `sink`, cut across whole blocks of weight rows into `parts`. Takes
/// the layer's weights off `sink`: its bias must have been handed over.
pub(crate) fn first_weight_grad<S: GradSink>(
    span: &LayerSpan,
    dz: MatRef<'_, f32>,
    (x, cols): (MatRef<'_, f32>, Option<&ActiveCols>),
    params: &mut [f32],
    sink: &mut S,
    bufs: &mut [PartBuffers],
    parts: usize,
) {
    let step = grad_block_rows(INPUTS, span.fan_out);
    let work = |p: WeightRows<'_, S>| {
        let WeightRows {
            r0,
            w,
            mut sink,
            bufs,
            ..
        } = p;
        let PartBuffers { gblock, grow } = &mut bufs[0];
        let rows = r0..r0 + w.len() / INPUTS;
        let input = FirstInput { x, cols, grow };
        first_layer_backward(span, dz, input, rows, gblock, w, &mut sink);
    };
    let piece = weight_piece(span, params, sink, bufs, parts);
    fork(
        0..parts,
        piece,
        &Cuts::blocks(span.fan_out, step, parts),
        &work,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_cover_the_items_in_whole_units() {
        for (n, parts) in [(1000, 2), (1000, 3), (1000, 62), (300, 7), (40, 2)] {
            let c = Cuts::cols(n, parts);
            assert_eq!((c.at(0), c.at(parts)), (0, n));
            for k in 0..parts {
                assert!(c.at(k) < c.at(k + 1), "{n} in {parts}: part {k} empty");
                assert_eq!(c.at(k) % GRAIN, 0);
            }
        }
        let c = Cuts::blocks(1000, 65, 3); // 16 blocks, the last of 25 rows
        assert_eq!([c.at(0), c.at(1), c.at(2), c.at(3)], [0, 325, 650, 1000]);
        let c = Cuts::blocks(1000, 65, 16);
        assert!((0..16).all(|k| c.at(k) == 65 * k));
    }

    /// Results of parts: whether a subnormal product was flushed, and
    /// the thread that ran it.
    struct Flags<'a>(&'a mut [(bool, Option<std::thread::ThreadId>)]);

    impl Piece for Flags<'_> {
        fn cut(self, left: usize, _: usize) -> (Self, Self) {
            let (a, b) = self.0.split_at_mut(left);
            (Flags(a), Flags(b))
        }
    }

    /// MXCSR is per thread: every part flushes subnormals on the thread
    /// that runs it, not only the one that started the pass.
    #[test]
    fn every_part_flushes_subnormals_on_its_own_thread() {
        if !crate::kernels::denormals::flushing() || !cfg!(target_arch = "x86_64") {
            return;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let parts = 8;
        let mut out = vec![(false, None); parts];
        let work = |p: Flags<'_>| {
            // Slow enough that idle threads steal the other parts.
            std::thread::sleep(std::time::Duration::from_millis(20));
            let tiny = std::hint::black_box(1e-30f32) * std::hint::black_box(1e-10f32);
            p.0[0] = (tiny == 0.0, Some(std::thread::current().id()));
        };
        let cuts = Cuts::cols(parts * GRAIN, parts);
        pool.install(|| fork(0..parts, Flags(&mut out), &cuts, &work));
        assert!(out.iter().all(|&(flushed, _)| flushed), "{out:?}");
        let threads: std::collections::HashSet<_> = out.iter().map(|r| r.1).collect();
        assert!(threads.len() > 1, "the parts ran on several threads");
    }

    #[test]
    fn parts_keep_every_product_out_of_faers_small_kernels() {
        for threads in [2, 3, 8, 64] {
            let split = Splitting {
                threads,
                min_cut_macs: 1,
                min_part_macs: 1,
            };
            for rows in [2, 3, 16, 64] {
                for (n, k) in [(1000, 1000), (1000, 25), (300, 3), (100, 100), (10, 1000)] {
                    let p = split.col_parts(rows, n, k, usize::MAX);
                    let c = Cuts::cols(n, p);
                    for j in 0..p {
                        let w = c.at(j + 1) - c.at(j);
                        assert!(w >= GRAIN || p == 1, "{n} cols in {p}: {w}");
                        assert!(rows * w * k > FAER_SMALL_MNK || p == 1);
                    }
                }
            }
        }
        let eight = Splitting::new(8);
        assert_eq!(eight.col_parts(1, 1000, 1000, usize::MAX), 1, "one row");
        assert_eq!(
            eight.col_parts(16, 1000, 1, usize::MAX),
            1,
            "inner dimension 1"
        );
        assert_eq!(Splitting::ONE.col_parts(16, 1000, 1000, usize::MAX), 1);
    }

    /// The defaults: the paper's 3x100 models never cut, a 1000-wide
    /// layer at batch 16 cut into 16 parts.
    #[test]
    fn narrow_layers_stay_whole_and_wide_ones_are_cut() {
        let many = Splitting {
            threads: 64,
            ..Splitting::ONE
        };
        for (rows, x_cols) in [(16, INPUTS), (64, INPUTS)] {
            let layers = crate::model::Shape::new(3, 100).unwrap().layers();
            assert!(!many.may_split(&layers, rows, x_cols), "3x100 b{rows}");
        }
        let wide = crate::model::Shape::new(3, 1000).unwrap().layers();
        assert!(many.may_split(&wide, 16, 420));
        assert_eq!(many.col_parts(16, 1000, 1000, 16 * 1000 * 1000), 15);
        assert_eq!(many.first_forward_parts(16, 1000, None), 11);
        let plan = BackwardPlan::new(&many, 16, &wide[1]);
        assert_eq!((plan.cols, plan.rows), (15, 15));
    }
}
