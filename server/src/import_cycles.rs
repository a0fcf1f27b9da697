//! A check that no modules import each other in a circle (issue 17), for the
//! server's crate and the terminal client's network code.
//!
//! Every `crate::…` and `super::…` path outside comments and test modules is
//! resolved to the module it names; an import between two modules counts
//! between the two siblings under their nearest common parent (a module and
//! its own children are one part, not a circle). Among the children of each
//! module, a circle of imports fails the test with the modules involved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path of a source file under `root`: `hub/sessions.rs` → `[hub, sessions]`.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).expect("under the root");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without line comments and without its test module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path after `crate::` or `super::` (with `{a, b::c}` groups expanded),
/// as its first keyword and its segments.
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(i) = rest.find(start) {
            let before = rest[..i].chars().last();
            rest = &rest[i + start.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let keyword = start.trim_end_matches("::").to_owned();
            let mut supers = vec![keyword];
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                supers.push("super".into());
                tail = t;
            }
            for segs in expand(tail) {
                out.push((supers.join("::"), segs));
            }
        }
    }
    out
}

/// The paths one `use` tail names: `a::b::C` or `a::{b, c::D}`.
fn expand(tail: &str) -> Vec<Vec<String>> {
    let mut segs = Vec::new();
    let mut s = tail;
    loop {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        if end == 0 {
            break;
        }
        segs.push(s[..end].to_owned());
        s = &s[end..];
        match s.strip_prefix("::") {
            Some(t) => s = t,
            None => return vec![segs],
        }
    }
    if let Some(group) = s.strip_prefix('{') {
        let mut depth = 0;
        let mut item = String::new();
        let mut out = Vec::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.extend(
                        expand(item.trim())
                            .into_iter()
                            .map(|t| [segs.clone(), t].concat()),
                    );
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        out.extend(
            expand(item.trim())
                .into_iter()
                .map(|t| [segs.clone(), t].concat()),
        );
        return out;
    }
    vec![segs]
}

/// The circles of imports among sibling modules of the crate at `root`
/// (its `src`), within `under` (a module path; empty for the whole crate).
fn circles(root: &Path, under: &[&str]) -> Vec<Vec<String>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(root, f)).collect();
    // Sibling edges, by parent module.
    let mut edges: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let from = module_of(root, file);
        let text = std::fs::read_to_string(file).expect("read source");
        for (keyword, segs) in paths(&code(&text)) {
            let mut base: Vec<String> = if keyword == "crate" {
                Vec::new()
            } else {
                // One level up per `super`.
                let mut b = from.clone();
                for _ in 0..keyword.split("::").count() {
                    b.pop();
                }
                b
            };
            // The deepest module the path names.
            let mut target = base.clone();
            for s in &segs {
                base.push(s.clone());
                if modules.contains(&base) {
                    target = base.clone();
                } else {
                    break;
                }
            }
            let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == target.len() {
                continue; // a module and its own parent or child
            }
            edges
                .entry(from[..common].to_vec())
                .or_default()
                .entry(from[common].clone())
                .or_default()
                .insert(target[common].clone());
        }
    }
    let mut found = Vec::new();
    for (parent, graph) in &edges {
        if !parent.starts_with(&under.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()) {
            continue;
        }
        for comp in strongly_connected(graph) {
            let prefix = parent.join("::");
            found.push(comp.into_iter().map(|m| format!("{prefix}::{m}")).collect());
        }
    }
    found
}

/// The groups of two or more nodes that reach each other (Tarjan).
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.stack.contains(&w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_server_has_no_import_circles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert_eq!(circles(&root, &[]), Vec::<Vec<String>>::new());
}

#[test]
fn the_clients_network_code_has_no_import_circles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tui-client/src");
    assert_eq!(circles(&root, &["net"]), Vec::<Vec<String>>::new());
}

#[test]
fn a_circle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "mod a; mod b; mod c;").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::Thing;").unwrap();
    std::fs::write(src.join("b.rs"), "use super::{c::Other, d};").unwrap();
    std::fs::write(src.join("c.rs"), "use crate::a;\n// use crate::b;").unwrap();
    assert_eq!(
        circles(src, &[]),
        vec![vec!["::a".to_owned(), "::b".to_owned(), "::c".to_owned()]]
    );
    std::fs::write(src.join("c.rs"), "// use crate::a;").unwrap();
    assert!(circles(src, &[]).is_empty());
}
