//! Facts about the machine a run or a benchmark ran on: the CPU model
//! and its SIMD features (run files record them as provenance), and the
//! measured one-core FMA peak and memory bandwidth that `bench` puts
//! every figure against.

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The CPU's model name (from /proc/cpuinfo on Linux).
pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// SIMD features this CPU reports.
pub(crate) fn cpu_features() -> Vec<&'static str> {
    let mut v = vec![];
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! f {
            ($($name:tt),*) => {$(if std::is_x86_feature_detected!($name) { v.push($name); })*};
        }
        f!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avx512bf16",
            "avx512fp16"
        );
    }
    v
}

/// The one-core f32 peak: 12 independent FMA chains on the SIMD path
/// the kernels use ([`crate::kernels::arch`]), timed over ~0.2 s (best
/// of 3). FLOPs = 2 per lane per FMA.
pub fn peak_gflops() -> f64 {
    struct Op(u64);
    impl pulp::WithSimd for Op {
        type Output = f32;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, s: S) -> f32 {
            let mut acc = [s.splat_f32s(0.0); 12];
            let (a, b) = (s.splat_f32s(0.999_999), s.splat_f32s(1e-7));
            for _ in 0..self.0 {
                for x in acc.iter_mut() {
                    *x = s.mul_add_f32s(*x, a, b);
                }
            }
            sum_chains(s, acc)
        }
    }
    let iters = 4_000_000u64;
    let (best, lanes) = fastest_of_3(|| Op(iters));
    (iters as f64 * 12.0 * lanes * 2.0) / best / 1e9
}

/// The sum of twelve chains' lanes (so that none is optimised away).
#[inline(always)]
fn sum_chains<S: pulp::Simd>(s: S, acc: [S::f32s; 12]) -> f32 {
    let mut t = s.splat_f32s(0.0);
    for x in acc {
        t = s.add_f32s(t, x);
    }
    s.reduce_sum_f32s(t)
}

/// Runs the op `make` gives three times on the kernels' SIMD path:
/// the fastest run's seconds, and the path's f32 lanes.
fn fastest_of_3<Op: pulp::WithSimd<Output = f32>>(make: impl Fn() -> Op) -> (f64, f64) {
    let arch = crate::kernels::arch();
    let lanes = arch.dispatch(LanesOp) as f64;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let op = std::hint::black_box(make());
        let start = Instant::now();
        std::hint::black_box(arch.dispatch(op));
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, lanes)
}

/// The one-core rate of Adam's long-latency arithmetic: per element one
/// square root (`sqrt(v)`) and one division (`m / denom`), which
/// PyTorch's exact arithmetic needs and which share one divider unit
/// (the division by the step's constant needs no divider: see
/// [`crate::optim::adam_update`]). Twelve independent chains of exactly
/// those operations on the kernels' SIMD path, timed like
/// [`peak_gflops`]; in elements (of f32) per second, G/s. A bound on
/// any exact Adam kernel, however well it streams its memory.
pub fn adam_divider_gelems() -> f64 {
    struct Op(u64);
    impl pulp::WithSimd for Op {
        type Output = f32;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, s: S) -> f32 {
            // x <- k / (sqrt(x) + eps): stays near k^(2/3), never
            // subnormal, never a shortcut case (0, inf, NaN).
            let mut acc = [s.splat_f32s(1.5); 12];
            let (eps, k) = (s.splat_f32s(1e-8), s.splat_f32s(1.7));
            for _ in 0..self.0 {
                for x in acc.iter_mut() {
                    *x = s.div_f32s(k, s.add_f32s(s.sqrt_f32s(*x), eps));
                }
            }
            sum_chains(s, acc)
        }
    }
    let iters = 200_000u64;
    let (best, lanes) = fastest_of_3(|| Op(iters));
    (iters as f64 * 12.0 * lanes) / best / 1e9
}

/// f32 lanes of the kernels' SIMD path.
struct LanesOp;
impl pulp::WithSimd for LanesOp {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> usize {
        S::F32_LANES
    }
}

