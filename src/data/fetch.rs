//! Finding a dataset's files: `--data-dir`, then `$PREINTERP_DATA_DIR`,
//! then the user cache folder ([`cache_dir`]); failing those, a download
//! from the canonical mirrors, verified by SHA-256 and written atomically
//! (temp file + rename), so a failed or corrupt download caches nothing.
//! [`fill`] is the download part, shared with [`super::prefetch`].

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::cache::cache_dir;
use super::registry::{DatasetId, FILES};
use crate::error::{Error, ErrorKind, Result};

/// Where to look for (and put) dataset files.
#[derive(Clone, Debug, Default)]
pub struct Locator {
    /// `--data-dir`, searched first.
    pub data_dir: Option<PathBuf>,
    /// `$PREINTERP_DATA_DIR`, searched second.
    pub env_dir: Option<PathBuf>,
    /// The cache folder, searched last and downloaded into.
    pub cache_dir: Option<PathBuf>,
    /// Replaces the built-in mirrors (`--mirror`, `$PREINTERP_MIRROR`).
    pub mirror: Option<String>,
    /// Whether a download may be attempted.
    pub allow_download: bool,
}

impl Locator {
    /// The locator for this process: `data_dir` from the flag, the rest
    /// from the environment (`PREINTERP_DATA_DIR`, the cache folder of
    /// [`cache_dir`], `PREINTERP_MIRROR`).
    pub fn from_env(
        data_dir: Option<PathBuf>,
        mirror: Option<String>,
        allow_download: bool,
    ) -> Self {
        Locator {
            data_dir,
            env_dir: std::env::var_os("PREINTERP_DATA_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            cache_dir: cache_dir(),
            mirror: mirror.or_else(|| {
                std::env::var("PREINTERP_MIRROR")
                    .ok()
                    .filter(|v| !v.is_empty())
            }),
            allow_download,
        }
    }

    /// Finds (or downloads) the four files of `id`; returns their paths
    /// in [`FILES`] order, each verified against its canonical SHA-256.
    pub(crate) fn locate(&self, id: DatasetId) -> Result<[PathBuf; 4]> {
        if let Some(d) = &self.data_dir {
            if !d.is_dir() {
                return Err(Error::usage(format!(
                    "--data-dir {}: no such folder; pass a folder holding the {id} files ({}, ...), set PREINTERP_DATA_DIR, or leave both unset to download into the cache",
                    d.display(),
                    FILES[0]
                )));
            }
        }
        let mut tried = vec![];
        let candidates = [&self.data_dir, &self.env_dir, &self.cache_dir];
        for dir in candidates.into_iter().flatten() {
            for d in [dir.join(id.name()), dir.clone()] {
                if FILES.iter().all(|f| d.join(f).is_file()) {
                    let paths = FILES.map(|f| d.join(f));
                    for (p, want) in paths.iter().zip(id.sha256()) {
                        verify_file(p, want)?;
                    }
                    return Ok(paths);
                }
                tried.push(d.display().to_string());
            }
        }
        let hint = format!(
            "pass --data-dir with a folder holding {} (and the other three {id} files), or set PREINTERP_DATA_DIR",
            FILES[0]
        );
        let Some(cache) = &self.cache_dir else {
            return Err(Error::new(
                ErrorKind::Data,
                format!("{id} not found (looked in {}); {hint}", tried.join(", ")),
            ));
        };
        if !self.allow_download {
            return Err(Error::new(
                ErrorKind::Data,
                format!(
                    "{id} not found (looked in {}) and downloads are off; {hint}",
                    tried.join(", ")
                ),
            ));
        }
        let dest = cache.join(id.name());
        fs::create_dir_all(&dest)
            .map_err(|e| Error::io(&dest, format!("cannot create the cache folder: {e}")))?;
        let mirrors = mirror_urls(id, self.mirror.as_deref());
        fill(id, &dest, &mirrors, true, &mut |_| {}).map_err(|e| match e.kind() {
            ErrorKind::Download => Error::new(ErrorKind::Download, format!("{e}; {hint}")),
            _ => e,
        })
    }
}

/// The base URLs to download `id` from: `mirror` (with `{dataset}` in
/// it replaced by the dataset's name) if given, else the canonical ones.
pub(crate) fn mirror_urls(id: DatasetId, mirror: Option<&str>) -> Vec<String> {
    match mirror {
        Some(m) => vec![m.replace(DATASET_PLACEHOLDER, id.name())],
        None => id.mirrors().iter().map(|s| s.to_string()).collect(),
    }
}

/// Stands for the dataset's name in a `--mirror` URL.
pub(crate) const DATASET_PLACEHOLDER: &str = "{dataset}";

/// One file's progress through [`fill`], for a caller to show.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    /// The file was already there with its canonical SHA-256; it is not
    /// downloaded again.
    Verified(&'a Path),
    /// A download of the file (first) from this URL begins.
    Downloading(&'a Path, &'a str),
    /// The file was downloaded from this URL and verified.
    Downloaded(&'a Path, &'a str),
}

/// Puts the four files of `id` into the existing folder `dest`: a file
/// already there is verified (a mismatch is a `Data` error naming it), a
/// missing one is downloaded from the first of `mirrors` that serves it
/// when `allow_download` (else it is a `Data` error). Tells `on` each
/// step; returns the paths in [`FILES`] order.
pub(crate) fn fill(
    id: DatasetId,
    dest: &Path,
    mirrors: &[String],
    allow_download: bool,
    on: &mut dyn FnMut(Step<'_>),
) -> Result<[PathBuf; 4]> {
    for (file, want) in FILES.iter().zip(id.sha256()) {
        let target = dest.join(file);
        if target.is_file() {
            verify_file(&target, want)?;
            on(Step::Verified(&target));
        } else if allow_download {
            download_one(id, file, &target, want, mirrors, on)?;
        } else {
            return Err(Error::data(&target, "missing, and downloads are off"));
        }
    }
    Ok(FILES.map(|f| dest.join(f)))
}

/// Downloads `file` of `id` to `target` from the first of `mirrors` that
/// serves it; a checksum mismatch or a local I/O error stops at once, a
/// transport failure moves on to the next mirror.
fn download_one(
    id: DatasetId,
    file: &str,
    target: &Path,
    want: &str,
    mirrors: &[String],
    on: &mut dyn FnMut(Step<'_>),
) -> Result<()> {
    let mut errors = vec![];
    for m in mirrors {
        let url = format!("{}/{file}", m.trim_end_matches('/'));
        on(Step::Downloading(target, &url));
        match download(&url, target, want) {
            Ok(()) => {
                on(Step::Downloaded(target, &url));
                return Ok(());
            }
            Err(e) if e.kind() == ErrorKind::Download => errors.push(e.to_string()),
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(
        ErrorKind::Download,
        format!("could not download {id} ({})", errors.join("; ")),
    ))
}

/// SHA-256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::data(path, format!("cannot open: {e}")))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let k = f
            .read(&mut buf)
            .map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a file's SHA-256 against `want`.
pub(crate) fn verify_file(path: &Path, want: &str) -> Result<()> {
    let got = sha256_file(path)?;
    if got != want {
        return Err(Error::data(
            path,
            format!("checksum mismatch: SHA-256 is {got}, expected {want}; the file is corrupt or not the canonical one"),
        ));
    }
    Ok(())
}

/// Downloads `url` to `dest` through a temp file in the same folder;
/// renames it into place only when its SHA-256 equals `want`. A
/// mismatch is a `Data` error; transport failures are `Download` errors.
pub fn download(url: &str, dest: &Path, want: &str) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("download");
    let tmp = dir.join(format!(".{name}.part-{}", std::process::id()));
    let result = (|| {
        let resp = ureq::get(url)
            .call()
            .map_err(|e| Error::new(ErrorKind::Download, format!("{url}: {e}")))?;
        let mut body = resp.into_body().into_reader();
        let mut out = File::create(&tmp)
            .map_err(|e| Error::io(&tmp, format!("cannot create the download's temp file: {e}")))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let k = body
                .read(&mut buf)
                .map_err(|e| Error::new(ErrorKind::Download, format!("{url}: {e}")))?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            out.write_all(&buf[..k]).map_err(|e| Error::io(&tmp, e))?;
        }
        out.sync_all().map_err(|e| Error::io(&tmp, e))?;
        let got = hex(&h.finalize());
        if got != want {
            return Err(Error::new(
                ErrorKind::Data,
                format!("{url}: checksum mismatch: SHA-256 is {got}, expected {want}; nothing was cached"),
            ));
        }
        fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
