//! Calibration of one set's logits at one epoch: the temperature `T*`
//! that minimises the mean cross-entropy of `logits / T` (Guo et al.,
//! ICML 2017), the mean loss there, the expected calibration error over
//! [`ECE_BINS`] equal-width confidence bins with its reliability table,
//! and where the loss sits (logits and margins over correct and wrong
//! samples, the wrong samples' share of the loss).
//!
//! The loss at temperature `T = 1 / s` is convex in `s`: `L(s) = mean_i
//! [log sum_j exp(s z_ij) - s z_iy]`, with `L'(s) = mean_i (E_p[z_i] -
//! z_iy)` and `L''(s) = mean_i Var_p(z_i) >= 0`. [`Calibrator`] finds
//! the root of `L'` by Newton's method on `s`, safeguarded by bisection
//! in `log s` inside a bracket that every evaluation narrows, until the
//! step in `log T` is below [`LOG_T_TOL`]. Each evaluation is one pass
//! over the logits: the exponentials are the softmax kernel's vectorised
//! `exp` of `s (z_ij - max_j z_ij)`, each sample's three sums are formed
//! in f32 in class order and accumulated over samples in f64, in sample
//! order, so the result does not depend on the thread count or the
//! instruction set.
//!
//! The loss at `T*` uses the per-sample losses' log1p form,
//! `s (m - z_y) + log1p(sum_{j != k} exp(s (z_j - m)))` with `m = z_k`
//! the row maximum, so tiny losses stay exact.
//!
//! A set has no finite `T*` when `L'` keeps one sign over the whole
//! range [`T_MIN`, `T_MAX`]: all logits of every sample equal (`L` is
//! flat), every sample classified correctly by a margin (`L` falls as
//! `T -> 0`), or predictions no better than uniform (`L` falls as
//! `T -> inf`). `T*` and the loss there are then NaN and [`Status`] says
//! which.

use crate::kernels::exp::exp_inplace;

/// Equal-width confidence bins of the expected calibration error.
pub const ECE_BINS: usize = 15;
/// Convergence: the last Newton or bisection step in `log T`.
pub const LOG_T_TOL: f64 = 1e-6;
/// Smallest temperature searched.
pub const T_MIN: f64 = 1e-4;
/// Largest temperature searched.
pub const T_MAX: f64 = 1e4;
/// Passes over the logits at most (bisection alone halves a bracket of
/// `ln(T_MAX / T_MIN) = 18.4` to below `LOG_T_TOL` in 25).
const MAX_PASSES: usize = 100;

/// Why a set has (no) finite `T*`; stored per epoch as a CF flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[repr(u8)]
pub enum Status {
    /// `T*` found.
    Ok = 0,
    /// Every sample's logits are all equal: the loss does not depend on `T`.
    ConstantLogits = 1,
    /// The loss still falls at `T_MIN` (every sample right by a margin).
    BelowRange = 2,
    /// The loss still falls at `T_MAX` (no better than uniform).
    AboveRange = 3,
    /// The set is empty, or a logit is not finite.
    NoData = 4,
}

impl Status {
    /// Every status, in flag order.
    pub const ALL: [Status; 5] = [
        Status::Ok,
        Status::ConstantLogits,
        Status::BelowRange,
        Status::AboveRange,
        Status::NoData,
    ];

    /// Its CF `flag_meanings` word.
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::ConstantLogits => "logits_all_equal",
            Status::BelowRange => "loss_falls_as_T_to_0",
            Status::AboveRange => "loss_falls_as_T_to_infinity",
            Status::NoData => "no_samples_or_non_finite_logits",
        }
    }

    /// The status stored as `v` (unknown values read as `NoData`).
    pub fn from_u8(v: u8) -> Status {
        Status::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(Status::NoData)
    }
}

