//! SGD (with optional momentum) and Adam, each one fused pass over the
//! parameter buffer, with exactly PyTorch's arithmetic
//! (`torch.optim.SGD`, `torch.optim.Adam`, single-tensor path,
//! no weight decay, no dampening, no Nesterov, no amsgrad).

use pulp::{Simd, WithSimd};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// Which optimiser, with its hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerKind {
    /// `torch.optim.SGD(lr, momentum)`.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum (0 = plain SGD).
        momentum: f64,
    },
    /// `torch.optim.Adam(lr, betas, eps)`.
    Adam {
        /// Learning rate.
        lr: f64,
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Added to the bias-corrected `sqrt(v)`.
        eps: f64,
    },
}

impl OptimizerKind {
    /// `"adam"` or `"sgd"`.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerKind::Sgd { .. } => "sgd",
            OptimizerKind::Adam { .. } => "adam",
        }
    }
    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerKind::Sgd { lr, .. } | OptimizerKind::Adam { lr, .. } => lr,
        }
    }
}

/// An optimiser's state, borrowed ([`Optimizer::state`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OptState<'a> {
    /// SGD momentum buffer, or Adam's first moment (empty for plain SGD).
    pub m: &'a [f32],
    /// Adam's second moment (empty for SGD).
    pub v: &'a [f32],
    /// Updates taken so far.
    pub step: u64,
}

/// An optimiser with its state, allocated once for `n` parameters.
pub struct Optimizer {
    kind: OptimizerKind,
    /// Updates taken so far (PyTorch's `state["step"]`).
    pub step: u64,
    /// SGD momentum buffer, or Adam's first moment `m`.
    pub m: Vec<f32>,
    /// Adam's second moment `v` (empty for SGD).
    pub v: Vec<f32>,
}

impl Optimizer {
    /// Zeroed state for `n` parameters.
    pub fn new(kind: OptimizerKind, n: usize) -> Self {
        let (m, v) = match kind {
            OptimizerKind::Sgd { momentum: 0.0, .. } => (vec![], vec![]),
            OptimizerKind::Sgd { .. } => (vec![0.0; n], vec![]),
            OptimizerKind::Adam { .. } => (vec![0.0; n], vec![0.0; n]),
        };
        Optimizer {
            kind,
            step: 0,
            m,
            v,
        }
    }

    /// The hyperparameters.
    pub fn kind(&self) -> OptimizerKind {
        self.kind
    }

    /// The state to save for resuming: what [`Optimizer::restore`] takes
    /// back.
    pub(crate) fn state(&self) -> OptState<'_> {
        OptState {
            m: &self.m,
            v: &self.v,
            step: self.step,
        }
    }

    /// Takes up a saved state: the moment buffers `m` and `v` and the
    /// step count. A buffer this optimiser does not keep (plain SGD's
    /// `m`, SGD's `v`) is ignored; one it keeps must have its length, or
    /// nothing changes and a data error says which.
    pub(crate) fn restore(&mut self, m: &[f32], v: &[f32], step: u64) -> Result<()> {
        for (name, mine, saved) in [("first moment", &self.m, m), ("second moment", &self.v, v)] {
            if !mine.is_empty() && mine.len() != saved.len() {
                return Err(Error::new(
                    ErrorKind::Data,
                    format!(
                        "its saved optimiser {name} holds {} values where {} are needed",
                        saved.len(),
                        mine.len()
                    ),
                ));
            }
        }
        if !self.m.is_empty() {
            self.m.copy_from_slice(m);
        }
        if !self.v.is_empty() {
            self.v.copy_from_slice(v);
        }
        self.step = step;
        Ok(())
    }

    /// One update of `params` from `grads` ([`Optimizer::begin_step`]
    /// then [`Optimizer::apply`] on the whole buffer).
    pub fn update(&mut self, params: &mut [f32], grads: &[f32]) {
        let rule = self.begin_step();
        self.apply(&rule, 0, params, grads);
    }

    /// Starts an update: counts the step and returns its scalars, to be
    /// applied block by block (in any order, each element once) while
    /// each block's gradient is still in cache.
    pub(crate) fn begin_step(&mut self) -> StepRule {
        self.step += 1;
        match self.kind {
            OptimizerKind::Sgd { lr, momentum: 0.0 } => StepRule::Sgd { lr: lr as f32 },
            OptimizerKind::Sgd { lr, momentum } => StepRule::SgdMomentum {
                lr: lr as f32,
                momentum: momentum as f32,
                first: self.step == 1,
            },
            OptimizerKind::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => StepRule::Adam(AdamConsts::new(lr, beta1, beta2, eps, self.step)),
        }
    }

    /// Applies `rule` to `params`, the parameters at offset `at` of the
    /// whole buffer, from their gradient `grads` (same length): exactly
    /// the arithmetic of [`Optimizer::update`] on those elements.
    pub fn apply(&mut self, rule: &StepRule, at: usize, params: &mut [f32], grads: &[f32]) {
        let n = params.len();
        let m = state_slice(&mut self.m, at, n);
        let v = state_slice(&mut self.v, at, n);
        rule.apply(params, grads, m, v);
    }
}

