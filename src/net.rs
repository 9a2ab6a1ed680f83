//! Forward and backward passes of the MLP over a batch of rows, side by
//! side, on buffers allocated once per model (or per worker).
//!
//! Shapes: `B` rows, hidden width `h`, `L` hidden layers, `C` classes.
//! `acts[l]` is layer `l`'s post-ReLU output (`B x h`); `logits` is the
//! output layer's `A W^T` (`B x C`), its bias added by the fused loss.
//!
//! The first layer runs on only the input columns the batch uses when
//! that saves enough (see [`crate::kernels::sparse_input`]): `ws.x` then
//! holds `B x W` compacted inputs and the weights' matching columns are
//! gathered into `ws.w0c`. The backward pass hands every block of the
//! gradient to a [`GradSink`] as soon as it is computed (the optimiser,
//! during training), so a step never writes the whole gradient out and
//! reads it back.

use faer::Accum;

use crate::data::Samples;
use crate::kernels::bias_relu::{bias_relu_backward, bias_relu_forward};
use crate::kernels::matmul::{matmul, view, view_mut};
use crate::kernels::pixel_sparse::{self, first_layer_sparse, NonZeros, PackedFirst};
use crate::kernels::softmax_xent::{softmax_xent_forward, softmax_xent_forward_backward, BlockOut};
use crate::kernels::sparse_input::{gather_cols, gather_weight_cols, scatter_row, ActiveCols};
use crate::model::{LayerSpan, Shape, CLASSES, INPUTS};

pub mod split;

use split::Splitting;

/// Rows per forward block: a block of the input and output of a layer
/// fits in half of a 2 MiB L2, so bias + ReLU run on it while it is hot.
pub(crate) fn block_rows(fan_in: usize, fan_out: usize) -> usize {
    const BUDGET: usize = 1 << 20;
    (BUDGET / (4 * (fan_in + fan_out))).clamp(16, 1024) / 16 * 16
}

/// Weight rows per gradient block: the block's gradient (`R x I`) stays
/// in L2 between the product that writes it and the optimiser that
/// reads it.
pub(crate) fn grad_block_rows(fan_in: usize, fan_out: usize) -> usize {
    const BUDGET: usize = 256 << 10;
    (BUDGET / (4 * fan_in)).max(16).min(fan_out)
}

/// The compacted first layer is never used when more than this many of
/// the 784 columns are used (about 90%: nearer to all of them, the
/// gathers cost about what the smaller product saves).
pub(crate) const COMPACT_MAX_COLS: usize = 700;

/// The most used columns at which a block of `rows` rows is compacted
/// for a first layer of `h` units: compacting saves `rows (784 - W) h`
/// multiply-adds, and costs copies of `h W` weights in and `h 784`
/// gradient values out (each worth about 4 multiply-adds) plus about
/// 150,000 multiply-adds' worth of bookkeeping per block. Fitted to side
/// by side measurements at batch 16 (3x100: compacting MNIST's 53% of
/// columns costs 1-3%; 3x1000 and 1x1000: it saves 4-7%) and capped at
/// [`COMPACT_MAX_COLS`]. Either way the results are bit-identical.
pub(crate) fn compact_max_cols(rows: usize, h: usize) -> usize {
    let (k, fixed) = (4, 150_000);
    let saved = (INPUTS * h * rows.saturating_sub(k)).saturating_sub(fixed);
    (saved / (h * (rows + k)).max(1)).min(COMPACT_MAX_COLS)
}

/// How [`gather_input`] lays out the first layer's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InputMode {
    /// Compacted when at most [`compact_max_cols`] columns are used,
    /// and on the non-zero pixels when that pays ([`pixel_sparse::pays`]).
    Auto,
    /// Always all 784 columns.
    Dense,
    /// Always only the used columns.
    Compact,
    /// On the non-zero pixels wherever that is bit-identical
    /// ([`pixel_sparse::applies`]), paying or not; else as `Auto`.
    Sparse,
}

/// Every buffer one forward + backward pass of up to `rows` rows needs.
pub struct Workspace {
    /// Capacity in rows.
    pub rows: usize,
    /// Gathered inputs, pixels / 255: `B x 784`, or `B x W` when
    /// `compact` (the columns of `cols`).
    pub x: Vec<f32>,
    /// Gathered labels, `B`.
    pub labels: Vec<u8>,
    /// Whether `x` holds only the used columns.
    pub compact: bool,
    /// The used input columns (valid when `compact`).
    pub cols: ActiveCols,
    /// The first layer's weights on the used columns, `h x W`.
    pub w0c: Vec<f32>,
    /// Whether the first layer runs on the non-zero pixels `nz` (then
    /// `x` is not filled: see [`gather_input`]).
    pub sparse: bool,
    /// The block's non-zero pixels (room for none in a training
    /// workspace: see [`Workspace::for_eval`]).
    pub nz: NonZeros,
    /// Hidden activations, `L` buffers of `B x h`.
    pub acts: Vec<Vec<f32>>,
    /// Output-layer pre-activations (then `exp(z - m)`), `B x C`.
    pub logits: Vec<f32>,
    /// Gradient of the loss w.r.t. the logits, `B x C`.
    pub dlogits: Vec<f32>,
    /// Ping-pong gradients w.r.t. hidden activations, `2 x (B x h)`.
    pub da: [Vec<f32>; 2],
    /// One block of a weight gradient (see [`grad_block_rows`]).
    pub gblock: Vec<f32>,
    /// One full first-layer gradient row (784), scattered from `gblock`.
    pub grow: Vec<f32>,
    /// A bias gradient, `max(h, C)`.
    pub db: Vec<f32>,
    /// Per-row loss, `B`.
    pub loss: Vec<f32>,
    /// Per-row predicted class, `B`.
    pub pred: Vec<u8>,
}

