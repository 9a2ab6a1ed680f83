//! What one epoch of a run computes, in the terms of the cost model:
//! training and evaluation multiply-adds (the first layer counting only
//! the input columns a block uses, by the library's own compaction
//! rule) and parameter updates.

use std::collections::HashMap;

use crate::config::RunConfig;
use crate::data::{self, split::split, Dataset, Locator, Samples};
use crate::error::Result;
use crate::eval::EVAL_BLOCK;
use crate::kernels::sparse_input::ActiveCols;
use crate::model::INPUTS;
use crate::net::compact_max_cols;

/// Blocks looked at to measure a dataset's input density.
const DENSITY_BLOCKS: usize = 64;

/// One epoch of a run, on any number of threads.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Features {
    /// FLOPs of training (forward, weight gradients, and input gradients
    /// of every layer but the first), over the training set.
    pub train: f64,
    /// FLOPs of evaluating the training, validation and test sets.
    pub eval: f64,
    /// Parameters times optimiser steps: the per-step work (the update
    /// streams every parameter and its state) that small batches multiply.
    pub updates: f64,
}

/// The datasets runs use, loaded once, and the input density of their
/// blocks, measured once per block size and first-layer width.
pub(crate) struct Workloads {
    locator: Locator,
    data: HashMap<String, Dataset>,
    density: HashMap<(String, usize, usize), f64>,
}

/// The share of the 784 input columns the first layer multiplies for
/// blocks of `rows` samples of `pool` and a first layer of `h` units:
/// the used columns when the block is compacted, all of them when it is
/// not (the rule of `net::gather_input`), averaged over blocks.
pub(crate) fn input_density(pool: &Samples, rows: usize, h: usize) -> f64 {
    let n = pool.len();
    let rows = rows.clamp(1, n.max(1));
    let blocks = (n / rows).clamp(1, DENSITY_BLOCKS);
    let stride = n / blocks;
    let mut cols = ActiveCols::new();
    let mut used = 0usize;
    for b in 0..blocks {
        let idx: Vec<u32> = (b * stride..(b * stride + rows).min(n))
            .map(|i| i as u32)
            .collect();
        let limit = compact_max_cols(idx.len(), h);
        used += if cols.find_within(pool, &idx, limit) {
            cols.width()
        } else {
            INPUTS
        };
    }
    used as f64 / (blocks * INPUTS) as f64
}

impl Workloads {
    /// Loads datasets through `locator` as runs ask for them.
    pub fn new(locator: Locator) -> Self {
        Workloads {
            locator,
            data: HashMap::new(),
            density: HashMap::new(),
        }
    }

    fn dataset(&mut self, cfg: &RunConfig) -> Result<&Dataset> {
        let key = cfg.dataset.label();
        if !self.data.contains_key(&key) {
            let d = data::load(&cfg.dataset, &self.locator)?;
            self.data.insert(key.clone(), d);
        }
        Ok(&self.data[&key])
    }

    fn density(&mut self, cfg: &RunConfig, rows: usize) -> Result<f64> {
        let h = cfg.shape.width;
        let key = (cfg.dataset.label(), rows, h);
        if let Some(&d) = self.density.get(&key) {
            return Ok(d);
        }
        let d = input_density(&self.dataset(cfg)?.pool, rows, h);
        self.density.insert(key, d);
        Ok(d)
    }

    /// The work of one epoch of `cfg` (epoch 0 evaluates only: its work
    /// is [`Features::eval`]).
    pub fn features(&mut self, cfg: &RunConfig) -> Result<Features> {
        let (first_train, first_eval) = (
            self.density(cfg, cfg.batch_size)?,
            self.density(cfg, EVAL_BLOCK)?,
        );
        let d = self.dataset(cfg)?;
        let (pool, test) = (d.pool.len(), d.test.len());
        let n_val = split(pool, cfg.train_size, cfg.val_size, cfg.seed)?
            .val
            .len();
        let s = &cfg.shape;
        let first = (INPUTS * s.width) as f64;
        let rest = s.forward_macs() as f64 - first;
        let n = cfg.train_size as f64;
        let steps = cfg.train_size.div_ceil(cfg.batch_size.max(1)) as f64;
        Ok(Features {
            train: 2.0 * n * (2.0 * first * first_train + 3.0 * rest),
            eval: 2.0 * (cfg.train_size + n_val + test) as f64 * (first * first_eval + rest),
            updates: s.n_params() as f64 * steps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_images_use_no_columns_and_noise_uses_all() {
        let blank = Samples {
            pixels: vec![0; 256 * INPUTS],
            labels: vec![0; 256],
        };
        assert_eq!(input_density(&blank, 64, 100), 0.0);
        let full = Samples {
            pixels: vec![7; 256 * INPUTS],
            labels: vec![0; 256],
        };
        assert_eq!(input_density(&full, 16, 100), 1.0);
    }
}