/// Elements `at..at + n` of a state buffer, or the empty buffer as it
/// is (an optimiser that keeps no such state).
fn state_slice(s: &mut [f32], at: usize, n: usize) -> &mut [f32] {
    if s.is_empty() {
        s
    } else {
        &mut s[at..at + n]
    }
}

/// A state buffer cut before element `k` (an empty one stays empty on
/// both sides).
fn split_state(s: &mut [f32], k: usize) -> (&mut [f32], &mut [f32]) {
    if s.is_empty() {
        (s, &mut [])
    } else {
        s.split_at_mut(k)
    }
}

/// One update, applied block by block to the parameters from offset
/// `at` on, with the optimiser state of those parameters (see
/// [`Optimizer::begin_update`]). Cut into parts
/// ([`StepUpdate::split_off`]), it is applied on several threads at
/// once, each part to its own parameters.
pub(crate) struct StepUpdate<'a> {
    rule: StepRule,
    /// The parameter offset of `m[0]` and `v[0]`.
    at: usize,
    m: &'a mut [f32],
    v: &'a mut [f32],
}

impl Optimizer {
    /// Starts an update ([`Optimizer::begin_step`]) of the whole
    /// parameter buffer, to be applied block by block (in any order,
    /// each element once).
    pub(crate) fn begin_update(&mut self) -> StepUpdate<'_> {
        let rule = self.begin_step();
        StepUpdate {
            rule,
            at: 0,
            m: &mut self.m,
            v: &mut self.v,
        }
    }
}

impl StepUpdate<'_> {
    /// Applies the update to `params`, the parameters at offset `at` of
    /// the whole buffer, from their gradient `grads`: exactly the
    /// arithmetic of [`Optimizer::update`] on those elements.
    pub fn apply(&mut self, at: usize, params: &mut [f32], grads: &[f32]) {
        let (k, n) = (at - self.at, params.len());
        let m = state_slice(self.m, k, n);
        let v = state_slice(self.v, k, n);
        self.rule.apply(params, grads, m, v);
    }

    /// Cuts the update at parameter `at`: this one keeps the parameters
    /// before `at`, the one returned takes those from `at` on.
    pub(crate) fn split_off(&mut self, at: usize) -> Self {
        let k = at - self.at;
        let (m, m_tail) = split_state(std::mem::take(&mut self.m), k);
        let (v, v_tail) = split_state(std::mem::take(&mut self.v), k);
        (self.m, self.v) = (m, v);
        StepUpdate {
            rule: self.rule,
            at,
            m: m_tail,
            v: v_tail,
        }
    }
}

impl StepRule {
    /// Applies the rule to `params` from their gradient `grads`, with
    /// their slices `m` and `v` of the optimiser state (same length, or
    /// empty where the optimiser keeps none): exactly the arithmetic of
    /// [`Optimizer::update`] on those elements. Blocks of one step may
    /// be applied on different threads, each with its own slices.
    pub fn apply(&self, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
        debug_assert_eq!(grads.len(), params.len());
        match *self {
            StepRule::Sgd { lr } => sgd_update(params, grads, lr),
            StepRule::SgdMomentum {
                lr,
                momentum,
                first,
            } => {
                assert_eq!(m.len(), params.len(), "momentum buffer");
                sgd_momentum_update(params, grads, m, lr, momentum, first)
            }
            StepRule::Adam(ref c) => adam_update(params, grads, m, v, c),
        }
    }
}