impl Workspace {
    /// Buffers for `shape` and up to `rows` rows.
    pub fn new(shape: &Shape, rows: usize) -> Self {
        let bh = rows * shape.width;
        Workspace {
            rows,
            x: vec![0.0; rows * INPUTS],
            labels: vec![0; rows],
            compact: false,
            cols: ActiveCols::new(),
            w0c: vec![0.0; shape.width * INPUTS],
            sparse: false,
            nz: NonZeros::new(0),
            acts: (0..shape.depth).map(|_| vec![0.0; bh]).collect(),
            logits: vec![0.0; rows * CLASSES],
            dlogits: vec![0.0; rows * CLASSES],
            da: [vec![0.0; bh], vec![0.0; bh]],
            gblock: vec![0.0; grad_block_len(shape)],
            grow: vec![0.0; INPUTS],
            db: vec![0.0; shape.width.max(CLASSES)],
            loss: vec![0.0; rows],
            pred: vec![0; rows],
        }
    }

    /// [`Workspace::new`] with room for the non-zero pixels of `rows`
    /// images, for evaluation's sparse first layer (6 bytes per pixel
    /// and 1 KiB per row more).
    pub fn for_eval(shape: &Shape, rows: usize) -> Self {
        Workspace {
            nz: NonZeros::new(rows),
            ..Self::new(shape, rows)
        }
    }

    /// Columns of `x` per row.
    pub(crate) fn x_cols(&self) -> usize {
        if self.compact {
            self.cols.width()
        } else {
            INPUTS
        }
    }
}

/// Gathers samples `idx` of `src` into `ws` (inputs and labels), on the
/// used columns only when `mode` says so (see [`InputMode`]); or, when
/// the caller has the first layer's weights packed for [`pixel_sparse`]
/// (`packed`: evaluation) and `mode` and the block allow it, lists their
/// non-zero pixels instead (then `ws.sparse`).
pub(crate) fn gather_input(
    src: &Samples,
    idx: &[u32],
    ws: &mut Workspace,
    mode: InputMode,
    packed: bool,
) {
    let (rows, o) = (idx.len(), ws.w0c.len() / INPUTS);
    ws.sparse = false;
    let may =
        matches!(mode, InputMode::Auto | InputMode::Sparse) && packed && rows <= ws.nz.capacity();
    if may && pixel_sparse::applies_either_way(rows, o) {
        // Sparse against even the narrowest compaction: decided without
        // looking for the used columns (bit-identical either way when
        // the list shows two used pixels per used block).
        let nonzeros = pixel_sparse::estimate_nonzeros(src, idx);
        let narrowest = compact_max_cols(rows, o).clamp(1, INPUTS);
        if mode == InputMode::Sparse || pixel_sparse::pays(nonzeros, rows, narrowest, o) {
            ws.nz.fill(src, idx);
            if ws.nz.two_or_none_per_block() {
                ws.sparse = true;
                ws.compact = false;
                gather_labels(src, idx, &mut ws.labels);
                return;
            }
        }
    }
    ws.compact = match mode {
        InputMode::Dense => false,
        InputMode::Compact => true,
        InputMode::Auto | InputMode::Sparse => {
            let limit = compact_max_cols(rows, o);
            ws.cols.find_within(src, idx, limit)
        }
    };
    if mode == InputMode::Compact {
        ws.cols.find(src, idx);
    }
    if may && pixel_sparse::applies(rows, o, ws.compact.then_some(&ws.cols)) {
        let nonzeros = pixel_sparse::estimate_nonzeros(src, idx);
        ws.sparse = mode == InputMode::Sparse || pixel_sparse::pays(nonzeros, rows, ws.x_cols(), o);
    }
    if ws.sparse {
        ws.nz.fill(src, idx);
        gather_labels(src, idx, &mut ws.labels);
    } else if ws.compact {
        gather_cols(src, idx, &ws.cols, &mut ws.x, &mut ws.labels);
    } else {
        gather(src, idx, &mut ws.x, &mut ws.labels);
    }
}

/// Copies the labels of samples `idx` of `src`.
fn gather_labels(src: &Samples, idx: &[u32], labels: &mut [u8]) {
    for (lab, &i) in labels.iter_mut().zip(idx) {
        *lab = src.labels[i as usize];
    }
}

/// Copies samples `idx` of `src` into `x` (as `u8 / 255`) and `labels`.
pub fn gather(src: &Samples, idx: &[u32], x: &mut [f32], labels: &mut [u8]) {
    // Compiled for the widest SIMD level present (pulp dispatch), so the
    // conversion and the exact scaling run 16 lanes wide on AVX-512
    // (without FMA hardware, `mul_add` falls back to libm: slower, but
    // still exact).
    struct Op<'a>(&'a Samples, &'a [u32], &'a mut [f32], &'a mut [u8]);
    impl pulp::WithSimd for Op<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Op(src, idx, x, labels) = self;
            for ((&i, row), lab) in idx
                .iter()
                .zip(x.chunks_exact_mut(INPUTS))
                .zip(labels.iter_mut())
            {
                let i = i as usize;
                for (d, &p) in row.iter_mut().zip(src.image(i)) {
                    *d = crate::kernels::byte_to_unit(p);
                }
                *lab = src.labels[i];
            }
        }
    }
    crate::kernels::arch().dispatch(Op(src, idx, x, labels));
}

/// `out (B x O) = relu(inp (B x I) W^T + b)`, block by block so that
/// bias + ReLU touch each block while it is still in cache; `w` is
/// `O x I` row-major.
fn linear_relu_forward(out: &mut [f32], inp: &[f32], w: &[f32], b: &[f32], rows: usize, i: usize) {
    let o = b.len();
    let wt = view(w, o, i).transpose();
    let step = block_rows(i, o);
    let mut r0 = 0;
    while r0 < rows {
        let r = step.min(rows - r0);
        let out_blk = &mut out[r0 * o..(r0 + r) * o];
        matmul(
            view_mut(out_blk, r, o),
            Accum::Replace,
            view(&inp[r0 * i..], r, i),
            wt,
        );
        bias_relu_forward(out_blk, b);
        r0 += r;
    }
}