/// One set's calibration at one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// `T*`, NaN when `status` is not `Ok`.
    pub temperature: f64,
    /// Mean cross-entropy of `logits / T*` (nats), NaN without `T*`.
    pub loss_at_temperature: f64,
    /// Mean cross-entropy at `T = 1`, from the same logits (nats).
    pub loss: f64,
    /// Fraction whose largest logit is the label's (first maximum).
    pub accuracy: f64,
    /// Expected calibration error of the raw softmax (`T = 1`).
    pub ece: f64,
    /// Samples per confidence bin `((b - 1) / 15, b / 15]`.
    pub bin_count: [u64; ECE_BINS],
    /// Their accuracy (NaN for an empty bin).
    pub bin_accuracy: [f64; ECE_BINS],
    /// Their mean confidence (NaN for an empty bin).
    pub bin_confidence: [f64; ECE_BINS],
    /// Mean largest logit of the correct samples (NaN if none).
    pub max_logit_correct: f64,
    /// Mean largest logit of the wrong samples (NaN if none).
    pub max_logit_wrong: f64,
    /// Mean margin `z_y - max_{j != y} z_j` of the correct samples.
    pub margin_correct: f64,
    /// Mean margin of the wrong samples (negative or zero).
    pub margin_wrong: f64,
    /// Share of the summed loss carried by the wrong samples (NaN when
    /// the summed loss is 0).
    pub wrong_loss_share: f64,
    /// Mean loss of the wrong samples (NaN if none).
    pub wrong_loss_mean: f64,
    /// Passes over the logits the solver took.
    pub passes: usize,
    /// Whether `T*` exists, and if not why.
    pub status: Status,
}

/// Sums of one pass at `s = 1 / T`.
#[derive(Clone, Copy, Debug)]
struct Pass {
    /// `L'(s)`.
    d1: f64,
    /// `L''(s)`.
    d2: f64,
}

/// Computes [`Calibration`]s; holds the per-sample scratch so that an
/// epoch's calibration allocates nothing once warm.
#[derive(Clone, Debug, Default)]
pub struct Calibrator {
    /// `z_ij - max_j z_ij`, row-major.
    centred: Vec<f32>,
    /// Exponentials of the current pass.
    e: Vec<f32>,
    /// Each sample's first maximum.
    top: Vec<u8>,
    /// The last `T*` reported, the next solve's start (as `1 / T*`, so
    /// that a resumed run, which reads `T*` back from its file, starts
    /// where the uninterrupted run did and gives the same bits).
    last_t: Option<f64>,
}

