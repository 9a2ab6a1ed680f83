//! The data `bench` runs on: MNIST and Fashion-MNIST, found the way
//! `train` finds them; the committed fixture subsets when a dataset is
//! not found; synthetic MNIST-like samples when neither is there.

use serde::{Deserialize, Serialize};

use crate::data::registry::DatasetId;
use crate::data::{self, DatasetSpec, Locator, Samples};
use crate::kernels::sparse_input::ActiveCols;
use crate::model::INPUTS;
use crate::rng::{self, Purpose};

/// Where a bench dataset came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The full dataset.
    Real,
    /// The committed fixture subset (1000 training, 500 test images).
    Fixture,
    /// Synthetic MNIST-like pixels (19% non-zero, uniformly placed).
    Synthetic,
}

/// What the report says about a dataset.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataInfo {
    /// `mnist` or `fashion-mnist`.
    pub name: String,
    /// Where it came from.
    pub source: Source,
    /// The file or folder read (empty for synthetic data).
    pub path: String,
    /// Non-zero pixels, fraction of all (training samples used).
    pub nonzero: f64,
    /// Mean fraction of the 784 columns a batch of 64 uses.
    pub used_cols_b64: f64,
}

/// A loaded bench dataset.
pub struct BenchData {
    /// What the report says about it.
    pub info: DataInfo,
    /// Training samples (the pool).
    pub train: Samples,
    /// Evaluation samples (the test set).
    pub test: Samples,
}

/// Loads `id` through `loc` (no downloads), else its fixture subset,
/// else synthetic samples.
pub fn load(id: DatasetId, loc: &Locator) -> BenchData {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(match id {
            DatasetId::Mnist => "mnist-small",
            DatasetId::FashionMnist => "fashion-mnist-small",
        });
    let found = data::load(&DatasetSpec::Named(id), loc)
        .map(|d| (d, Source::Real))
        .or_else(|_| data::load(&DatasetSpec::Folder(fixture), loc).map(|d| (d, Source::Fixture)));
    let (train, test, source, path) = match found {
        Ok((d, s)) => {
            let path = d.files[0]
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            (d.pool, d.test, s, path)
        }
        Err(_) => (
            synthetic(5000, 1),
            synthetic(10_000, 2),
            Source::Synthetic,
            String::new(),
        ),
    };
    let n = train.len().min(5000);
    let nz = train.pixels[..n * INPUTS]
        .iter()
        .filter(|&&p| p != 0)
        .count();
    let mut cols = ActiveCols::new();
    let idx: Vec<u32> = (0..n as u32).collect();
    let batches: Vec<&[u32]> = idx.chunks_exact(64).collect();
    let used: usize = batches
        .iter()
        .map(|b| {
            cols.find(&train, b);
            cols.width()
        })
        .sum();
    BenchData {
        info: DataInfo {
            name: id.name().to_string(),
            source,
            path,
            nonzero: nz as f64 / (n * INPUTS).max(1) as f64,
            used_cols_b64: used as f64 / (batches.len().max(1) * INPUTS) as f64,
        },
        train,
        test,
    }
}

/// `n` indices cycling through `0..len` (a fixture subset fills a
/// standard-sized epoch by repeating itself).
pub fn cycle(len: usize, n: usize) -> Vec<u32> {
    (0..n).map(|k| (k % len.max(1)) as u32).collect()
}

/// Synthetic MNIST-like samples (deterministic): 19% of pixels
/// non-zero, uniformly at random (so no column is ever unused).
pub fn synthetic(n: usize, seed: u64) -> Samples {
    let mut r = rng::stream(seed, Purpose::Init, 99);
    let mut pixels = vec![0u8; n * INPUTS];
    for p in &mut pixels {
        if r.unit_f32() < 0.19 {
            *p = 1 + r.below(255) as u8;
        }
    }
    let labels = (0..n).map(|_| r.below(10) as u8).collect();
    Samples { pixels, labels }
}

/// Non-zero pixels of samples `idx`.
pub(crate) fn nonzeros(src: &Samples, idx: &[u32]) -> usize {
    idx.iter()
        .map(|&i| src.image(i as usize).iter().filter(|&&p| p != 0).count())
        .sum()
}
