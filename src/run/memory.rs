//! What a run needs in memory, estimated before anything is allocated,
//! so that an impossible model is refused in one line instead of
//! aborting on a failed allocation.

use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::eval::EVAL_BLOCK;
use crate::model::{CLASSES, INPUTS};
use crate::optim::OptimizerKind;
use crate::threads::Threads;

/// Bytes of one float32.
const F32: f64 = 4.0;

/// Parameters of `cfg`'s model (as a float, so no size overflows).
fn n_params(cfg: &RunConfig) -> f64 {
    let (l, h) = (cfg.shape.depth as f64, cfg.shape.width as f64);
    (INPUTS as f64 + 1.0) * h + (l - 1.0) * (h + 1.0) * h + (h + 1.0) * CLASSES as f64
}

/// Bytes of one batch workspace of `rows` rows (inputs, activations,
/// input gradients, logits).
fn workspace(cfg: &RunConfig, rows: f64) -> f64 {
    let (l, h) = (cfg.shape.depth as f64, cfg.shape.width as f64);
    F32 * rows * (INPUTS as f64 + (l + 2.0) * h + 2.0 * CLASSES as f64)
}

/// Bytes an evaluation workspace of `rows` rows adds for the sparse
/// first layer: the non-zero pixels' list (a `u16` index and an `f32`
/// value per pixel) and two chains of 128 floats per row.
fn nonzeros(rows: f64) -> f64 {
    rows * (6.0 * INPUTS as f64 + 2.0 * 128.0 * F32)
}

/// Estimated bytes a run of `cfg` allocates: parameters, gradients and
/// optimiser state, the training workspace, one evaluation workspace
/// per thread, and the first layer's weights packed for evaluation.
pub fn estimate(cfg: &RunConfig) -> f64 {
    let moments = match cfg.optimizer {
        OptimizerKind::Adam { .. } => 2.0,
        OptimizerKind::Sgd { momentum, .. } if momentum > 0.0 => 1.0,
        OptimizerKind::Sgd { .. } => 0.0,
    };
    let threads = Threads::from(cfg.threads).get();
    F32 * n_params(cfg) * (2.0 + moments)
        + workspace(cfg, cfg.batch_size as f64)
        + threads as f64 * (workspace(cfg, EVAL_BLOCK as f64) + nonzeros(EVAL_BLOCK as f64))
        + F32 * INPUTS as f64 * (cfg.shape.width as f64 + 16.0)
}

/// This machine's memory in bytes (`MemTotal`), if known.
pub(crate) fn machine_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// `12.3 GB` (or TB, PB for the absurd).
fn gb(bytes: f64) -> String {
    let (v, unit) = match bytes {
        b if b >= 1e15 => (b / 1e15, "PB"),
        b if b >= 1e12 => (b / 1e12, "TB"),
        b => (b / 1e9, "GB"),
    };
    format!("{v:.1} {unit}")
}

/// Refuses `cfg` when its estimate exceeds `memory` bytes.
pub(crate) fn check_against(cfg: &RunConfig, memory: f64) -> Result<()> {
    let need = estimate(cfg);
    if need <= memory {
        return Ok(());
    }
    let opt = match cfg.optimizer {
        OptimizerKind::Adam { .. } => "gradients and Adam moments",
        _ => "gradients and optimiser state",
    };
    Err(Error::usage(format!(
        "--depth {} --width {}: the model needs about {} ({:.2e} parameters: weights, {opt}, plus workspaces), more than this machine's {} of memory",
        cfg.shape.depth,
        cfg.shape.width,
        gb(need),
        n_params(cfg),
        gb(memory)
    )))
}

/// Refuses `cfg` when it cannot fit in this machine's memory.
pub fn check(cfg: &RunConfig) -> Result<()> {
    match machine_memory() {
        Some(m) => check_against(cfg, m),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Preset;

    #[test]
    fn estimates_count_parameters_and_refuse_by_flag() {
        let mut c = Preset::A.config();
        c.threads = 1;
        // 3x100: 99,710 parameters; Adam keeps 4 copies; evaluation's
        // sparse first layer adds its non-zeros' list (1.1 MB for one
        // thread) and the transposed first layer (0.36 MB).
        assert_eq!(n_params(&c), c.shape.n_params() as f64);
        let e = estimate(&c);
        let fixed = 4.0 * 4.0 * 99_710.0 + nonzeros(EVAL_BLOCK as f64) + 4.0 * 784.0 * 116.0;
        assert!(e > fixed && e < fixed + 2e6, "{e}");
        assert!(check_against(&c, 24e9).is_ok());
        c.shape.width = 60_000;
        let err = check_against(&c, 24e9).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("--depth 3 --width 60000: the model needs about "),
            "{msg}"
        );
        assert!(msg.contains("24.0 GB"), "{msg}");
        assert_eq!(err.exit_code(), 2);
        c.shape.depth = 100_000;
        c.shape.width = 100_000;
        assert!(estimate(&c).is_finite());
        assert!(check_against(&c, 24e9).is_err());
    }
}
