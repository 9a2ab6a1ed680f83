//! Every environment variable preinterp reads is in `--help`.

use std::path::Path;

use crate::util::{preinterp, root, stdout};

/// The `PREINTERP_*` names in the Rust files under `dir`.
fn names_in(dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            names_in(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for (i, _) in text.match_indices("PREINTERP_") {
                let name: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
}

#[test]
fn every_environment_variable_read_is_in_help() {
    let mut names = vec![];
    names_in(&root().join("src"), &mut names);
    // Set by build.rs when compiling, not read when running.
    names.retain(|n| n != "PREINTERP_RUSTC" && n != "PREINTERP_COMMIT");
    assert!(names.len() >= 8, "{names:?}");
    let cache = tempfile::tempdir().unwrap();
    let help = stdout(&preinterp(&["--help"], cache.path()));
    assert!(help.contains("Environment:"), "{help}");
    for n in names.iter().chain(&["XDG_CACHE_HOME".to_string()]) {
        assert!(help.contains(n.as_str()), "{n} is not in --help:\n{help}");
    }
    // A flag's variable shows beside the flag.
    for cmd in ["train", "fetch"] {
        let help = stdout(&preinterp(&[cmd, "--help"], cache.path()));
        // The help is wrapped to the terminal: compare words, not lines.
        let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains("[env: PREINTERP_MIRROR"), "{cmd}: {help}");
    }
}