/// The first layer's product `dst (B x O) = x W_0^T`, `w` being the
/// `O` rows of `W_0` that `dst`'s columns take (all of them, or one
/// thread's share): on all 784 columns, or (compact input) on the used
/// columns, with the weights' columns gathered into `w0c` (`O x W`) and
/// one product per GEMM `kc` block of the dense columns, so that the
/// result is bit-identical to the dense product (see
/// [`crate::kernels::sparse_input`]). `dst` may have any layout.
fn first_layer_product(
    mut dst: faer::MatMut<'_, f32>,
    w: &[f32],
    x: &[f32],
    compact: Option<&ActiveCols>,
    w0c: &mut [f32],
) {
    let (rows, o) = (dst.nrows(), dst.ncols());
    let Some(cols) = compact else {
        let wt = view(w, o, INPUTS).transpose();
        matmul(dst, Accum::Replace, view(x, rows, INPUTS), wt);
        return;
    };
    let width = cols.width();
    let w0c = &mut w0c[..o * width];
    gather_weight_cols(w, cols, w0c);
    let (xv, wv) = (view(x, rows, width), view(w0c, o, width));
    let mut accum = Accum::Replace;
    for blk in cols.blocks() {
        if blk.is_empty() {
            continue;
        }
        let n = blk.len();
        let (xb, wb) = (xv.subcols(blk.start, n), wv.subcols(blk.start, n));
        matmul(dst.as_mut(), accum, xb, wb.transpose());
        accum = Accum::Add;
    }
    if accum == Accum::Replace {
        dst.fill(0.0); // no pixel used at all
    }
}

/// Forward pass of the first `rows` rows of `ws.x` (as laid out by
/// [`gather_input`]; dense after [`Workspace::new`]): fills `ws.acts`
/// and `ws.logits` (without the output bias, which the fused loss adds).
pub fn forward(layers: &[LayerSpan], params: &[f32], ws: &mut Workspace, rows: usize) {
    forward_parallel(layers, params, ws, rows, Splitting::ONE);
}

/// [`forward`] with each wide hidden layer cut across its output units
/// as `splitting` allows, the parts run on the current rayon pool (see
/// [`split`]): bit-identical to [`forward`].
pub(crate) fn forward_parallel(
    layers: &[LayerSpan],
    params: &[f32],
    ws: &mut Workspace,
    rows: usize,
    splitting: Splitting,
) {
    let depth = layers.len() - 1;
    let Workspace {
        x,
        compact,
        cols,
        w0c,
        acts,
        logits,
        ..
    } = ws;
    for (l, span) in layers[..depth].iter().enumerate() {
        let (before, rest) = acts.split_at_mut(l);
        let (w, bias) = (&params[span.w_range()], &params[span.b_range()]);
        let o = span.fan_out;
        if l == 0 {
            let out = &mut rest[0][..rows * o];
            let compact = compact.then_some(&*cols);
            let parts = splitting.first_forward_parts(rows, o, compact);
            if parts > 1 {
                let input = split::FirstForward { x, compact, w0c };
                split::first_layer_forward(view_mut(out, rows, o), w, bias, input, parts);
            } else {
                first_layer_product(view_mut(out, rows, o), w, x, compact, w0c);
                bias_relu_forward(out, bias);
            }
        } else {
            let (out, inp, i) = (&mut rest[0][..rows * o], &before[l - 1], span.fan_in);
            let parts = splitting.col_parts(rows, o, i, rows * i * o);
            if parts > 1 {
                split::linear_relu_forward(view_mut(out, rows, o), inp, w, bias, parts);
            } else {
                linear_relu_forward(out, inp, w, bias, rows, i);
            }
        }
    }
    let out = &layers[depth];
    let (i, o) = (out.fan_in, out.fan_out);
    matmul(
        view_mut(logits, rows, o),
        Accum::Replace,
        view(&acts[depth - 1], rows, i),
        view(&params[out.w_range()], o, i).transpose(),
    );
}

/// [`forward`] for evaluation: the hidden activations are kept
/// feature-major (column-major `B x h`, each unit's `B` values
/// contiguous), so every product has the block's samples as its long
/// `M` dimension and faer's micro-kernels run full, instead of the
/// layer width (e.g. 100 = 96 + 4) with a mostly idle remainder kernel.
/// Fills `ws.logits` (row-major, without the output bias) like
/// [`forward`]; the rounding differs from it only by summation order.
/// With `ws.sparse` the first layer runs on the non-zero pixels and
/// `packed`, the first layer's weights packed for the whole evaluation.
pub(crate) fn forward_eval(
    layers: &[LayerSpan],
    params: &[f32],
    ws: &mut Workspace,
    rows: usize,
    packed: Option<&PackedFirst>,
) {
    first_layer_eval(&layers[0], params, ws, rows, packed);
    later_layers_eval(layers, params, ws, rows);
}

/// The first layer of [`forward_eval`]: `ws.acts[0]` (feature-major)
/// from the block's input, on its non-zero pixels when `ws.sparse`.
pub(crate) fn first_layer_eval(
    span: &LayerSpan,
    params: &[f32],
    ws: &mut Workspace,
    rows: usize,
    packed: Option<&PackedFirst>,
) {
    let o = span.fan_out;
    let out = &mut ws.acts[0][..rows * o];
    if ws.sparse {
        let packed = packed.expect("sparse evaluation without packed weights");
        first_layer_sparse(packed, &mut ws.nz, out, 1, rows);
    } else {
        let dst = faer::MatMut::from_column_major_slice_mut(out, rows, o);
        let compact = ws.compact.then_some(&ws.cols);
        first_layer_product(dst, &params[span.w_range()], &ws.x, compact, &mut ws.w0c);
    }
    bias_relu_forward_feature_major(out, &params[span.b_range()]);
}

