//! The MLP: `784 -> L hidden ReLU layers of width h -> 10`, with every
//! parameter in one contiguous buffer.
//!
//! Layer `l` (`0..=L`, layer `L` being the output layer) stores its
//! weight `W_l (O x I)` row-major, then its bias `b_l (O)`, exactly as
//! PyTorch's `nn.Linear` does; the layers follow each other in order.

use crate::error::{Error, Result};
use crate::rng::{self, Purpose};

/// Pixels per image (28 x 28).
pub(crate) const INPUTS: usize = 784;
/// Classes.
pub const CLASSES: usize = 10;

/// The architecture: `depth` hidden layers of `width` units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    /// Hidden layers (`L >= 1`).
    pub depth: usize,
    /// Units per hidden layer (`h >= 1`).
    pub width: usize,
}

/// Where one layer lives in the parameter buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerSpan {
    /// Fan-in `I`.
    pub fan_in: usize,
    /// Fan-out `O`.
    pub fan_out: usize,
    /// Offset of `W (O x I)`.
    pub w: usize,
    /// Offset of `b (O)`.
    pub b: usize,
}

impl LayerSpan {
    /// The range of this layer's weights.
    pub fn w_range(&self) -> std::ops::Range<usize> {
        self.w..self.w + self.fan_in * self.fan_out
    }
    /// The range of this layer's biases.
    pub fn b_range(&self) -> std::ops::Range<usize> {
        self.b..self.b + self.fan_out
    }
}

impl Shape {
    /// Checks `depth >= 1` and `width >= 1`.
    pub fn new(depth: usize, width: usize) -> Result<Self> {
        if depth == 0 {
            return Err(Error::usage("--depth must be at least 1"));
        }
        if width == 0 {
            return Err(Error::usage("--width must be at least 1"));
        }
        Ok(Shape { depth, width })
    }

    /// The `depth + 1` layers, in order.
    pub fn layers(&self) -> Vec<LayerSpan> {
        let mut off = 0;
        (0..=self.depth)
            .map(|l| {
                let fan_in = if l == 0 { INPUTS } else { self.width };
                let fan_out = if l == self.depth { CLASSES } else { self.width };
                let span = LayerSpan {
                    fan_in,
                    fan_out,
                    w: off,
                    b: off + fan_in * fan_out,
                };
                off += fan_in * fan_out + fan_out;
                span
            })
            .collect()
    }

    /// Total parameter count.
    pub fn n_params(&self) -> usize {
        self.layers().last().map(|l| l.b + l.fan_out).unwrap_or(0)
    }

    /// Multiply-adds of one forward pass of one sample.
    pub(crate) fn forward_macs(&self) -> usize {
        self.layers().iter().map(|l| l.fan_in * l.fan_out).sum()
    }

    /// FLOPs of one training step per sample: forward, weight gradients,
    /// and input gradients of every layer but the first.
    pub fn train_flops_per_sample(&self) -> usize {
        let layers = self.layers();
        let fwd = self.forward_macs();
        let dx: usize = layers[1..].iter().map(|l| l.fan_in * l.fan_out).sum();
        2 * (2 * fwd + dx)
    }

    /// `"3x100"`.
    pub fn label(&self) -> String {
        format!("{}x{}", self.depth, self.width)
    }
}

/// PyTorch's default `nn.Linear` initialisation, drawn layer by layer
/// (weights then bias) from the `Init` stream of `seed`:
/// kaiming-uniform with `a = sqrt(5)` gives `W ~ U(+-1/sqrt(I))`, and the
/// bias is `U(+-1/sqrt(I))` too.
pub fn init_params(shape: &Shape, seed: u64) -> Vec<f32> {
    let mut params = vec![0.0f32; shape.n_params()];
    let mut rng = rng::stream(seed, Purpose::Init, 0);
    for l in shape.layers() {
        let bound = 1.0 / (l.fan_in as f32).sqrt();
        for p in &mut params[l.w_range()] {
            *p = rng.uniform_f32(-bound, bound);
        }
        for p in &mut params[l.b_range()] {
            *p = rng.uniform_f32(-bound, bound);
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_contiguous_and_counts_match_pytorch() {
        let s = Shape::new(3, 100).unwrap();
        // nn.Sequential(Linear(784,100), ..., Linear(100,10)) has 99,710.
        assert_eq!(
            s.n_params(),
            784 * 100 + 100 + 2 * (100 * 100 + 100) + 100 * 10 + 10
        );
        let ls = s.layers();
        assert_eq!(ls.len(), 4);
        for w in ls.windows(2) {
            assert_eq!(w[0].b + w[0].fan_out, w[1].w);
        }
        assert!(Shape::new(0, 5).is_err() && Shape::new(1, 0).is_err());
    }

    #[test]
    fn init_is_seeded_and_within_bounds() {
        let s = Shape::new(2, 7).unwrap();
        let a = init_params(&s, 5);
        assert_eq!(a, init_params(&s, 5));
        assert_ne!(a, init_params(&s, 6));
        for l in s.layers() {
            let bound = 1.0 / (l.fan_in as f32).sqrt();
            let w = &a[l.w_range()];
            assert!(w.iter().all(|x| x.abs() <= bound));
            // The spread uses the whole range: max |w| near the bound.
            let m = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(m > 0.9 * bound);
        }
    }
}