/// The scalars of one optimiser step (see [`Optimizer::begin_step`]).
#[derive(Clone, Copy, Debug)]
pub enum StepRule {
    /// Plain SGD.
    Sgd {
        /// Learning rate.
        lr: f32,
    },
    /// SGD with momentum.
    SgdMomentum {
        /// Learning rate.
        lr: f32,
        /// Momentum.
        momentum: f32,
        /// The first step (the buffer takes the gradient as it is).
        first: bool,
    },
    /// Adam.
    Adam(AdamConsts),
}

/// `p -= lr * g` (`p.add_(g, alpha=-lr)`).
pub fn sgd_update(params: &mut [f32], grads: &[f32], lr: f32) {
    for (p, &g) in params.iter_mut().zip(grads) {
        *p += -lr * g;
    }
}

/// `buf = g` on the first step, else `buf = momentum * buf + g`; then
/// `p -= lr * buf`.
pub fn sgd_momentum_update(
    params: &mut [f32],
    grads: &[f32],
    buf: &mut [f32],
    lr: f32,
    momentum: f32,
    first: bool,
) {
    for ((p, &g), b) in params.iter_mut().zip(grads).zip(buf.iter_mut()) {
        let nb = if first { g } else { *b * momentum + g };
        *b = nb;
        *p += -lr * nb;
    }
}

/// Adam's per-step scalars, computed in f64 as PyTorch does in Python,
/// then rounded to f32 where PyTorch hands them to an f32 kernel.
#[derive(Clone, Copy, Debug)]
pub struct AdamConsts {
    /// `1 - beta1`, the `lerp` weight of `m`.
    pub w1: f32,
    /// `beta2`.
    pub beta2: f32,
    /// `1 - beta2`.
    pub w2: f32,
    /// `lr / (1 - beta1^t)`.
    pub step_size: f32,
    /// `sqrt(1 - beta2^t)`.
    pub bc2_sqrt: f32,
    /// `eps`.
    pub eps: f32,
}

impl AdamConsts {
    /// The scalars of step `t` (1-based).
    pub fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, t: u64) -> Self {
        let bc1 = 1.0 - beta1.powi(t as i32);
        let bc2 = 1.0 - beta2.powi(t as i32);
        AdamConsts {
            w1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            w2: (1.0 - beta2) as f32,
            step_size: (lr / bc1) as f32,
            bc2_sqrt: bc2.sqrt() as f32,
            eps: eps as f32,
        }
    }
}

/// `m.lerp_(g, 1-b1)`; `v = v*b2 + (1-b2) g g`;
/// `p -= step_size * m / (sqrt(v)/sqrt(bc2) + eps)`. Explicit SIMD
/// (pulp): portable builds would otherwise run `sqrt` and `/` on SSE,
/// four lanes at a time. Same operations and order as the scalar tail
/// (no FMA contraction), so every lane rounds as PyTorch's loop does.
///
/// The square root and the two divisions share one slow divider unit,
/// and they, not memory, bound this loop. The division by the step's
/// constant `sqrt(bc2)` is therefore taken without the divider
/// ([`div_by_const`]), with a proof of each lane's rounding and the
/// true division wherever a proof fails: bit-identical, about 1.4x
/// faster.
pub fn adam_update(
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    c: &AdamConsts,
) {
    struct Op<'a>(
        &'a mut [f32],
        &'a [f32],
        &'a mut [f32],
        &'a mut [f32],
        &'a AdamConsts,
    );
    impl WithSimd for Op<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, s: S) {
            let Op(p, g, m, v, c) = self;
            let n = p.len();
            let (ph, pt) = S::as_mut_simd_f32s(p);
            let (gh, gt) = S::as_simd_f32s(&g[..n]);
            let (mh, mt) = S::as_mut_simd_f32s(&mut m[..n]);
            let (vh, vt) = S::as_mut_simd_f32s(&mut v[..n]);
            let (w1, b2, w2) = (
                s.splat_f32s(c.w1),
                s.splat_f32s(c.beta2),
                s.splat_f32s(c.w2),
            );
            let (eps, step) = (s.splat_f32s(c.eps), s.splat_f32s(-c.step_size));
            let by_bc2 = ByConst::new(s, c.bc2_sqrt);
            for (((p, &g), m), v) in ph.iter_mut().zip(gh).zip(mh.iter_mut()).zip(vh.iter_mut()) {
                let mi = s.add_f32s(*m, s.mul_f32s(w1, s.sub_f32s(g, *m)));
                let vi = s.add_f32s(s.mul_f32s(*v, b2), s.mul_f32s(w2, s.mul_f32s(g, g)));
                *m = mi;
                *v = vi;
                let denom = s.add_f32s(div_by_const(s, s.sqrt_f32s(vi), &by_bc2), eps);
                *p = s.add_f32s(*p, s.mul_f32s(step, s.div_f32s(mi, denom)));
            }
            adam_scalar(pt, gt, mt, vt, c);
        }
    }
    crate::kernels::arch().dispatch(Op(params, grads, m, v, c));
}