/// The layers after the first of [`forward_eval`]: the other hidden
/// layers (feature-major), then the logits.
pub(crate) fn later_layers_eval(
    layers: &[LayerSpan],
    params: &[f32],
    ws: &mut Workspace,
    rows: usize,
) {
    let depth = layers.len() - 1;
    let Workspace { acts, logits, .. } = ws;
    for (l, span) in layers[..depth].iter().enumerate().skip(1) {
        let (o, i) = (span.fan_out, span.fan_in);
        let (before, rest) = acts.split_at_mut(l);
        let out = &mut rest[0][..rows * o];
        let dst = faer::MatMut::from_column_major_slice_mut(out, rows, o);
        let w = view(&params[span.w_range()], o, i).transpose();
        let inp = faer::MatRef::from_column_major_slice(&before[l - 1][..rows * i], rows, i);
        matmul(dst, Accum::Replace, inp, w);
        bias_relu_forward_feature_major(out, &params[span.b_range()]);
    }
    let out = &layers[depth];
    let (i, o) = (out.fan_in, out.fan_out);
    matmul(
        view_mut(logits, rows, o),
        Accum::Replace,
        faer::MatRef::from_column_major_slice(&acts[depth - 1][..rows * i], rows, i),
        view(&params[out.w_range()], o, i).transpose(),
    );
}

/// Bias + ReLU on feature-major `z` (`O` runs of `B` values).
fn bias_relu_forward_feature_major(z: &mut [f32], bias: &[f32]) {
    let b = z.len() / bias.len();
    for (col, &bv) in z.chunks_exact_mut(b).zip(bias) {
        for x in col.iter_mut() {
            *x = (*x + bv).max(0.0);
        }
    }
}

/// Loss and predictions of the first `rows` rows after [`forward`],
/// into `ws.loss` and `ws.pred`.
pub fn loss_forward(layers: &[LayerSpan], params: &[f32], ws: &mut Workspace, rows: usize) {
    let out = layers.last().expect("at least one layer");
    softmax_xent_forward(
        &mut ws.logits[..rows * CLASSES],
        &params[out.b_range()],
        &ws.labels[..rows],
        BlockOut {
            loss: &mut ws.loss[..rows],
            pred: &mut ws.pred[..rows],
        },
    );
}

/// Where [`backward`] puts the gradient, block by block.
pub trait GradSink: Send + Sized {
    /// `grad` is the gradient of `params`, which sit at offset `at` of
    /// the parameter buffer. Each parameter is handed over exactly once
    /// per backward pass, after its last use by the pass.
    fn take(&mut self, at: usize, params: &mut [f32], grad: &[f32]);

    /// Cuts the sink at parameter `at`: this one goes on taking the
    /// parameters before `at`, the one returned those from `at` on
    /// (cut again, one part per thread, when a layer's gradient is
    /// split). The pass goes from the last layer to the first, so it
    /// only ever cuts below what it has handed over.
    fn split_off(&mut self, at: usize) -> Self;
}

/// A [`GradSink`] that copies the gradient into a whole-model buffer
/// (no update).
pub(crate) struct IntoBuffer<'a> {
    /// The buffer's part this sink fills.
    buf: &'a mut [f32],
    /// The parameter offset of `buf[0]`.
    at: usize,
}

impl<'a> IntoBuffer<'a> {
    /// Fills `buf`, laid out like the parameters.
    pub fn new(buf: &'a mut [f32]) -> Self {
        IntoBuffer { buf, at: 0 }
    }
}

impl GradSink for IntoBuffer<'_> {
    fn take(&mut self, at: usize, _params: &mut [f32], grad: &[f32]) {
        let k = at - self.at;
        self.buf[k..k + grad.len()].copy_from_slice(grad);
    }

    fn split_off(&mut self, at: usize) -> Self {
        let (head, tail) = std::mem::take(&mut self.buf).split_at_mut(at - self.at);
        self.buf = head;
        IntoBuffer { buf: tail, at }
    }
}

/// One thread's buffers for a backward pass split across threads (see
/// [`backward_parallel`]), allocated once.
pub(crate) struct PartBuffers {
    /// One block of a weight gradient (see [`grad_block_rows`]).
    gblock: Vec<f32>,
    /// One full first-layer gradient row (784).
    grow: Vec<f32>,
}

impl PartBuffers {
    /// Buffers for `shape`.
    pub fn new(shape: &Shape) -> Self {
        PartBuffers {
            gblock: vec![0.0; grad_block_len(shape)],
            grow: vec![0.0; INPUTS],
        }
    }
}

/// Floats in the largest block of a weight gradient of `shape`.
fn grad_block_len(shape: &Shape) -> usize {
    shape
        .layers()
        .iter()
        .map(|l| grad_block_rows(l.fan_in, l.fan_out) * l.fan_in)
        .max()
        .unwrap_or(0)
}

/// Backward pass of the mean loss over the first `rows` rows, after
/// [`forward`]: loss and predictions into `ws`, and every block of the
/// gradient to `sink` as soon as it is ready (which may update
/// `params`: each block is handed over after its weights' last use).
///
/// Layer by layer, from the output: per block of weight rows, the
/// block's share of `da = dz W` (accumulated), its weight gradient
/// `dW = dz^T a`, then the sink; then the bias; then the ReLU mask of
/// the layer below on `da`, with its bias gradient.
pub fn backward<S: GradSink>(
    layers: &[LayerSpan],
    params: &mut [f32],
    ws: &mut Workspace,
    rows: usize,
    sink: &mut S,
) {
    backward_parallel(layers, params, ws, rows, sink, Splitting::ONE, &mut []);
}

