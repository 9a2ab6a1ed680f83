//! Forward and backward passes of the MLP over a batch of rows, side by
//! side, on buffers allocated once per model (or per worker).
//!
//! Shapes: `B` rows, hidden width `h`, `L` hidden layers, `C` classes.
//! `acts[l]` is layer `l`'s post-ReLU output (`B x h`); `logits` is the
//! output layer's `A W^T` (`B x C`), its bias added by the fused loss.

use faer::Accum;

use crate::data::Samples;
use crate::kernels::bias_relu::{bias_relu_backward, bias_relu_forward};
use crate::kernels::matmul::{matmul, view, view_mut};
use crate::kernels::softmax_xent::{softmax_xent_forward, softmax_xent_forward_backward, BlockOut};
use crate::model::{LayerSpan, Shape, CLASSES, INPUTS};

/// Rows per forward block: a block of the input and output of a layer
/// fits in half of a 2 MiB L2, so bias + ReLU run on it while it is hot.
pub fn block_rows(fan_in: usize, fan_out: usize) -> usize {
    const BUDGET: usize = 1 << 20;
    (BUDGET / (4 * (fan_in + fan_out))).clamp(16, 1024) / 16 * 16
}

/// Every buffer one forward + backward pass of up to `rows` rows needs.
pub struct Workspace {
    /// Capacity in rows.
    pub rows: usize,
    /// Gathered inputs, `B x 784`, pixels / 255.
    pub x: Vec<f32>,
    /// Gathered labels, `B`.
    pub labels: Vec<u8>,
    /// Hidden activations, `L` buffers of `B x h`.
    pub acts: Vec<Vec<f32>>,
    /// Output-layer pre-activations (then `exp(z - m)`), `B x C`.
    pub logits: Vec<f32>,
    /// Gradient of the loss w.r.t. the logits, `B x C`.
    pub dlogits: Vec<f32>,
    /// Ping-pong gradients w.r.t. hidden activations, `2 x (B x h)`.
    pub da: [Vec<f32>; 2],
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
            acts: (0..shape.depth).map(|_| vec![0.0; bh]).collect(),
            logits: vec![0.0; rows * CLASSES],
            dlogits: vec![0.0; rows * CLASSES],
            da: [vec![0.0; bh], vec![0.0; bh]],
            loss: vec![0.0; rows],
            pred: vec![0; rows],
        }
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
                    *d = byte_to_unit(p);
                }
                *lab = src.labels[i];
            }
        }
    }
    pulp::Arch::new().dispatch(Op(src, idx, x, labels));
}

/// `b / 255`, rounded exactly as IEEE division rounds it, from one
/// multiply and two fused multiply-adds (the quotient, then its
/// remainder's correction), which vectorise far cheaper than division.
/// A test checks all 256 bytes.
#[inline(always)]
pub fn byte_to_unit(b: u8) -> f32 {
    const R: f32 = 1.0 / 255.0;
    let x = b as f32;
    let q = x * R;
    let e = (-q).mul_add(255.0, x);
    e.mul_add(R, q)
}

