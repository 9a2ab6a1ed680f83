//! The module graph, from the source: the library never imports the CLI
//! (nor clap, indicatif or ctrlc), which is the binary's (`src/main.rs`
//! declares `src/cli`), and its top-level modules import each other
//! without a circle. Keeps the layering of issues 10 and 18 from eroding.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::root;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/foo.rs` and `src/foo/...` belong to module `foo`.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The file's code without its `#[cfg(test)] mod tests { .. }` block
/// (matched by braces) and comments.
fn code(text: &str) -> String {
    let mut text = text.to_string();
    if let Some(i) = text.find("#[cfg(test)]\nmod tests {") {
        let open = i + text[i..].find('{').unwrap();
        let mut depth = 0;
        let mut end = text.len();
        for (j, c) in text[open..].char_indices() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth == 0 {
                end = open + j + 1;
                break;
            }
        }
        text.replace_range(i..end, "");
    }
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::NAME` the code names.
fn crate_refs(code: &str) -> BTreeSet<String> {
    code.match_indices("crate::")
        .map(|(i, _)| {
            code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|m| !m.is_empty())
        .collect()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let top = top_module(&src, &f);
        let text = code(&std::fs::read_to_string(&f).unwrap());
        let refs = crate_refs(&text);
        // `use crate::{a, b::c}` names modules inside braces.
        let mut braced = BTreeSet::new();
        for (i, _) in text.match_indices("use crate::{") {
            let inner = &text[i + 12..i + 12 + text[i + 12..].find('}').unwrap_or(0)];
            for part in inner.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                braced.insert(name);
            }
        }
        let deps = g.entry(top.clone()).or_default();
        deps.extend(
            refs.into_iter()
                .chain(braced)
                .filter(|m| *m != top && !m.is_empty()),
        );
    }
    g
}

#[test]
fn the_library_never_imports_the_cli_or_clap() {
    let src = root().join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut offenders = vec![];
    for f in files {
        let top = top_module(&src, &f);
        if top == "cli" || top == "main" {
            continue;
        }
        let text = code(&std::fs::read_to_string(&f).unwrap());
        let binary_only = ["crate::cli", "clap::", "use clap", "indicatif", "ctrlc"];
        if binary_only.iter().any(|b| text.contains(b)) {
            offenders.push(f.display().to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "import the CLI or clap: {offenders:?}"
    );
    // The CLI is part of the binary only.
    let lib = code(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(!lib.contains("mod cli"), "lib.rs declares the cli module");
    let main = code(&std::fs::read_to_string(src.join("main.rs")).unwrap());
    assert!(main.contains("mod cli;"), "main.rs does not declare cli");
    let g = graph();
    let users: Vec<&String> = g
        .iter()
        .filter(|(m, deps)| *m != "cli" && deps.contains("cli"))
        .map(|(m, _)| m)
        .collect();
    assert!(users.is_empty(), "modules importing cli: {users:?}");
}

/// A circle of imports in `g`, if there is one (depth-first search:
/// a node reached again while still on the path closes a circle).
fn find_circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut c = path[at..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(n, g, &mut done, &mut vec![]))
}

#[test]
fn the_module_graph_has_no_circle() {
    let g = graph();
    if let Some(c) = find_circle(&g) {
        panic!("import circle: {}", c.join(" -> "));
    }
    // The check sees the real graph (not an empty one).
    assert!(g["sweep"].contains("run") && g["run"].contains("train"));
}

#[test]
fn a_circle_would_be_found() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_circle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_circle(&g).map(|c| c.len()), Some(4));
    let refs = crate_refs("use crate::record::x; crate::cli::run();");
    assert_eq!(refs, ["cli", "record"].map(String::from).into());
}
