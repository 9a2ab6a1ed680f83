//! Shared helpers: paths to fixtures, running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// The real datasets beside the checkout (CI has `../shared`).
pub fn shared_datasets() -> PathBuf {
    root().join("../shared/datasets")
}

/// `preinterp ARGS` with a clean environment for data lookup.
pub fn preinterp(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_preinterp"))
        .args(args)
        .env_remove("PREINTERP_DATA_DIR")
        .env_remove("PREINTERP_MIRROR")
        .env("PREINTERP_CACHE_DIR", cache)
        .output()
        .expect("run preinterp")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Copies the four files of a fixture dataset into `dst`.
pub fn copy_fixture(name: &str, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for f in preinterp::data::FILES {
        std::fs::copy(fixtures().join(name).join(f), dst.join(f)).unwrap();
    }
}
