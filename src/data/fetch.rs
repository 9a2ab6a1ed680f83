//! Finding a dataset's files: `--data-dir`, then `$PREINTERP_DATA_DIR`,
//! then the user cache folder; failing those, a download from the
//! canonical mirrors, verified by SHA-256 and written atomically
//! (temp file + rename), so a failed or corrupt download caches nothing.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

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
    /// from the environment (`PREINTERP_DATA_DIR`, `PREINTERP_CACHE_DIR`,
    /// `XDG_CACHE_HOME`, `HOME`, `PREINTERP_MIRROR`).
    pub fn from_env(
        data_dir: Option<PathBuf>,
        mirror: Option<String>,
        allow_download: bool,
    ) -> Self {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let cache_dir = var("PREINTERP_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("preinterp")))
            .or_else(|| var("HOME").map(|p| p.join(".cache").join("preinterp")));
        Locator {
            data_dir,
            env_dir: var("PREINTERP_DATA_DIR"),
            cache_dir,
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
        let mirrors: Vec<String> = match &self.mirror {
            Some(m) => vec![m.clone()],
            None => id.mirrors().iter().map(|s| s.to_string()).collect(),
        };
        for (file, want) in FILES.iter().zip(id.sha256()) {
            let target = dest.join(file);
            if target.is_file() {
                verify_file(&target, want)?;
                continue;
            }
            let mut errors = vec![];
            let mut done = false;
            for m in &mirrors {
                let url = format!("{}/{file}", m.trim_end_matches('/'));
                match download(&url, &target, want) {
                    Ok(()) => {
                        done = true;
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::Data => return Err(e),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            if !done {
                return Err(Error::new(
                    ErrorKind::Download,
                    format!("could not download {id} ({}); {hint}", errors.join("; ")),
                ));
            }
        }
        Ok(FILES.map(|f| dest.join(f)))
    }
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
        let mut out = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
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