/// [`backward`] with each wide layer cut as `splitting` allows, the parts
/// run on the current rayon pool with one [`PartBuffers`] each (`bufs`,
/// one per thread; see [`split`]): a cut layer takes its bias, then
/// `da = dz W` cut across `da`'s columns (with the ReLU mask and bias
/// gradient of the layer below on the same columns), then `dW = dz^T a`
/// and the sink cut across whole blocks of weight rows. Bit-identical to
/// [`backward`].
pub(crate) fn backward_parallel<S: GradSink>(
    layers: &[LayerSpan],
    params: &mut [f32],
    ws: &mut Workspace,
    rows: usize,
    sink: &mut S,
    splitting: Splitting,
    bufs: &mut [PartBuffers],
) {
    assert!(
        splitting.threads <= bufs.len().max(1),
        "one PartBuffers per thread"
    );
    let depth = layers.len() - 1;
    let out = &layers[depth];
    let Workspace {
        x,
        labels,
        compact,
        cols,
        acts,
        logits,
        dlogits,
        da,
        gblock,
        grow,
        db,
        loss,
        pred,
        ..
    } = ws;
    // dL/dlogits and the output bias gradient, fused with the loss.
    softmax_xent_forward_backward(
        &mut logits[..rows * CLASSES],
        &params[out.b_range()],
        &labels[..rows],
        1.0 / rows as f32,
        &mut dlogits[..rows * CLASSES],
        &mut db[..CLASSES],
        BlockOut {
            loss: &mut loss[..rows],
            pred: &mut pred[..rows],
        },
    );
    // `cur` indexes the `da` buffer holding dL/dz of the layer at hand.
    let mut cur = 0usize;
    for l in (1..=depth).rev() {
        let span = &layers[l];
        let (i, o) = (span.fan_in, span.fan_out);
        let next = if l == depth { 0 } else { 1 - cur };
        let (d0, d1) = da.split_at_mut(1);
        let (dz, da_out): (&[f32], &mut [f32]) = match (l == depth, next) {
            (true, _) => (dlogits, &mut d0[0]),
            (false, 0) => (&d1[0], &mut d0[0]),
            (false, _) => (&d0[0], &mut d1[0]),
        };
        let (da_out, below) = (&mut da_out[..rows * i], &acts[l - 1][..rows * i]);
        let plan = split::BackwardPlan::new(&splitting, rows, span);
        if plan.is_split() {
            sink.take(span.b, &mut params[span.b_range()], &db[..o]);
            let (dz, w) = (view(dz, rows, o), &params[span.w_range()]);
            split::input_grad(dz, w, da_out, below, &mut db[..i], plan.cols);
            let inp = view(below, rows, i);
            split::weight_grad(span, dz, inp, params, sink, bufs, plan.rows);
        } else {
            let grads = LayerGrads {
                dz: view(dz, rows, o),
                inp: view(below, rows, i),
                da: view_mut(da_out, rows, i),
            };
            linear_backward(span, grads, gblock, params, sink);
            sink.take(span.b, &mut params[span.b_range()], &db[..o]);
            // Through the ReLU of layer l-1, with its bias gradient.
            bias_relu_backward(da_out, below, &mut db[..i]);
        }
        cur = next;
    }
    // The first layer: its bias, then its weight gradient on the used
    // columns.
    let span = &layers[0];
    let o = span.fan_out;
    sink.take(span.b, &mut params[span.b_range()], &db[..o]);
    let dz: &[f32] = if depth == 0 { dlogits } else { &da[cur] };
    let dz = view(dz, rows, o);
    let cols = compact.then_some(&*cols);
    let x = view(x, rows, cols.map_or(INPUTS, |c| c.width()));
    let n = splitting.first_backward_parts(rows, o, x.ncols());
    if n > 1 {
        split::first_weight_grad(span, dz, (x, cols), params, sink, bufs, n);
    } else {
        let input = FirstInput { x, cols, grow };
        let w = &mut params[span.w_range()];
        first_layer_backward(span, dz, input, 0..o, gblock, w, sink);
    }
}

/// A hidden or output layer's backward operands: `dz (B x O)`, its input
/// `a (B x I)`, and where `da (B x I)` goes.
struct LayerGrads<'a> {
    dz: faer::MatRef<'a, f32>,
    inp: faer::MatRef<'a, f32>,
    da: faer::MatMut<'a, f32>,
}

/// One layer's input gradient `da = dz W` and weight gradient
/// `dW = dz^T a`, block of weight rows by block, each block handed to
/// `sink` while in cache.
fn linear_backward<S: GradSink>(
    span: &LayerSpan,
    mut g: LayerGrads<'_>,
    gblock: &mut [f32],
    params: &mut [f32],
    sink: &mut S,
) {
    let (i, o) = (span.fan_in, span.fan_out);
    let step = grad_block_rows(i, o);
    let mut r0 = 0;
    while r0 < o {
        let r = step.min(o - r0);
        let at = span.w + r0 * i;
        let dz_blk = g.dz.subcols(r0, r);
        // da (B x I) += dz[:, blk] (B x R) * W[blk, :] (R x I)
        let accum = if r0 == 0 { Accum::Replace } else { Accum::Add };
        matmul(g.da.as_mut(), accum, dz_blk, view(&params[at..], r, i));
        // dW[blk, :] (R x I) = dz[:, blk]^T (R x B) * a (B x I)
        let gw = &mut gblock[..r * i];
        matmul(
            view_mut(gw, r, i),
            Accum::Replace,
            dz_blk.transpose(),
            g.inp,
        );
        sink.take(at, &mut params[at..at + r * i], gw);
        r0 += r;
    }
}

/// The weight gradient `dW = dz^T a` of weight rows `range` (whole
/// blocks of [`grad_block_rows`], as [`linear_backward`] takes them),
/// block by block, each handed to `sink` while in cache; `w` holds
/// those rows of the weights.
fn weight_grad_rows<S: GradSink>(
    span: &LayerSpan,
    dz: faer::MatRef<'_, f32>,
    inp: faer::MatRef<'_, f32>,
    range: std::ops::Range<usize>,
    gblock: &mut [f32],
    w: &mut [f32],
    sink: &mut S,
) {
    let (i, o) = (span.fan_in, span.fan_out);
    let step = grad_block_rows(i, o);
    let mut r0 = range.start;
    while r0 < range.end {
        let r = step.min(range.end - r0);
        let gw = &mut gblock[..r * i];
        matmul(
            view_mut(gw, r, i),
            Accum::Replace,
            dz.subcols(r0, r).transpose(),
            inp,
        );
        let k = (r0 - range.start) * i;
        sink.take(span.w + r0 * i, &mut w[k..k + r * i], gw);
        r0 += r;
    }
}

