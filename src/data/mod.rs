//! Datasets: IDX files -> images and labels in memory (as `u8`), with
//! their provenance (where they came from and their checksums).

mod cache;
pub mod fetch;
pub mod idx;
pub mod prefetch;
pub mod registry;
pub mod split;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::{CLASSES, INPUTS};
pub use fetch::Locator;
pub use registry::{DatasetId, FILES};

/// Labelled images, `n x 784` pixels as bytes.
#[derive(Clone, Debug)]
pub struct Samples {
    /// `n * 784` pixels, row-major.
    pub pixels: Vec<u8>,
    /// `n` labels in `0..10`.
    pub labels: Vec<u8>,
}

impl Samples {
    /// Sample count.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// The 784 pixels of sample `i`.
    #[inline]
    pub(crate) fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * INPUTS..(i + 1) * INPUTS]
    }
}

/// Which data to load: a known dataset by name, or a folder of the four
/// IDX files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetSpec {
    /// MNIST or Fashion-MNIST, found or downloaded by a [`Locator`].
    Named(DatasetId),
    /// A folder holding the four files (plain or gzip); verified against
    /// a `CHECKSUMS.sha256` or `SHA256SUMS` in it or its parent, if any.
    Folder(PathBuf),
}

impl DatasetSpec {
    /// A known name, else an existing folder.
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(id) = DatasetId::parse(s) {
            return Ok(DatasetSpec::Named(id));
        }
        let p = PathBuf::from(s);
        if p.is_dir() {
            return Ok(DatasetSpec::Folder(p));
        }
        Err(Error::usage(format!(
            "--dataset {s}: not a known dataset (mnist, fashion-mnist) nor an existing folder"
        )))
    }

    /// The name recorded for this spec.
    pub fn label(&self) -> String {
        match self {
            DatasetSpec::Named(id) => id.name().to_string(),
            DatasetSpec::Folder(p) => p.display().to_string(),
        }
    }
}

/// A loaded dataset: the training pool and the official test set.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// What was asked for.
    pub spec: DatasetSpec,
    /// The 60k (or fixture-sized) training pool.
    pub pool: Samples,
    /// The 10k (or fixture-sized) test set.
    pub test: Samples,
    /// The four files read, in [`FILES`] order.
    pub files: Vec<PathBuf>,
    /// Their SHA-256, same order.
    pub sha256: Vec<String>,
}

/// Loads `spec`, finding named datasets through `loc`.
pub fn load(spec: &DatasetSpec, loc: &Locator) -> Result<Dataset> {
    let files: Vec<PathBuf> = match spec {
        DatasetSpec::Named(id) => loc.locate(*id)?.to_vec(),
        DatasetSpec::Folder(dir) => folder_files(dir)?,
    };
    load_files(spec, files)
}

/// Reads the four `files` of `spec` (in [`FILES`] order).
fn load_files(spec: &DatasetSpec, files: Vec<PathBuf>) -> Result<Dataset> {
    let sha256 = files
        .iter()
        .map(|f| fetch::sha256_file(f))
        .collect::<Result<Vec<_>>>()?;
    if let DatasetSpec::Folder(dir) = spec {
        verify_with_manifest(dir, &files, &sha256)?;
    }
    let pool = read_pair(&files[0], &files[1])?;
    let test = read_pair(&files[2], &files[3])?;
    Ok(Dataset {
        spec: spec.clone(),
        pool,
        test,
        files,
        sha256,
    })
}

/// Loads the dataset a run recorded: from the files it read, when all
/// four are still there with the recorded checksums; else as `spec`
/// through `loc` (the caller checks those checksums).
pub fn load_recorded(
    spec: &DatasetSpec,
    recorded: &[PathBuf],
    sha256: &[String],
    loc: &Locator,
) -> Result<Dataset> {
    let all_there = recorded.len() == FILES.len() && recorded.iter().all(|f| f.is_file());
    if all_there {
        let sums = recorded
            .iter()
            .map(|f| fetch::sha256_file(f))
            .collect::<Result<Vec<_>>>();
        if sums.is_ok_and(|s| s == sha256) {
            return load_files(spec, recorded.to_vec());
        }
    }
    load(spec, loc)
}

/// The four files in `dir`, `.gz` or uncompressed.
fn folder_files(dir: &Path) -> Result<Vec<PathBuf>> {
    FILES
        .iter()
        .map(|f| {
            let gz = dir.join(f);
            let plain = dir.join(f.trim_end_matches(".gz"));
            if gz.is_file() {
                Ok(gz)
            } else if plain.is_file() {
                Ok(plain)
            } else {
                Err(Error::data(dir, format!("missing {f} (or its uncompressed form); a dataset folder holds the four IDX files")))
            }
        })
        .collect()
}

/// Checks files against a `CHECKSUMS.sha256`/`SHA256SUMS` manifest in
/// `dir` or its parent (sha256sum format) where one lists them.
fn verify_with_manifest(dir: &Path, files: &[PathBuf], sums: &[String]) -> Result<()> {
    let mut places = vec![dir.to_path_buf()];
    if let Some(p) = dir.parent() {
        places.push(p.to_path_buf());
    }
    for place in places {
        for name in ["CHECKSUMS.sha256", "SHA256SUMS"] {
            let manifest = place.join(name);
            let Ok(text) = std::fs::read_to_string(&manifest) else {
                continue;
            };
            for line in text.lines() {
                let mut parts = line.split_whitespace();
                let (Some(want), Some(rel)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let listed = place.join(rel.trim_start_matches('*'));
                for (f, got) in files.iter().zip(sums) {
                    if same_file(&listed, f) && !want.eq_ignore_ascii_case(got) {
                        return Err(Error::data(
                            f,
                            format!(
                                "checksum mismatch: SHA-256 is {got}, {} says {want}",
                                manifest.display()
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn read_pair(images: &Path, labels: &Path) -> Result<Samples> {
    let img = idx::read_images(images, 28, 28)?;
    let lab = idx::read_labels(labels, CLASSES)?;
    if img.n != lab.len() {
        return Err(Error::data(
            labels,
            format!(
                "has {} labels but {} has {} images",
                lab.len(),
                images.display(),
                img.n
            ),
        ));
    }
    Ok(Samples {
        pixels: img.pixels,
        labels: lab,
    })
}
