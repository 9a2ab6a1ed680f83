//! `preinterp fetch`: download and verify the datasets into a folder
//! (the work is `preinterp::data::prefetch`), saying per file what was
//! done and how to point preinterp at the folder elsewhere.

use std::path::Path;

use preinterp::data::fetch::Step;
use preinterp::data::prefetch::{prefetch, PrefetchOpts, Prefetched};
use preinterp::data::DatasetId;
use preinterp::error::{Error, Result};

use super::args::FetchArgs;

/// Runs `preinterp fetch`.
pub(super) fn run(a: &FetchArgs) -> Result<u8> {
    let ids =
        match a.dataset.as_str() {
            "all" => DatasetId::ALL.to_vec(),
            name => vec![DatasetId::parse(name)
                .ok_or_else(|| Error::usage(format!("{name}: not a dataset")))?],
        };
    let o = PrefetchOpts {
        to: a.to.clone(),
        // An empty --mirror (or PREINTERP_MIRROR) means the canonical ones.
        mirror: a.mirror.clone().filter(|m| !m.is_empty()),
        allow_download: !a.no_download,
    };
    let done = prefetch(&ids, &o, &mut show)?;
    let names: Vec<&str> = ids.iter().map(|id| id.name()).collect();
    println!(
        "{} in {}: {} files downloaded, {} already there (verified, not downloaded again)",
        names.join(" and "),
        done.dir.display(),
        done.downloaded,
        done.reused
    );
    where_next(&done);
    Ok(0)
}

/// One line per file step; the start of a download on stderr.
fn show(id: DatasetId, step: Step<'_>) {
    let file = |p: &Path| {
        p.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match step {
        Step::Verified(p) => println!("{id}: {}: already there and verified", file(p)),
        Step::Downloading(p, url) => eprintln!("{id}: {}: downloading {url}", file(p)),
        Step::Downloaded(p, _) => println!("{id}: {}: downloaded and verified", file(p)),
    }
}

/// How to use the folder on a machine without network.
fn where_next(done: &Prefetched) {
    let dir = shell_word(&done.dir.display().to_string());
    if done.is_cache {
        println!("this is the cache, where preinterp finds them with no flags on this machine (and wherever the same cache folder is mounted);");
    }
    println!("on machines without network, with this folder copied or mounted there, use");
    println!("  --data-dir {dir}");
    println!("or");
    println!("  export PREINTERP_DATA_DIR={dir}");
}

/// `s`, quoted for a POSIX shell where it needs it.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/scratch/me/data"), "/scratch/me/data");
        assert_eq!(shell_word("/a b/c"), "'/a b/c'");
        assert_eq!(shell_word("/it's"), r"'/it'\''s'");
    }
}