/// The first layer's input as the batch holds it: `x (B x I)`, with `I`
/// the used columns when compacted (then `grow` scatters a gradient row
/// back to all 784).
struct FirstInput<'a> {
    x: faer::MatRef<'a, f32>,
    cols: Option<&'a ActiveCols>,
    grow: &'a mut [f32],
}

/// The first layer's weight gradient `dW (O x 784) = dz^T (O x B) x (B x I)`
/// for weight rows `range` (whole blocks of [`grad_block_rows`]), block
/// of rows by block, each handed to `sink` while in cache; `w` holds
/// those rows of the weights.
fn first_layer_backward<S: GradSink>(
    span: &LayerSpan,
    dz: faer::MatRef<'_, f32>,
    input: FirstInput<'_>,
    range: std::ops::Range<usize>,
    gblock: &mut [f32],
    w: &mut [f32],
    sink: &mut S,
) {
    let (inp, i) = (input.x, input.x.ncols());
    let step = grad_block_rows(INPUTS, span.fan_out);
    let mut r0 = range.start;
    while r0 < range.end {
        let r = step.min(range.end - r0);
        let g = &mut gblock[..r * i];
        matmul(
            view_mut(g, r, i),
            Accum::Replace,
            dz.subcols(r0, r).transpose(),
            inp,
        );
        let k = (r0 - range.start) * INPUTS;
        match input.cols {
            Some(cols) => {
                for (j, g_row) in g.chunks_exact(i).enumerate() {
                    scatter_row(g_row, cols, input.grow);
                    let (at, k) = (span.w + (r0 + j) * INPUTS, k + j * INPUTS);
                    sink.take(at, &mut w[k..k + INPUTS], input.grow);
                }
            }
            None => {
                let at = span.w + r0 * INPUTS;
                sink.take(at, &mut w[k..k + r * INPUTS], g);
            }
        }
        r0 += r;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::sparse_input::GEMM_KC;
    use crate::model::{init_params, CLASSES};

    fn toy(shape: &Shape, rows: usize) -> (Vec<f32>, Workspace) {
        let params = init_params(shape, 11);
        let mut ws = Workspace::new(shape, rows);
        for (k, v) in ws.x.iter_mut().enumerate() {
            *v = ((k * 2654435761) % 1000) as f32 / 1000.0;
        }
        for (k, y) in ws.labels.iter_mut().enumerate() {
            *y = (k * 7 % 10) as u8;
        }
        (params, ws)
    }

    fn mean_loss_f64(layers: &[LayerSpan], params: &[f32], ws: &mut Workspace, rows: usize) -> f64 {
        forward(layers, params, ws, rows);
        loss_forward(layers, params, ws, rows);
        ws.loss[..rows].iter().map(|&x| x as f64).sum::<f64>() / rows as f64
    }

    /// Which hidden units are active, for every row: a finite difference
    /// is only valid when the step crosses no ReLU kink.
    fn pattern(ws: &Workspace, rows: usize, width: usize) -> Vec<bool> {
        ws.acts
            .iter()
            .flat_map(|a| a[..rows * width].iter().map(|&v| v > 0.0))
            .collect()
    }

    /// Central differences on a sample of parameters of every layer (W
    /// and b), in f32 with a step large enough to beat rounding; steps
    /// that flip a ReLU are skipped (and counted).
    #[test]
    fn gradients_match_finite_differences_in_every_layer() {
        for (depth, width, rows) in [(1, 5, 3), (3, 6, 4), (4, 3, 2)] {
            let shape = Shape::new(depth, width).unwrap();
            let layers = shape.layers();
            let (mut params, mut ws) = toy(&shape, rows);
            let mut grads = vec![0.0f32; params.len()];
            forward(&layers, &params, &mut ws, rows);
            let base = pattern(&ws, rows, width);
            backward(
                &layers,
                &mut params,
                &mut ws,
                rows,
                &mut IntoBuffer::new(&mut grads),
            );
            for span in &layers {
                let (mut checked, mut skipped) = (0, 0);
                let picks: Vec<usize> = span.w_range().step_by(31).chain(span.b_range()).collect();
                for p in picks {
                    let h = 1e-2f32;
                    let orig = params[p];
                    params[p] = orig + h;
                    let up = mean_loss_f64(&layers, &params, &mut ws, rows);
                    let kink = pattern(&ws, rows, width) != base;
                    params[p] = orig - h;
                    let down = mean_loss_f64(&layers, &params, &mut ws, rows);
                    let kink = kink || pattern(&ws, rows, width) != base;
                    params[p] = orig;
                    if kink {
                        skipped += 1;
                        continue;
                    }
                    let fd = (up - down) / (2.0 * h as f64);
                    let g = grads[p] as f64;
                    assert!(
                        (fd - g).abs() <= 2e-3 * fd.abs().max(g.abs()) + 2e-5,
                        "{depth}x{width} param {p}: fd {fd} vs grad {g}"
                    );
                    checked += 1;
                }
                assert!(
                    checked >= 3 && checked > skipped,
                    "{depth}x{width}: {checked} checked, {skipped} skipped"
                );
            }
        }
    }

    /// MNIST-like images: a blob in the middle, some pixels never used.
    fn blobs(n: usize) -> Samples {
        let mut pixels = vec![0u8; n * INPUTS];
        for (s, img) in pixels.chunks_exact_mut(INPUTS).enumerate() {
            for r in 6..22 {
                for c in (8 + s % 5)..(17 + s % 7) {
                    img[r * 28 + c] = ((r * 31 + c * 17 + s * 7) % 256) as u8;
                }
            }
        }
        Samples {
            pixels,
            labels: (0..n).map(|i| (i * 3 % 10) as u8).collect(),
        }
    }

    #[test]
    fn compaction_pays_for_wide_layers_or_many_rows() {
        // Batch 16: MNIST's ~415 used columns are compacted for 1000
        // units, not for 100; Fashion-MNIST's 650+ never.
        assert_eq!(compact_max_cols(16, 100), 395);
        assert_eq!(compact_max_cols(16, 1000), 462);
        assert!(compact_max_cols(16, 2000) < 650);
        // 64 rows and more: MNIST's 63-71% of the columns, at most the cap.
        for (rows, h) in [(64, 100), (192, 100), (256, 100), (64, 1000), (64, 50)] {
            let m = compact_max_cols(rows, h);
            assert!((600..=COMPACT_MAX_COLS).contains(&m), "{rows} x {h}: {m}");
        }
        assert_eq!(compact_max_cols(192, 1000), COMPACT_MAX_COLS);
        // Too few rows to pay at all.
        assert_eq!(compact_max_cols(4, 1000), 0);
        assert_eq!(compact_max_cols(1, 100), 0);
    }

    /// The compacted first layer gives exactly what the dense one gives,
    /// bit for bit: losses, predictions and every gradient, in the
    /// training and the evaluation forward passes (a wide layer, with
    /// used columns on both sides of the GEMM block boundary at 512).
    #[test]
    fn compact_first_layer_agrees_with_dense() {
        let shape = Shape::new(2, 40).unwrap();
        let layers = shape.layers();
        let rows = 37;
        let src = blobs(rows);
        assert!(src.pixels[..INPUTS]
            .iter()
            .enumerate()
            .any(|(k, &p)| p > 0 && k < GEMM_KC));
        assert!(src.pixels[..INPUTS]
            .iter()
            .enumerate()
            .any(|(k, &p)| p > 0 && k > GEMM_KC));
        let idx: Vec<u32> = (0..rows as u32).rev().collect();
        let mut params = init_params(&shape, 4);
        let mut results = vec![];
        for mode in [InputMode::Dense, InputMode::Compact, InputMode::Auto] {
            let mut ws = Workspace::new(&shape, rows);
            gather_input(&src, &idx, &mut ws, mode, false);
            assert_eq!(ws.compact, mode != InputMode::Dense, "{mode:?}");
            assert!(ws.x_cols() < INPUTS / 2 || mode == InputMode::Dense);
            let mut grads = vec![f32::NAN; params.len()];
            forward(&layers, &params, &mut ws, rows);
            backward(
                &layers,
                &mut params,
                &mut ws,
                rows,
                &mut IntoBuffer::new(&mut grads),
            );
            let train_loss = ws.loss[..rows].to_vec();
            forward_eval(&layers, &params, &mut ws, rows, None);
            loss_forward(&layers, &params, &mut ws, rows);
            results.push((train_loss, ws.loss[..rows].to_vec(), ws.pred.clone(), grads));
        }
        let (dense, rest) = results.split_first().unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for r in rest {
            assert_eq!(bits(&r.0), bits(&dense.0), "training loss");
            assert_eq!(bits(&r.1), bits(&dense.1), "evaluation loss");
            assert_eq!(r.2, dense.2);
            assert_eq!(bits(&r.3), bits(&dense.3), "gradient");
            // Unused columns get exactly zero gradient, as in the dense product.
            let w0 = &r.3[layers[0].w_range()];
            assert!(w0
                .chunks_exact(INPUTS)
                .all(|row| row[0] == 0.0 && row[783] == 0.0));
        }
    }

    /// Images of several kinds: MNIST-like blobs; noise with about half
    /// the pixels lit (Fashion-MNIST's density); only pixels below the
    /// GEMM block boundary; only pixels from it on; all zero.
    fn mixed(n: usize) -> Samples {
        let mut src = blobs(n);
        for (s, img) in src.pixels.chunks_exact_mut(INPUTS).enumerate() {
            match s % 5 {
                1 => img.iter_mut().enumerate().for_each(|(k, p)| {
                    *p = if (k * 2654435761 + s * 97) % 7 < 3 {
                        0
                    } else {
                        ((k + s) % 255 + 1) as u8
                    }
                }),
                2 => img[GEMM_KC..].fill(0),
                3 => img[..GEMM_KC].iter_mut().for_each(|p| *p = 0),
                4 if s % 2 == 0 => img.fill(0),
                _ => {}
            }
            if s % 5 == 3 {
                img[GEMM_KC] = 200;
                img[INPUTS - 1] = 1;
            }
        }
        src
    }

    /// Evaluation forward pass of `idx` with the first layer's input as
    /// `mode`: the first layer's activations, the logits and the losses,
    /// as bits, and whether the sparse first layer ran.
    fn eval_pass(
        shape: &Shape,
        params: &[f32],
        (src, idx): (&Samples, &[u32]),
        mode: InputMode,
    ) -> (Vec<u32>, Vec<u32>, Vec<u32>, bool) {
        let layers = shape.layers();
        let rows = idx.len();
        let mut ws = Workspace::for_eval(shape, rows);
        let mut packed = PackedFirst::new(shape.width);
        let finite = packed.pack(&params[layers[0].w_range()], shape.width);
        gather_input(src, idx, &mut ws, mode, finite);
        forward_eval(&layers, params, &mut ws, rows, finite.then_some(&packed));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let acts = bits(&ws.acts[0][..rows * shape.width]);
        let logits = bits(&ws.logits[..rows * CLASSES]);
        loss_forward(&layers, params, &mut ws, rows);
        (acts, logits, bits(&ws.loss[..rows]), ws.sparse)
    }

    /// The first layer on the non-zero pixels gives exactly the dense
    /// product's bits, for layer widths around and across the SIMD
    /// tiles (2 to 300 units), blocks of 2 to 192 rows, images on one
    /// or both sides of the GEMM block boundary and empty ones; and it
    /// runs wherever [`pixel_sparse::applies`] says it may.
    #[test]
    fn sparse_first_layer_agrees_with_dense_bit_for_bit() {
        let src = mixed(192);
        for width in [2, 10, 16, 100, 129, 300] {
            let shape = Shape::new(1, width).unwrap();
            let params = init_params(&shape, width as u64);
            for rows in [2, 3, 17, 64, 192] {
                let idx: Vec<u32> = (0..rows as u32).map(|i| (i * 7) % 192).collect();
                let dense = eval_pass(&shape, &params, (&src, &idx), InputMode::Dense);
                let sparse = eval_pass(&shape, &params, (&src, &idx), InputMode::Sparse);
                assert!(!dense.3);
                let applies = pixel_sparse::applies(rows, width, None);
                assert_eq!(sparse.3, applies, "{rows} x {width}: the sparse path ran");
                assert_eq!(sparse.0, dense.0, "{rows} x {width}: activations");
                assert_eq!(sparse.1, dense.1, "{rows} x {width}: logits");
                assert_eq!(sparse.2, dense.2, "{rows} x {width}: losses");
            }
        }
        // Small products go to faer's other kernels: not sparse.
        assert!(!pixel_sparse::applies(1, 100, None));
        assert!(!pixel_sparse::applies(8, 1, None));
    }

    /// A block whose pixels from 512 on are used at one column only:
    /// the compacted product there is faer's rank-one update, not the
    /// GEMM whose order the sparse product follows, so the sparse path
    /// stands aside and the result is the compacted product's (what
    /// `Auto` gave before).
    #[test]
    fn sparse_first_layer_stands_aside_for_a_one_column_block() {
        let shape = Shape::new(1, 100).unwrap();
        let params = init_params(&shape, 8);
        let rows = 64;
        let mut src = blobs(rows);
        for img in src.pixels.chunks_exact_mut(INPUTS) {
            img[GEMM_KC..].fill(0);
        }
        src.pixels[700] = 90; // image 0 only
        let idx: Vec<u32> = (0..rows as u32).collect();
        let mut nz = NonZeros::new(rows);
        nz.fill(&src, &idx);
        assert!(!nz.two_or_none_per_block());
        let compact = eval_pass(&shape, &params, (&src, &idx), InputMode::Compact);
        let sparse = eval_pass(&shape, &params, (&src, &idx), InputMode::Sparse);
        assert!(!sparse.3, "the sparse path ran");
        assert_eq!(sparse.0, compact.0);
        assert_eq!(sparse.2, compact.2);
        // With a second used pixel there, it runs, with the same bits.
        src.pixels[INPUTS + 701] = 7;
        nz.fill(&src, &idx);
        assert!(nz.two_or_none_per_block());
        let compact = eval_pass(&shape, &params, (&src, &idx), InputMode::Compact);
        let sparse = eval_pass(&shape, &params, (&src, &idx), InputMode::Sparse);
        assert!(sparse.3);
        assert_eq!(sparse.0, compact.0);
        assert_eq!(sparse.2, compact.2);
    }

    /// A non-finite first-layer weight (`0 * inf` is NaN in the dense
    /// product, not in a sum that skips the zero pixels): the sparse
    /// path is not taken and the results are the dense product's.
    #[test]
    fn sparse_first_layer_steps_aside_for_non_finite_weights() {
        let shape = Shape::new(1, 100).unwrap();
        let mut params = init_params(&shape, 5);
        let src = mixed(64);
        let idx: Vec<u32> = (0..64).collect();
        for bad in [f32::INFINITY, f32::NAN] {
            params[3 * INPUTS] = bad; // unit 3, pixel 0: zero in every blob
            let dense = eval_pass(&shape, &params, (&src, &idx), InputMode::Dense);
            let sparse = eval_pass(&shape, &params, (&src, &idx), InputMode::Sparse);
            assert!(!PackedFirst::new(100).pack(&params[..100 * INPUTS], 100));
            assert!(!sparse.3);
            assert_eq!(sparse.0, dense.0);
            assert_eq!(sparse.2, dense.2);
        }
    }

    #[test]
    fn byte_to_unit_is_exact_division() {
        for b in 0..=255u8 {
            assert_eq!(
                crate::kernels::byte_to_unit(b).to_bits(),
                (b as f32 / 255.0).to_bits(),
                "{b}"
            );
        }
        // And so is the dispatched, vectorised gather.
        let src = Samples {
            pixels: (0..INPUTS).map(|i| (i * 7 % 256) as u8).collect(),
            labels: vec![3],
        };
        let mut x = vec![0.0; INPUTS];
        let mut lab = [0u8];
        gather(&src, &[0], &mut x, &mut lab);
        for (d, &p) in x.iter().zip(&src.pixels) {
            assert_eq!(d.to_bits(), (p as f32 / 255.0).to_bits());
        }
        assert_eq!(lab, [3]);
    }

    #[test]
    fn evaluation_forward_agrees_with_training_forward() {
        let shape = Shape::new(3, 37).unwrap();
        let layers = shape.layers();
        let (params, mut ws) = toy(&shape, 50);
        forward(&layers, &params, &mut ws, 50);
        loss_forward(&layers, &params, &mut ws, 50);
        let (train_loss, train_pred) = (ws.loss.clone(), ws.pred.clone());
        forward_eval(&layers, &params, &mut ws, 50, None);
        loss_forward(&layers, &params, &mut ws, 50);
        assert_eq!(ws.pred, train_pred);
        for (a, b) in ws.loss.iter().zip(&train_loss) {
            assert!((a - b).abs() <= 1e-5 * b.abs().max(1e-3), "{a} vs {b}");
        }
    }

    #[test]
    fn forward_rows_do_not_depend_on_batch_size() {
        let shape = Shape::new(2, 40).unwrap();
        let layers = shape.layers();
        let (params, mut ws) = toy(&shape, 300);
        forward(&layers, &params, &mut ws, 300);
        loss_forward(&layers, &params, &mut ws, 300);
        let all = ws.loss.clone();
        forward(&layers, &params, &mut ws, 7);
        loss_forward(&layers, &params, &mut ws, 7);
        assert_eq!(&all[..7], &ws.loss[..7]);
    }
}