impl Calibrator {
    /// A calibrator (buffers grow on first use).
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the next solve at temperature `t` (the last finite `T*` a
    /// resumed run recorded); ignored unless finite and positive.
    pub fn warm_start(&mut self, t: f64) {
        if t.is_finite() && t > 0.0 {
            self.last_t = Some(t);
        }
    }

    /// Calibrates a set from its logits (`n x classes`, row-major), labels
    /// and per-sample losses at `T = 1` (as the loss kernel gave them).
    /// Starts the solve at the previous call's `T*`: consecutive epochs
    /// converge in a few passes.
    pub fn calibrate(
        &mut self,
        logits: &[f32],
        labels: &[u8],
        losses: &[f32],
        classes: usize,
    ) -> Calibration {
        let n = labels.len();
        assert_eq!(logits.len(), n * classes, "logits of another set");
        assert_eq!(losses.len(), n, "losses of another set");
        let mut c = self.describe(logits, labels, losses, classes);
        if n == 0 || !logits.iter().all(|z| z.is_finite()) {
            c.status = Status::NoData;
            return c;
        }
        let (status, s, passes) = if self.centred.iter().all(|&z| z == 0.0) {
            (Status::ConstantLogits, f64::NAN, 0)
        } else if c.accuracy == 1.0 {
            // L'(s) < 0 everywhere: the loss falls as T -> 0.
            (Status::BelowRange, f64::NAN, 0)
        } else {
            self.solve(labels, classes)
        };
        c.passes = passes;
        c.status = status;
        if status == Status::Ok {
            c.temperature = 1.0 / s;
            self.last_t = Some(c.temperature);
            c.loss_at_temperature = self.loss_at(s, labels, classes);
        }
        c
    }

    /// Everything but `T*`: one pass at `T = 1` (the centred logits and
    /// their first maxima are kept for the solve).
    fn describe(
        &mut self,
        logits: &[f32],
        labels: &[u8],
        losses: &[f32],
        classes: usize,
    ) -> Calibration {
        let n = labels.len();
        self.centred.clear();
        self.centred.extend_from_slice(logits);
        self.e.resize(logits.len(), 0.0);
        self.top.resize(n, 0);
        let mut sums = Sums::default();
        for (i, ((row, &y), &loss)) in self
            .centred
            .chunks_exact_mut(classes)
            .zip(labels)
            .zip(losses)
            .enumerate()
        {
            let (mut k, mut m) = (0, f32::NEG_INFINITY);
            let mut other = f32::NEG_INFINITY;
            for (j, &z) in row.iter().enumerate() {
                if z > m {
                    (k, m) = (j, z);
                }
                if j != y as usize {
                    other = other.max(z);
                }
            }
            self.top[i] = k as u8;
            let margin = row[y as usize] - other;
            for z in row.iter_mut() {
                *z -= m;
            }
            sums.add(k == y as usize, m, margin, loss);
        }
        self.e.copy_from_slice(&self.centred);
        exp_inplace(&mut self.e);
        let mut bins = Bins::default();
        for ((e, &k), &y) in self.e.chunks_exact(classes).zip(&self.top).zip(labels) {
            // The largest softmax probability 1 / (1 + sum_{j != k} e_j).
            let rest = sum_except(e, k as usize) as f64;
            bins.add(1.0 / (1.0 + rest), k == y);
        }
        let (ece, bin_count, bin_accuracy, bin_confidence) = bins.finish(n);
        Calibration {
            temperature: f64::NAN,
            loss_at_temperature: f64::NAN,
            loss: sums.loss / n.max(1) as f64,
            accuracy: sums.right as f64 / n.max(1) as f64,
            ece,
            bin_count,
            bin_accuracy,
            bin_confidence,
            max_logit_correct: ratio(sums.top_right, sums.right),
            max_logit_wrong: ratio(sums.top_wrong, sums.wrong),
            margin_correct: ratio(sums.margin_right, sums.right),
            margin_wrong: ratio(sums.margin_wrong, sums.wrong),
            wrong_loss_share: if sums.loss > 0.0 {
                sums.loss_wrong / sums.loss
            } else {
                f64::NAN
            },
            wrong_loss_mean: ratio(sums.loss_wrong, sums.wrong),
            passes: 0,
            status: Status::Ok,
        }
    }

    /// `e = exp(s (z - max z))` over the centred logits.
    fn exps_at(&mut self, s: f32) {
        for (e, &z) in self.e.iter_mut().zip(&self.centred) {
            *e = s * z;
        }
        exp_inplace(&mut self.e);
    }

    /// `L'(s)` and `L''(s)` in one pass over the centred logits.
    fn pass(&mut self, s: f64, labels: &[u8], classes: usize) -> Pass {
        self.exps_at(s as f32);
        let (mut d1, mut d2) = (0.0f64, 0.0f64);
        for ((e, z), &y) in self
            .e
            .chunks_exact(classes)
            .zip(self.centred.chunks_exact(classes))
            .zip(labels)
        {
            let (mut s0, mut s1, mut s2) = (0.0f32, 0.0f32, 0.0f32);
            for (&ej, &zj) in e.iter().zip(z) {
                s0 += ej;
                let t = ej * zj;
                s1 += t;
                s2 += t * zj;
            }
            let mean = (s1 / s0) as f64;
            d1 += mean - z[y as usize] as f64;
            d2 += ((s2 / s0) as f64 - mean * mean).max(0.0);
        }
        let n = labels.len() as f64;
        Pass {
            d1: d1 / n,
            d2: d2 / n,
        }
    }

    /// The root of `L'(s)` in `[1 / T_MAX, 1 / T_MIN]`: (status, s, passes).
    /// Needs a wrong sample, so that `L'` turns positive as `s` grows.
    fn solve(&mut self, labels: &[u8], classes: usize) -> (Status, f64, usize) {
        let (s_lo, s_hi) = (1.0 / T_MAX, 1.0 / T_MIN);
        // The bracket [lo, hi] holds the root; `None` ends are the range's.
        let (mut lo, mut hi): (Option<f64>, Option<f64>) = (None, None);
        let mut s = self.last_t.map_or(1.0, |t| 1.0 / t).clamp(s_lo, s_hi);
        for passes in 1..=MAX_PASSES {
            let p = self.pass(s, labels, classes);
            if p.d1 == 0.0 {
                return (Status::Ok, s, passes);
            }
            if p.d1 < 0.0 {
                lo = Some(s);
            } else {
                hi = Some(s);
            }
            // At an end of the range with L' still of one sign there: the
            // minimum lies beyond it.
            if lo.is_none() && s <= s_lo {
                return (Status::AboveRange, s, passes);
            }
            if hi.is_none() && s >= s_hi {
                return (Status::BelowRange, s, passes);
            }
            let (a, b) = (lo.unwrap_or(s_lo), hi.unwrap_or(s_hi));
            let newton = s - p.d1 / p.d2;
            let next = if p.d2 > 0.0 && newton > a && newton < b {
                newton
            } else if lo.is_none() {
                // Below every point tried: step down by e^2, at most to the range.
                (s * (-2.0f64).exp()).max(s_lo)
            } else if hi.is_none() {
                (s * 2.0f64.exp()).min(s_hi)
            } else {
                (a * b).sqrt()
            };
            if (next / s).ln().abs() < LOG_T_TOL {
                return (Status::Ok, next, passes);
            }
            s = next;
        }
        (Status::Ok, s, MAX_PASSES)
    }

    /// Mean loss at `s`, in the per-sample losses' log1p form.
    fn loss_at(&mut self, s: f64, labels: &[u8], classes: usize) -> f64 {
        let sf = s as f32;
        self.exps_at(sf);
        let mut total = 0.0f64;
        for (((e, z), &k), &y) in self
            .e
            .chunks_exact(classes)
            .zip(self.centred.chunks_exact(classes))
            .zip(&self.top)
            .zip(labels)
        {
            // s (m - z_y) with z centred at m: -s z_y.
            let head = -(sf * z[y as usize]) as f64;
            total += head + (sum_except(e, k as usize) as f64).ln_1p();
        }
        total / labels.len() as f64
    }
}

/// `a / n`, NaN for `n = 0`.
fn ratio(a: f64, n: u64) -> f64 {
    if n == 0 {
        f64::NAN
    } else {
        a / n as f64
    }
}

fn sum_except(e: &[f32], skip: usize) -> f32 {
    let mut t = 0.0f32;
    for (j, &v) in e.iter().enumerate() {
        if j != skip {
            t += v;
        }
    }
    t
}

/// Per-set sums split by correctness.
#[derive(Default)]
struct Sums {
    right: u64,
    wrong: u64,
    top_right: f64,
    top_wrong: f64,
    margin_right: f64,
    margin_wrong: f64,
    loss: f64,
    loss_wrong: f64,
}

impl Sums {
    fn add(&mut self, right: bool, top: f32, margin: f32, loss: f32) {
        self.loss += loss as f64;
        if right {
            self.right += 1;
            self.top_right += top as f64;
            self.margin_right += margin as f64;
        } else {
            self.wrong += 1;
            self.top_wrong += top as f64;
            self.margin_wrong += margin as f64;
            self.loss_wrong += loss as f64;
        }
    }
}

/// The reliability table being filled.
#[derive(Default)]
struct Bins {
    count: [u64; ECE_BINS],
    right: [u64; ECE_BINS],
    conf: [f64; ECE_BINS],
}

/// The bin of confidence `p`: `((b - 1) / M, b / M]` is bin `b - 1`
/// (numpy: `np.ceil(p * M) - 1`, clipped to `[0, M - 1]`).
pub fn confidence_bin(p: f64) -> usize {
    ((p * ECE_BINS as f64).ceil() as usize).clamp(1, ECE_BINS) - 1
}

type Table = (f64, [u64; ECE_BINS], [f64; ECE_BINS], [f64; ECE_BINS]);

impl Bins {
    fn add(&mut self, p: f64, right: bool) {
        let b = confidence_bin(p);
        self.count[b] += 1;
        self.right[b] += right as u64;
        self.conf[b] += p;
    }