/// `out (B x O) = relu(inp (B x I) W^T + b)`, block by block so that
/// bias + ReLU touch each block while it is still in cache.
fn linear_relu_forward(
    out: &mut [f32],
    inp: &[f32],
    w: &[f32],
    b: &[f32],
    rows: usize,
    l: &LayerSpan,
) {
    let (i, o) = (l.fan_in, l.fan_out);
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

/// Forward pass of the first `rows` rows of `ws.x`: fills `ws.acts` and
/// `ws.logits` (without the output bias, which the fused loss adds).
pub fn forward(layers: &[LayerSpan], params: &[f32], ws: &mut Workspace, rows: usize) {
    let depth = layers.len() - 1;
    for (l, span) in layers[..depth].iter().enumerate() {
        let (before, rest) = ws.acts.split_at_mut(l);
        let inp: &[f32] = if l == 0 { &ws.x } else { &before[l - 1] };
        linear_relu_forward(
            &mut rest[0],
            inp,
            &params[span.w_range()],
            &params[span.b_range()],
            rows,
            span,
        );
    }
    let out = &layers[depth];
    let (i, o) = (out.fan_in, out.fan_out);
    matmul(
        view_mut(&mut ws.logits, rows, o),
        Accum::Replace,
        view(&ws.acts[depth - 1], rows, i),
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
pub fn forward_eval(layers: &[LayerSpan], params: &[f32], ws: &mut Workspace, rows: usize) {
    let depth = layers.len() - 1;
    for (l, span) in layers[..depth].iter().enumerate() {
        let (i, o) = (span.fan_in, span.fan_out);
        let (before, rest) = ws.acts.split_at_mut(l);
        let out = &mut rest[0][..rows * o];
        let w = view(&params[span.w_range()], o, i).transpose();
        let dst = faer::MatMut::from_column_major_slice_mut(out, rows, o);
        if l == 0 {
            matmul(dst, Accum::Replace, view(&ws.x, rows, i), w);
        } else {
            let inp = faer::MatRef::from_column_major_slice(&before[l - 1][..rows * i], rows, i);
            matmul(dst, Accum::Replace, inp, w);
        }
        bias_relu_forward_feature_major(out, &params[span.b_range()]);
    }
    let out = &layers[depth];
    let (i, o) = (out.fan_in, out.fan_out);
    matmul(
        view_mut(&mut ws.logits, rows, o),
        Accum::Replace,
        faer::MatRef::from_column_major_slice(&ws.acts[depth - 1][..rows * i], rows, i),
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

/// Backward pass of the mean loss over the first `rows` rows, after
/// [`forward`]: loss, predictions, and every gradient into `grads`.
pub fn backward(
    layers: &[LayerSpan],
    params: &[f32],
    grads: &mut [f32],
    ws: &mut Workspace,
    rows: usize,
) {
    let depth = layers.len() - 1;
    let out = &layers[depth];
    // dL/dlogits and the output bias gradient, fused with the loss.
    softmax_xent_forward_backward(
        &mut ws.logits[..rows * CLASSES],
        &params[out.b_range()],
        &ws.labels[..rows],
        1.0 / rows as f32,
        &mut ws.dlogits[..rows * CLASSES],
        &mut grads[out.b_range()],
        BlockOut {
            loss: &mut ws.loss[..rows],
            pred: &mut ws.pred[..rows],
        },
    );
    // Walk the layers backwards; `cur` holds dL/dz of layer l (B x O).
    let mut cur = 0usize; // index into ws.da, unused for the output layer
    for l in (0..=depth).rev() {
        let span = &layers[l];
        let (i, o) = (span.fan_in, span.fan_out);
        let dz: &[f32] = if l == depth { &ws.dlogits } else { &ws.da[cur] };
        let inp: &[f32] = if l == 0 { &ws.x } else { &ws.acts[l - 1] };
        // dW (O x I) = dz^T (O x B) * inp (B x I)
        matmul(
            view_mut(&mut grads[span.w_range()], o, i),
            Accum::Replace,
            view(dz, rows, o).transpose(),
            view(inp, rows, i),
        );
        if l == 0 {
            break;
        }
        // da (B x I) = dz (B x O) * W (O x I), then through the ReLU of
        // layer l-1, accumulating that layer's bias gradient.
        let next = if l == depth { 0 } else { 1 - cur };
        let (d0, d1) = ws.da.split_at_mut(1);
        let (dz, da): (&[f32], &mut [f32]) = match (l == depth, next) {
            (true, 0) => (&ws.dlogits, &mut d0[0]),
            (false, 0) => (&d1[0], &mut d0[0]),
            (false, _) => (&d0[0], &mut d1[0]),
            (true, _) => unreachable!(),
        };
        matmul(
            view_mut(da, rows, i),
            Accum::Replace,
            view(dz, rows, o),
            view(&params[span.w_range()], o, i),
        );
        let prev = &layers[l - 1];
        bias_relu_backward(
            &mut da[..rows * i],
            &ws.acts[l - 1][..rows * i],
            &mut grads[prev.b_range()],
        );
        cur = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::init_params;

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
            backward(&layers, &params, &mut grads, &mut ws, rows);
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

    #[test]
    fn byte_to_unit_is_exact_division() {
        for b in 0..=255u8 {
            assert_eq!(
                byte_to_unit(b).to_bits(),
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
        forward_eval(&layers, &params, &mut ws, 50);
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