/// A divisor `c` (positive, normal) with what [`div_by_const`] needs.
struct ByConst<S: Simd> {
    /// `c`.
    c: S::f32s,
    /// `-c`.
    neg_c: S::f32s,
    /// `RN(1 / c)`.
    recip: S::f32s,
}

impl<S: Simd> ByConst<S> {
    #[inline(always)]
    fn new(s: S, c: f32) -> Self {
        ByConst {
            c: s.splat_f32s(c),
            neg_c: s.splat_f32s(-c),
            recip: s.splat_f32s(1.0 / c),
        }
    }
}

/// `x / c`, rounded to nearest exactly as IEEE division rounds it, for
/// `x >= 0`, without the divider where it can be proved.
///
/// The candidate `q = q0 + (x - q0 c) / c`, both steps by fused
/// multiply-add with `RN(1/c)` (Markstein's correction; `x - q0 c` is
/// exact). Then `q` is proved the correctly rounded quotient when the
/// exact remainder `e = x - q c` (one more FMA) is below half an ulp of
/// `q`'s lower neighbour, times `c`: that product is exact (a power of
/// two times `c`), and a quotient of two floats is never a tie, so the
/// test is strict. Any lane it cannot prove (none in practice; also
/// `x = inf`, whose remainder is NaN) sends the whole vector through
/// the divider. Tests compare it with `/` bit for bit.
#[inline(always)]
fn div_by_const<S: Simd>(s: S, x: S::f32s, k: &ByConst<S>) -> S::f32s {
    let q0 = s.mul_f32s(x, k.recip);
    let q = s.mul_add_f32s(s.mul_add_f32s(q0, k.neg_c, x), k.recip, q0);
    let e = s.mul_add_f32s(q, k.neg_c, x);
    // Half an ulp of the float below q: its exponent field less 24.
    let below = s.sub_u32s(s.transmute_u32s_f32s(q), s.splat_u32s(1));
    let exp = s.and_u32s(below, s.splat_u32s(0x7f80_0000));
    let half_ulp = s.transmute_f32s_u32s(s.sub_u32s(exp, s.splat_u32s(24 << 23)));
    let proved = s.less_than_f32s(s.abs_f32s(e), s.mul_f32s(half_ulp, k.c));
    let all = s.first_true_m32s(s.not_m32s(proved)) == S::F32_LANES;
    if all {
        q
    } else {
        s.div_f32s(x, k.c)
    }
}

/// The scalar loop of [`adam_update`] (also its tail).
#[inline(always)]
fn adam_scalar(params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32], c: &AdamConsts) {
    for (((p, &g), m), v) in params
        .iter_mut()
        .zip(grads)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
    {
        let mi = *m + c.w1 * (g - *m);
        let vi = *v * c.beta2 + c.w2 * (g * g);
        *m = mi;
        *v = vi;
        let denom = vi.sqrt() / c.bc2_sqrt + c.eps;
        *p += -c.step_size * (mi / denom);
    }
}