    /// ECE, counts, accuracies and confidences.
    fn finish(&self, n: usize) -> Table {
        let (mut acc, mut conf) = ([f64::NAN; ECE_BINS], [f64::NAN; ECE_BINS]);
        let mut ece = 0.0;
        for b in 0..ECE_BINS {
            let c = self.count[b];
            if c == 0 {
                continue;
            }
            acc[b] = self.right[b] as f64 / c as f64;
            conf[b] = self.conf[b] / c as f64;
            ece += c as f64 / n.max(1) as f64 * (acc[b] - conf[b]).abs();
        }
        (ece, self.count, acc, conf)
    }
}

/// The mean loss of `logits / t` in f64 (the reference for tests).
pub fn mean_loss_at_ref(logits: &[f32], labels: &[u8], classes: usize, t: f64) -> f64 {
    let mut total = 0.0;
    for (row, &y) in logits.chunks_exact(classes).zip(labels) {
        let zy = row[y as usize] as f64 / t;
        let rest: f64 = (0..classes)
            .filter(|&j| j != y as usize)
            .map(|j| (row[j] as f64 / t - zy).exp())
            .sum();
        total += rest.ln_1p();
    }
    total / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic set: logits `scale * (noise + 3 onehot(y'))` where
    /// `y'` is the label for 85% of the samples and another class else.
    fn set(n: usize, scale: f32) -> (Vec<f32>, Vec<u8>, Vec<f32>) {
        let c = 10;
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut z, mut y) = (vec![], vec![]);
        for i in 0..n {
            let label = (i % c) as u8;
            let hit = if next() < 0.85 {
                label as usize
            } else {
                (label as usize + 1 + (next() * 8.0) as usize) % c
            };
            for j in 0..c {
                let v = next() * 2.0 - 1.0 + if j == hit { 3.0 } else { 0.0 };
                z.push(scale * v as f32);
            }
            y.push(label);
        }
        let loss = (0..n)
            .map(|i| mean_loss_at_ref(&z[i * c..(i + 1) * c], &y[i..i + 1], c, 1.0) as f32)
            .collect();
        (z, y, loss)
    }

