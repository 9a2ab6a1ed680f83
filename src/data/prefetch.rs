//! Putting datasets into a folder ahead of time (`preinterp fetch`): on a
//! machine with network, for machines without (a cluster's compute
//! nodes), which then find them with `--data-dir` or
//! `$PREINTERP_DATA_DIR`. The downloads are [`fill`]'s, as for `train`:
//! verified by SHA-256, through a temp file renamed into place.

use std::fs;
use std::path::{Path, PathBuf};

use super::cache::cache_dir;
use super::fetch::{fill, mirror_urls, Step, DATASET_PLACEHOLDER};
use super::registry::DatasetId;
use crate::error::{Error, ErrorKind, Result};

/// Where to put the datasets and where to get them.
#[derive(Clone, Debug, Default)]
pub struct PrefetchOpts {
    /// The folder to fill, one subfolder per dataset (`mnist/`,
    /// `fashion-mnist/`); `None`: the cache folder.
    pub to: Option<PathBuf>,
    /// Replaces the canonical mirrors; `{dataset}` in it stands for the
    /// dataset's name.
    pub mirror: Option<String>,
    /// Whether missing files may be downloaded; if not, the files already
    /// in the folder are only verified.
    pub allow_download: bool,
}

/// What a prefetch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefetched {
    /// The folder filled, absolute; dataset `id` is in `dir/<id>`.
    pub dir: PathBuf,
    /// Whether `dir` is the cache folder (no `to` was given).
    pub is_cache: bool,
    /// Files downloaded.
    pub downloaded: usize,
    /// Files that were there already, verified.
    pub reused: usize,
}

/// Puts the four files of each of `ids` into `o.to` (or the cache),
/// telling `on` each file's steps. A file already there with its
/// canonical SHA-256 is not downloaded again; one with another checksum
/// is an error naming it. The first failure stops the fetch; the files
/// fetched before it stay.
pub fn prefetch(
    ids: &[DatasetId],
    o: &PrefetchOpts,
    on: &mut dyn FnMut(DatasetId, Step<'_>),
) -> Result<Prefetched> {
    if let Some(m) = &o.mirror {
        if ids.len() > 1 && !m.contains(DATASET_PLACEHOLDER) {
            return Err(Error::usage(format!(
                "--mirror {m}: one URL cannot serve both datasets' files (they have the same names); put {DATASET_PLACEHOLDER} in it (e.g. http://host/{DATASET_PLACEHOLDER}/) or fetch one dataset at a time"
            )));
        }
    }
    let (dir, is_cache) = match &o.to {
        Some(d) => (d.clone(), false),
        None => (cache_dir().ok_or_else(no_cache)?, true),
    };
    let dir = std::path::absolute(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut done = Prefetched {
        dir,
        is_cache,
        downloaded: 0,
        reused: 0,
    };
    for &id in ids {
        let dest = done.dir.join(id.name());
        make_folder(&dest, o.allow_download)?;
        let mirrors = mirror_urls(id, o.mirror.as_deref());
        fill(id, &dest, &mirrors, o.allow_download, &mut |step| {
            match step {
                Step::Verified(_) => done.reused += 1,
                Step::Downloaded(..) => done.downloaded += 1,
                Step::Downloading(..) => {}
            }
            on(id, step)
        })?;
    }
    Ok(done)
}

/// Creates `dest` when downloads may fill it; else it must exist.
fn make_folder(dest: &Path, allow_download: bool) -> Result<()> {
    if !allow_download {
        if dest.is_dir() {
            return Ok(());
        }
        return Err(Error::new(
            ErrorKind::Data,
            format!("{}: no such folder, and downloads are off", dest.display()),
        ));
    }
    fs::create_dir_all(dest).map_err(|e| Error::io(dest, format!("cannot create the folder: {e}")))
}

fn no_cache() -> Error {
    Error::usage(
        "no cache folder (PREINTERP_CACHE_DIR, XDG_CACHE_HOME and HOME are unset); pass --to DIR",
    )
}