/// Scalar twin of [`adam_update`] in f64, for tests: step `t` (1-based)
/// of `adam` (an [`OptimizerKind::Adam`]; other kinds leave everything
/// as it is).
pub fn adam_update_ref(
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    adam: OptimizerKind,
    t: u64,
) {
    let OptimizerKind::Adam {
        lr,
        beta1: b1,
        beta2: b2,
        eps,
    } = adam
    else {
        return;
    };
    for i in 0..params.len() {
        let g = grads[i] as f64;
        let mi = b1 * m[i] as f64 + (1.0 - b1) * g;
        let vi = b2 * v[i] as f64 + (1.0 - b2) * g * g;
        let mhat = mi / (1.0 - b1.powi(t as i32));
        let vhat = vi / (1.0 - b2.powi(t as i32));
        params[i] = (params[i] as f64 - lr * mhat / (vhat.sqrt() + eps)) as f32;
        m[i] = mi as f32;
        v[i] = vi as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_takes_back_what_state_gives() {
        let n = 5;
        let adam = OptimizerKind::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let mut a = Optimizer::new(adam, n);
        let mut p = vec![0.5f32; n];
        a.update(&mut p, &[0.1, -0.2, 0.3, -0.4, 0.5]);
        a.update(&mut p, &[0.2, 0.1, -0.3, 0.0, 0.5]);
        let mut b = Optimizer::new(adam, n);
        let s = a.state();
        b.restore(s.m, s.v, s.step).unwrap();
        assert_eq!((b.m.as_slice(), b.v.as_slice(), b.step), (s.m, s.v, 2));
        // A saved buffer of the wrong length is an error, and nothing changes.
        let mut c = Optimizer::new(adam, n);
        let e = c.restore(&a.m[..n - 1], &a.v, 7).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Data);
        assert!(e
            .to_string()
            .contains("first moment holds 4 values where 5"));
        assert_eq!((c.step, c.m.iter().all(|&x| x == 0.0)), (0, true));
        // Plain SGD keeps no moments: whatever the file holds is ignored.
        let sgd = OptimizerKind::Sgd {
            lr: 0.1,
            momentum: 0.0,
        };
        let mut d = Optimizer::new(sgd, n);
        d.restore(&[0.0; 5], &[0.0; 5], 3).unwrap();
        assert_eq!((d.m.len(), d.v.len(), d.step), (0, 0, 3));
    }

    #[test]
    fn adam_matches_the_textbook_formula() {
        let n = 1000;
        let mut p: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut p_ref = p.clone();
        let mut opt = Optimizer::new(
            OptimizerKind::Adam {
                lr: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            n,
        );
        let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
        for t in 1..=5u64 {
            let g: Vec<f32> = (0..n)
                .map(|i| ((i as u64 * 7 + t) as f32 * 0.11).cos() * 1e-2)
                .collect();
            opt.update(&mut p, &g);
            let adam = OptimizerKind::Adam {
                lr: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            };
            adam_update_ref(&mut p_ref, &g, &mut m, &mut v, adam, t);
        }
        for (a, b) in p.iter().zip(&p_ref) {
            assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
        }
        // The first Adam step moves every parameter by about lr.
        let moved = p
            .iter()
            .zip((0..n).map(|i| (i as f32 * 0.37).sin()))
            .map(|(a, b)| (a - b).abs());
        assert!(moved.fold(0.0f32, f32::max) > 4e-3);
    }

    #[test]
    fn block_by_block_apply_is_the_whole_update_bit_for_bit() {
        let n = 1003;
        let kinds = [
            OptimizerKind::Adam {
                lr: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            OptimizerKind::Sgd {
                lr: 0.1,
                momentum: 0.9,
            },
            OptimizerKind::Sgd {
                lr: 0.1,
                momentum: 0.0,
            },
        ];
        for kind in kinds {
            let mut p: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut q = p.clone();
            let (mut whole, mut blocks) = (Optimizer::new(kind, n), Optimizer::new(kind, n));
            for t in 1..=3u64 {
                let g: Vec<f32> = (0..n)
                    .map(|i| ((i as u64 * 7 + t) as f32 * 0.11).cos() * 1e-2)
                    .collect();
                whole.update(&mut p, &g);
                let rule = blocks.begin_step();
                // Out of order, uneven blocks.
                for (a, b) in [(500, 1003), (0, 17), (17, 500)] {
                    blocks.apply(&rule, a, &mut q[a..b], &g[a..b]);
                }
            }
            assert_eq!(p, q, "{kind:?}");
            assert_eq!(
                (whole.m, whole.v, whole.step),
                (blocks.m, blocks.v, blocks.step)
            );
        }
    }

    #[test]
    fn sgd_momentum_first_step_is_plain_sgd() {
        let mut a = vec![1.0f32, -2.0];
        let mut b = a.clone();
        let g = [0.5f32, 0.25];
        Optimizer::new(
            OptimizerKind::Sgd {
                lr: 0.1,
                momentum: 0.9,
            },
            2,
        )
        .update(&mut a, &g);
        Optimizer::new(
            OptimizerKind::Sgd {
                lr: 0.1,
                momentum: 0.0,
            },
            2,
        )
        .update(&mut b, &g);
        assert_eq!(a, b);
        let mut opt = Optimizer::new(
            OptimizerKind::Sgd {
                lr: 0.1,
                momentum: 0.9,
            },
            2,
        );
        let mut p = vec![0.0f32; 2];
        opt.update(&mut p, &g);
        opt.update(&mut p, &g);
        // buf = 0.9*0.5 + 0.5 = 0.95; p = -0.05 - 0.095.
        assert!((p[0] + 0.145).abs() < 1e-7);
    }

    /// [`div_by_const`] on a slice, through the kernels' SIMD path.
    fn divide_all(x: &[f32], c: f32) -> Vec<f32> {
        struct Op<'a>(&'a [f32], f32, Vec<f32>);
        impl WithSimd for Op<'_> {
            type Output = Vec<f32>;
            #[inline(always)]
            fn with_simd<S: Simd>(self, s: S) -> Vec<f32> {
                let Op(x, c, mut out) = self;
                let k = ByConst::new(s, c);
                let (xh, _) = S::as_simd_f32s(x);
                let (oh, _) = S::as_mut_simd_f32s(&mut out);
                for (o, &x) in oh.iter_mut().zip(xh) {
                    *o = div_by_const(s, x, &k);
                }
                out
            }
        }
        crate::kernels::arch().dispatch(Op(x, c, vec![0.0; x.len()]))
    }

    #[test]
    fn division_by_a_constant_rounds_as_division_for_every_mantissa() {
        // A quotient's rounding depends on x's mantissa only (x / c for
        // c in (0, 1] never under- or overflows here), so one binade of
        // x covers every normal x. The divisors: Adam's sqrt(bc2) over
        // the steps where it is below 1, for two beta2s, and awkward
        // mantissas.
        let x: Vec<f32> = (0x3f80_0000u32..0x4000_0000).map(f32::from_bits).collect();
        let mut divisors: Vec<f32> = [1u64, 2, 3, 7, 10, 100, 1000, 5000, 12_000]
            .iter()
            .flat_map(|&t| {
                [0.999f64, 0.99].map(|b2| AdamConsts::new(1e-3, 0.9, b2, 1e-8, t).bc2_sqrt)
            })
            .collect();
        divisors.extend([
            1.0,
            0.5,
            f32::from_bits(0x3f7f_ffff),
            f32::from_bits(0x3f00_0001),
        ]);
        for c in divisors {
            let q = divide_all(&x, c);
            for (&x, &q) in x.iter().zip(&q) {
                assert_eq!(q.to_bits(), (x / c).to_bits(), "{x:e} / {c:e}");
            }
        }
        // Zero, the extremes of sqrt(v), and inf (through the divider).
        let edge = [
            0.0,
            f32::MIN_POSITIVE.sqrt(),
            f32::MAX.sqrt(),
            3.0e-20,
            f32::INFINITY,
        ];
        let mut x = vec![1.0f32; 64];
        x[..edge.len()].copy_from_slice(&edge);
        for c in [0.031_622_78f32, 0.7, 1.0] {
            for (&x, &q) in x.iter().zip(&divide_all(&x, c)) {
                assert_eq!(q.to_bits(), (x / c).to_bits(), "{x:e} / {c:e}");
            }
        }
    }

    #[test]
    fn adam_simd_is_its_scalar_loop_bit_for_bit() {
        // Gradients over many magnitudes, zeros and a few huge ones;
        // 300 steps, so sqrt(bc2) takes 300 values below 1.
        let n = 4096 + 5;
        let g: Vec<f32> = (0..n)
            .map(|i| match i % 7 {
                0 => 0.0,
                6 => 1e18,
                k => ((i as f32) * 0.61).sin() * 10f32.powi(-(k as i32) * 3),
            })
            .collect();
        let mut a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).cos()).collect();
        let mut b = a.clone();
        let (mut ma, mut va, mut mb, mut vb) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for t in 1..=300u64 {
            let c = AdamConsts::new(3e-3, 0.9, 0.999, 1e-8, t);
            adam_update(&mut a, &g, &mut ma, &mut va, &c);
            adam_scalar(&mut b, &g, &mut mb, &mut vb, &c);
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(bits(&va), bits(&vb));
    }
}
