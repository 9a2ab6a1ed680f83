//! Where the dataset cache is: `$PREINTERP_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/preinterp`, else `~/.cache/preinterp`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The cache folder the given environment values name; `None` when none
/// of them is set. An empty value counts as unset, and so does a relative
/// `XDG_CACHE_HOME` (the XDG base directory specification says to ignore
/// it); `PREINTERP_CACHE_DIR` is taken as it is.
pub(crate) fn cache_dir_from(
    preinterp_cache_dir: Option<OsString>,
    xdg_cache_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    set(preinterp_cache_dir)
        .or_else(|| {
            set(xdg_cache_home)
                .filter(|p| p.is_absolute())
                .map(|p| p.join("preinterp"))
        })
        .or_else(|| set(home).map(|p| Path::new(&p).join(".cache").join("preinterp")))
}

/// The cache folder of this process (see [`cache_dir_from`]).
pub(crate) fn cache_dir() -> Option<PathBuf> {
    let var = std::env::var_os;
    cache_dir_from(
        var("PREINTERP_CACHE_DIR"),
        var("XDG_CACHE_HOME"),
        var("HOME"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(p: Option<&str>, x: Option<&str>, h: Option<&str>) -> Option<PathBuf> {
        cache_dir_from(p.map(Into::into), x.map(Into::into), h.map(Into::into))
    }

    #[test]
    fn preinterp_cache_dir_then_xdg_then_home() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(at(Some("/c"), Some("/x"), Some("/h")), p("/c"));
        assert_eq!(at(None, Some("/x"), Some("/h")), p("/x/preinterp"));
        assert_eq!(at(None, None, Some("/h")), p("/h/.cache/preinterp"));
        assert_eq!(at(None, None, None), None);
        // Empty values are unset.
        assert_eq!(at(Some(""), Some(""), Some("/h")), p("/h/.cache/preinterp"));
        assert_eq!(at(Some(""), Some("/x"), None), p("/x/preinterp"));
        // A relative XDG_CACHE_HOME is ignored; a relative
        // PREINTERP_CACHE_DIR is used as given.
        assert_eq!(at(None, Some("rel"), Some("/h")), p("/h/.cache/preinterp"));
        assert_eq!(at(None, Some("rel"), None), None);
        assert_eq!(at(Some("rel"), None, None), p("rel"));
    }
}