    /// Golden-section search on `log T` in f64.
    fn golden(z: &[f32], y: &[u8]) -> f64 {
        let f = |u: f64| mean_loss_at_ref(z, y, 10, u.exp());
        let (mut a, mut b) = (T_MIN.ln(), T_MAX.ln());
        let g = (5f64.sqrt() - 1.0) / 2.0;
        while b - a > 1e-10 {
            let (c, d) = (b - g * (b - a), a + g * (b - a));
            if f(c) < f(d) {
                b = d;
            } else {
                a = c;
            }
        }
        ((a + b) / 2.0).exp()
    }

    #[test]
    fn temperature_and_loss_match_an_f64_search() {
        for scale in [0.3f32, 1.0, 4.0, 20.0] {
            let (z, y, loss) = set(3000, scale);
            let c = Calibrator::new().calibrate(&z, &y, &loss, 10);
            assert_eq!(c.status, Status::Ok, "scale {scale}");
            let want = golden(&z, &y);
            let rel = (c.temperature / want - 1.0).abs();
            assert!(rel < 1e-5, "scale {scale}: T* {} vs {want}", c.temperature);
            let l = mean_loss_at_ref(&z, &y, 10, want);
            assert!(
                (c.loss_at_temperature / l - 1.0).abs() < 1e-6,
                "scale {scale}: {} vs {l}",
                c.loss_at_temperature
            );
            assert!(c.loss_at_temperature <= c.loss * (1.0 + 1e-6));
        }
    }

