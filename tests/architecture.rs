//! The import graph, file by file, from the source: the library never
//! imports the CLI (nor clap, indicatif, ctrlc), and no two files import
//! each other, directly or around a longer circle. Keeps the layering of
//! issues 10 and 18 from eroding.
//!
//! A file imports another when its code (tests and comments left out)
//! names an item through a path that resolves into the other file's
//! module: `crate::a::b::Item`, `super::x`, `self::x`, `use` trees with
//! braces, and, in the binary, `preinterp::a::b` into the library. A path
//! is resolved to the deepest module that exists as a file, so
//! `crate::sweep::collect::Row` is an import of `src/sweep/collect.rs`,
//! and `super::Sweep` from `src/sweep/run.rs` one of `src/sweep/mod.rs`.
//! Paths that start at a child module (`child::f`, `pub use child::X`
//! in the parent that declares `mod child;`) are not counted: a parent
//! module is its children's facade (the same convention as the
//! before-stop hook's `circles.py`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::root;

/// A module path from its crate's root: `["sweep", "collect"]`.
type ModPath = Vec<String>;

/// One crate's files by module path, and the files' import edges.
#[derive(Default)]
struct Graph {
    files: BTreeMap<ModPath, PathBuf>,
    edges: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

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

/// `src/a/b.rs` -> `["a", "b"]`, `src/a/mod.rs` -> `["a"]`, `src/lib.rs`
/// and `src/main.rs` -> `[]`.
fn mod_path(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file's code without its `#[cfg(test)]` items (matched by braces)
/// and comments.
fn code(text: &str) -> String {
    let mut text = text.to_string();
    while let Some(i) = text.find("#[cfg(test)]") {
        let rest = &text[i..];
        let end = match (rest.find('{'), rest.find(';')) {
            (Some(o), Some(s)) if s < o => i + s + 1,
            (Some(o), _) => {
                let mut depth = 0;
                let mut end = text.len();
                for (j, c) in text[i + o..].char_indices() {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    if depth == 0 {
                        end = i + o + j + 1;
                        break;
                    }
                }
                end
            }
            _ => text.len(),
        };
        text.replace_range(i..end, "");
    }
    text.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string (a URL) is not a comment.
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a `use` tree names, with braces expanded:
/// `crate::a::{b, c::{d, e}}` -> `crate::a::b`, `crate::a::c::d`, ...
fn expand_use(tree: &str) -> Vec<String> {
    // `x as y` names x; spaces do not matter.
    let mut words = tree.split_whitespace();
    let mut tree = String::new();
    while let Some(w) = words.next() {
        if w == "as" {
            let renamed = words.next().unwrap_or("");
            tree.extend(
                renamed
                    .chars()
                    .skip_while(|c| c.is_alphanumeric() || *c == '_'),
            );
        } else {
            tree.push_str(w);
        }
    }
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let close = tree.rfind('}').filter(|&c| c > open).unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    let mut parts = vec![];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            expand_use(p)
                .into_iter()
                .map(move |x| format!("{prefix}{x}"))
        })
        .collect()
}

/// Every path in `code` that starts with one of `roots` (`crate`,
/// `super`, `self`, a crate's name), `use` trees expanded.
fn paths(code: &str, roots: &[&str]) -> Vec<Vec<String>> {
    let mut out = vec![];
    // `use` statements start a line and may span several.
    let mut stmt: Option<String> = None;
    for line in code.lines() {
        let t = line.trim_start();
        let t = t
            .strip_prefix("pub(crate) ")
            .or(t.strip_prefix("pub(super) "))
            .unwrap_or(t);
        let t = t.strip_prefix("pub ").unwrap_or(t);
        if stmt.is_none() && t.starts_with("use ") {
            stmt = Some(String::new());
        }
        if let Some(s) = &mut stmt {
            s.push_str(line);
            s.push(' ');
            if line.contains(';') {
                let s = stmt.take().unwrap_or_default();
                let body = s.trim_start();
                let body = &body[body.find("use ").map_or(0, |i| i + 4)..];
                out.extend(expand_use(body.split(';').next().unwrap_or("")));
            }
        }
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    out.extend(code.split(|c: char| !word(c)).map(str::to_string));
    out.into_iter()
        .map(|p| {
            p.split("::")
                .map(str::to_string)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|p| p.len() > 1 && roots.contains(&p[0].as_str()))
        .collect()
}

impl Graph {
    /// The files of one crate: those of `src` that `keep` keeps; paths
    /// into `other` (a crate's name and graph) resolve there.
    fn of(src: &Path, keep: impl Fn(&Path) -> bool, other: Option<(&str, &Graph)>) -> Graph {
        let mut all = vec![];
        rust_files(src, &mut all);
        let mut g = Graph::default();
        for f in all.into_iter().filter(|f| keep(f)) {
            g.files.insert(mod_path(src, &f), f);
        }
        let texts: Vec<(ModPath, String)> = g
            .files
            .iter()
            .map(|(m, f)| (m.clone(), code(&std::fs::read_to_string(f).unwrap())))
            .collect();
        for (me, text) in texts {
            let mut deps = BTreeSet::new();
            let mut roots = vec!["crate", "super", "self"];
            roots.extend(other.map(|o| o.0));
            for p in paths(&text, &roots) {
                let dep = match p[0].as_str() {
                    "crate" => g.resolve(&p[1..]),
                    "super" => {
                        let up = p.iter().take_while(|s| *s == "super").count();
                        let base = me[..me.len().saturating_sub(up)].to_vec();
                        g.resolve(&[base, p[up..].to_vec()].concat())
                    }
                    "self" => g.resolve(&[me.clone(), p[1..].to_vec()].concat()),
                    _ => other.and_then(|o| {
                        o.1.resolve(&p[1..]).map(|m| {
                            let mut tagged = vec![format!("<{}>", o.0)];
                            tagged.extend(m);
                            tagged
                        })
                    }),
                };
                if let Some(d) = dep.filter(|d| *d != me) {
                    deps.insert(d);
                }
            }
            g.edges.insert(me, deps);
        }
        g
    }

    /// The deepest module of `path` that is a file here.
    fn resolve(&self, path: &[String]) -> Option<ModPath> {
        (0..=path.len())
            .rev()
            .map(|k| path[..k].to_vec())
            .find(|m| self.files.contains_key(m))
    }

    /// A circle of imports, if there is one (depth-first search: a file
    /// reached again while still on the path closes a circle).
    fn circle(&self) -> Option<Vec<ModPath>> {
        fn visit(
            n: &ModPath,
            g: &Graph,
            done: &mut BTreeSet<ModPath>,
            path: &mut Vec<ModPath>,
        ) -> Option<Vec<ModPath>> {
            if let Some(at) = path.iter().position(|p| p == n) {
                let mut c = path[at..].to_vec();
                c.push(n.clone());
                return Some(c);
            }
            if !done.insert(n.clone()) {
                return None;
            }
            path.push(n.clone());
            for m in g.edges.get(n).into_iter().flatten() {
                if let Some(c) = visit(m, g, done, path) {
                    return Some(c);
                }
            }
            path.pop();
            None
        }
        let mut done = BTreeSet::new();
        self.edges
            .keys()
            .find_map(|n| visit(n, self, &mut done, &mut vec![]))
    }
}

fn show(c: &[ModPath]) -> String {
    c.iter()
        .map(|m| {
            if m.is_empty() {
                "lib".into()
            } else {
                m.join("/")
            }
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// The library (`src/` but `main.rs` and `cli/`) and the binary
/// (`main.rs` and `cli/`, importing the library as `preinterp::`).
fn crates() -> (Graph, Graph) {
    let src = root().join("src");
    let in_bin = |f: &Path| f == src.join("main.rs") || f.starts_with(src.join("cli"));
    let lib = Graph::of(&src, |f| !in_bin(f), None);
    let bin = Graph::of(&src, in_bin, Some(("preinterp", &lib)));
    (lib, bin)
}

#[test]
fn the_library_never_imports_the_cli_or_its_crates() {
    let (lib, _) = crates();
    let mut offenders = vec![];
    for f in lib.files.values() {
        let text = code(&std::fs::read_to_string(f).unwrap());
        for bad in ["crate::cli", "clap::", "use clap", "indicatif", "ctrlc"] {
            if text.contains(bad) {
                offenders.push(format!("{} ({bad})", f.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the library uses the CLI's crates: {offenders:?}"
    );
    let lib_rs = code(&std::fs::read_to_string(root().join("src/lib.rs")).unwrap());
    assert!(!lib_rs.contains("mod cli"), "src/lib.rs declares the CLI");
}

#[test]
fn no_two_files_import_each_other() {
    let (lib, bin) = crates();
    for (name, g) in [("library", &lib), ("binary", &bin)] {
        if let Some(c) = g.circle() {
            panic!("import circle in the {name}: {}", show(&c));
        }
    }
    // The check sees the real graph, file by file (not an empty one).
    let has = |g: &Graph, a: &str, b: &str| {
        let m = |s: &str| s.split('/').map(String::from).collect::<ModPath>();
        g.edges.get(&m(a)).is_some_and(|d| d.contains(&m(b)))
    };
    assert!(lib.files.len() > 80, "{} library files", lib.files.len());
    assert!(has(&lib, "sweep/run", "run") && has(&lib, "run", "train"));
    assert!(has(&lib, "record/read", "record/schema"));
    assert!(bin.edges.values().flatten().any(|d| d[0] == "<preinterp>"));
}

#[test]
fn a_circle_would_be_found() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    let write = |p: &str, s: &str| std::fs::write(src.join(p), s).unwrap();
    write("lib.rs", "pub mod a;\npub mod b;\n");
    write("a/mod.rs", "//! a\npub mod x;\npub mod y;\n");
    write("a/x.rs", "use super::y::Thing;\n");
    write(
        "a/y.rs",
        "pub struct Thing;\n#[cfg(test)]\nmod tests { use crate::a::x; }\n",
    );
    write("b.rs", "use crate::{a::{x::F, y}, Thing};\n");
    let g = Graph::of(&src, |_| true, None);
    assert_eq!(g.circle(), None);
    let m = |s: &str| s.split('/').map(String::from).collect::<ModPath>();
    assert_eq!(g.edges[&m("a/x")], [m("a/y")].into());
    // An item of the crate root is an import of lib.rs.
    assert_eq!(g.edges[&m("b")], [vec![], m("a/x"), m("a/y")].into());
    // The test module's import does not count; the same line in code does.
    write("a/y.rs", "pub struct Thing;\nfn f() { crate::a::x::g() }\n");
    let g = Graph::of(&src, |_| true, None);
    assert_eq!(show(&g.circle().unwrap()), "a/x -> a/y -> a/x");
    assert_eq!(
        expand_use("crate::a::{b, c::{d, e as f}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
}