/// Stream-style triad `a = b + s c` bandwidth over three f32 arrays of
/// `bytes` in all, on `threads` threads (each its own share), in GB/s
/// (12 bytes moved per element: two reads, one write; the write's
/// line fill is not counted, as in STREAM). Best of a few passes taking
/// about `budget_s` together.
pub(crate) fn triad_gbs(bytes: usize, threads: usize, budget_s: f64) -> f64 {
    let n = (bytes / 12).max(1024);
    let threads = threads.max(1);
    let (mut a, b, c) = (vec![0.0f32; n], vec![1.0f32; n], vec![2.0f32; n]);
    let chunk = n.div_ceil(threads);
    let pass = |a: &mut [f32]| {
        if threads == 1 {
            // Inline: spawning a thread per pass would cost more than a
            // pass over an L2-sized working set takes.
            return triad(a, &b, &c, 0.5);
        }
        std::thread::scope(|sc| {
            for ((a, b), c) in a
                .chunks_mut(chunk)
                .zip(b.chunks(chunk))
                .zip(c.chunks(chunk))
            {
                sc.spawn(move || triad(a, b, c, 0.5));
            }
        });
    };
    pass(&mut a); // first touch
    let start = Instant::now();
    pass(&mut a);
    let once = start.elapsed().as_secs_f64().max(1e-7);
    let reps = ((budget_s / once) as usize).clamp(2, 200);
    let mut best = once;
    for _ in 0..reps {
        let start = Instant::now();
        pass(&mut a);
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&a);
    (12 * n) as f64 / best / 1e9
}

fn triad(a: &mut [f32], b: &[f32], c: &[f32], s: f32) {
    struct Op<'a>(&'a mut [f32], &'a [f32], &'a [f32], f32);
    impl pulp::WithSimd for Op<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Op(a, b, c, s) = self;
            for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
                *a = b + s * c;
            }
        }
    }
    crate::kernels::arch().dispatch(Op(a, b, c, s));
}

/// Working-set sizes (bytes, three arrays together) at which
/// [`bandwidth_curve`] measures the one-core triad: from L2-sized to
/// well past any last-level cache.
pub(crate) const TRIAD_SIZES: [usize; 8] = [
    1 << 20,
    2 << 20,
    4 << 20,
    8 << 20,
    16 << 20,
    32 << 20,
    64 << 20,
    768 << 20,
];

/// One-core triad bandwidth at each of [`TRIAD_SIZES`]: `(bytes, GB/s)`.
pub fn bandwidth_curve(budget_s: f64) -> Vec<(usize, f64)> {
    TRIAD_SIZES
        .iter()
        .map(|&b| (b, triad_gbs(b, 1, budget_s)))
        .collect()
}

/// The bandwidth a working set of `bytes` sees on one core: the
/// measurement at the smallest size that holds it (the largest size
/// beyond that).
pub(crate) fn bandwidth_for(curve: &[(usize, f64)], bytes: usize) -> f64 {
    curve
        .iter()
        .find(|(size, _)| *size >= bytes)
        .or(curve.last())
        .map(|&(_, gbs)| gbs)
        .unwrap_or(f64::NAN)
}

/// What identifies a machine for comparing benchmark results: two
/// reports compare only when these agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineId {
    /// CPU model name.
    pub cpu: String,
    /// SIMD features the CPU reports.
    pub features: Vec<String>,
    /// Logical cores.
    pub cores: usize,
    /// The SIMD path the kernels ran on (`PREINTERP_SIMD` can force one).
    pub simd_path: String,
}

impl MachineId {
    /// This machine, as the kernels run on it now.
    pub fn here() -> Self {
        MachineId {
            cpu: cpu_model(),
            features: cpu_features().iter().map(|s| s.to_string()).collect(),
            cores: crate::eval::num_cpus(),
            simd_path: crate::kernels::simd_level().to_string(),
        }
    }

    /// How `other` differs from `self`, in a few words (`None` if not).
    pub fn differs(&self, other: &MachineId) -> Option<String> {
        let mut d = vec![];
        if self.cpu != other.cpu {
            d.push(format!("CPU {} vs {}", other.cpu, self.cpu));
        }
        if self.features != other.features {
            d.push("CPU features".to_string());
        }
        if self.cores != other.cores {
            d.push(format!("{} vs {} cores", other.cores, self.cores));
        }
        if self.simd_path != other.simd_path {
            d.push(format!(
                "SIMD path {} vs {}",
                other.simd_path, self.simd_path
            ));
        }
        (!d.is_empty()).then(|| d.join(", "))
    }
}