    #[test]
    fn over_confident_logits_want_a_temperature_of_their_scale() {
        // The same set scaled by 4 wants 4 times the temperature.
        let (z, y, l) = set(2000, 1.0);
        let t1 = Calibrator::new().calibrate(&z, &y, &l, 10).temperature;
        let z4: Vec<f32> = z.iter().map(|v| v * 4.0).collect();
        let (_, _, l4) = set(2000, 4.0);
        let t4 = Calibrator::new().calibrate(&z4, &y, &l4, 10).temperature;
        assert!((t4 / t1 / 4.0 - 1.0).abs() < 1e-5, "{t1} {t4}");
    }

    #[test]
    fn a_warm_start_converges_to_the_same_temperature() {
        let (z, y, l) = set(2000, 3.0);
        let mut cal = Calibrator::new();
        let cold = cal.calibrate(&z, &y, &l, 10);
        let warm = cal.calibrate(&z, &y, &l, 10);
        assert!(warm.passes < cold.passes, "{} {}", warm.passes, cold.passes);
        assert!((warm.temperature / cold.temperature - 1.0).abs() < 2e-6);
    }

    #[test]
    fn a_warm_start_from_the_reported_temperature_repeats_the_run() {
        // An uninterrupted run's second epoch equals a resumed run's,
        // which starts from T* as read back from the file.
        let (z1, y, l1) = set(1500, 2.0);
        let (z2, _, l2) = set(1500, 2.5);
        let mut whole = Calibrator::new();
        let first = whole.calibrate(&z1, &y, &l1, 10);
        let second = whole.calibrate(&z2, &y, &l2, 10);
        let mut resumed = Calibrator::new();
        resumed.warm_start(first.temperature);
        // Bit for bit (Debug prints every f64 exactly; NaN bins included).
        let again = resumed.calibrate(&z2, &y, &l2, 10);
        assert_eq!(format!("{again:?}"), format!("{second:?}"));
        let mut ignored = Calibrator::new();
        ignored.warm_start(f64::NAN);
        assert_eq!(ignored.last_t, None);
    }

    #[test]
    fn ece_and_the_reliability_table_match_a_direct_computation() {
        let (z, y, l) = set(4000, 2.0);
        let c = Calibrator::new().calibrate(&z, &y, &l, 10);
        let (mut cnt, mut right, mut conf) = ([0u64; 15], [0u64; 15], [0f64; 15]);
        for (row, &lab) in z.chunks_exact(10).zip(&y) {
            let r: Vec<f64> = row.iter().map(|&v| v as f64).collect();
            let k = (0..10).fold(0, |k, j| if r[j] > r[k] { j } else { k });
            let s: f64 = r.iter().map(|v| (v - r[k]).exp()).sum();
            let p = 1.0 / s;
            let b = confidence_bin(p);
            cnt[b] += 1;
            right[b] += (k == lab as usize) as u64;
            conf[b] += p;
        }
        let mut ece = 0.0;
        for b in 0..15 {
            if cnt[b] > 0 {
                let (a, p) = (right[b] as f64 / cnt[b] as f64, conf[b] / cnt[b] as f64);
                ece += cnt[b] as f64 / 4000.0 * (a - p).abs();
                assert!((c.bin_confidence[b] - p).abs() < 1e-6);
                assert_eq!(c.bin_accuracy[b], a);
            } else {
                assert!(c.bin_accuracy[b].is_nan());
            }
        }
        assert_eq!(c.bin_count, cnt);
        assert!((c.ece - ece).abs() < 1e-6, "{} vs {ece}", c.ece);
        assert_eq!(c.bin_count.iter().sum::<u64>(), 4000);
    }

    #[test]
    fn the_split_over_correct_and_wrong_adds_up() {
        let (z, y, l) = set(1000, 1.5);
        let c = Calibrator::new().calibrate(&z, &y, &l, 10);
        let total: f64 = l.iter().map(|&v| v as f64).sum();
        let wrong = ((1.0 - c.accuracy) * 1000.0).round();
        assert!((c.wrong_loss_share - c.wrong_loss_mean * wrong / total).abs() < 1e-9);
        assert!(c.margin_correct > 0.0 && c.margin_wrong <= 0.0);
        assert!(c.wrong_loss_share > 0.0 && c.wrong_loss_share < 1.0);
        assert!(c.accuracy > 0.7 && c.accuracy < 0.95);
    }

    #[test]
    fn equal_logits_have_no_finite_temperature() {
        let z = vec![0.25f32; 50];
        let y = vec![0u8, 1, 2, 3, 4];
        let l = vec![(10f32).ln(); 5];
        let c = Calibrator::new().calibrate(&z, &y, &l, 10);
        assert_eq!(c.status, Status::ConstantLogits);
        assert!(c.temperature.is_nan() && c.loss_at_temperature.is_nan());
        assert!(c.ece.is_finite());
    }

    #[test]
    fn a_set_right_by_a_margin_wants_t_to_zero() {
        let mut z = vec![0.0f32; 40];
        let y = vec![1u8, 3, 5, 7];
        for (i, &k) in y.iter().enumerate() {
            z[i * 10 + k as usize] = 2.0;
        }
        let l = vec![0.1f32; 4];
        let c = Calibrator::new().calibrate(&z, &y, &l, 10);
        assert_eq!(c.status, Status::BelowRange);
        assert!(c.temperature.is_nan());
        assert!(c.wrong_loss_mean.is_nan() && c.margin_wrong.is_nan());
    }

    #[test]
    fn chance_predictions_want_t_to_infinity() {
        // The label's logit is below the mean of the others: the loss
        // falls all the way to uniform predictions (T -> infinity).
        let mut z = vec![0.0f32; 40];
        let y = vec![1u8, 3, 5, 7];
        for (i, &k) in y.iter().enumerate() {
            z[i * 10 + k as usize] = -1.0;
            z[i * 10 + (k as usize + 1) % 10] = 1.0;
        }
        let l = vec![2.0f32; 4];
        let c = Calibrator::new().calibrate(&z, &y, &l, 10);
        assert_eq!(c.status, Status::AboveRange);
        assert!(c.temperature.is_nan());
    }

    #[test]
    fn empty_and_non_finite_sets_are_reported_not_solved() {
        let c = Calibrator::new().calibrate(&[], &[], &[], 10);
        assert_eq!(c.status, Status::NoData);
        let mut z = vec![0.5f32; 10];
        z[3] = f32::NAN;
        let c = Calibrator::new().calibrate(&z, &[3], &[1.0], 10);
        assert_eq!(c.status, Status::NoData);
    }

    #[test]
    fn tiny_losses_at_the_temperature_stay_exact() {
        // Label 40 above the rest and a few wrong samples: T* near 1 and
        // most per-sample losses near 9 e^-40; the log1p form keeps them.
        let c = 10;
        let mut z = vec![0.0f32; 200 * c];
        let mut y = vec![0u8; 200];
        for i in 0..200 {
            y[i] = (i % c) as u8;
            let hit = if i % 50 == 0 { (i + 1) % c } else { i % c };
            z[i * c + hit] = 40.0;
        }
        let l: Vec<f32> = (0..200)
            .map(|i| mean_loss_at_ref(&z[i * c..(i + 1) * c], &y[i..i + 1], c, 1.0) as f32)
            .collect();
        let cal = Calibrator::new().calibrate(&z, &y, &l, c);
        assert_eq!(cal.status, Status::Ok);
        let want = mean_loss_at_ref(&z, &y, c, cal.temperature);
        assert!((cal.loss_at_temperature / want - 1.0).abs() < 1e-6);
    }
}
