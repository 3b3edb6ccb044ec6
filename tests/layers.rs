//! The service's layering, checked: every `crate::…` and `super::…` path in
//! `src/service` is read, and the test fails when a module uses one in a layer above
//! it (or beside it), or when files of one module use each other in a circle.
//!
//! Between crates Cargo already refuses upward imports (the service cannot name the
//! tools); inside the service crate this test is the fence. The layers are the ones
//! `src/service/lib.rs` and ARCHITECTURE.md name, lowest first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules of the service, lowest layer first; a module may use only
/// modules of strictly lower layers.
const LAYERS: &[&[&str]] = &[
    &["config"],
    &["telemetry"],
    &["audio"],
    &["catalog"],
    &["media", "store"],
    &["model"],
    &["listener"],
    &["cluster"],
    &["http"],
    &["node"],
    &["admin"],
];

fn service_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service")
}

/// A source file and the module path it defines (`["cluster", "view"]`).
struct SourceFile {
    module: Vec<String>,
    text: String,
}

fn source_files() -> Vec<SourceFile> {
    let root = service_root();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src/service") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).expect("under root");
                let mut module: Vec<String> = rel
                    .with_extension("")
                    .iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect();
                if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push(SourceFile { module, text });
            }
        }
    }
    out
}

/// The text with comments and string literals blanked, so paths in docs and
/// messages don't count.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3; // a char literal such as '"'
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn ident_at(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// The first path segment(s) after each occurrence of `prefix` (`crate::` or
/// `super::`), following one level of `{a, b::c}` groups.
fn segments_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(pos) = rest.find(prefix) {
        let before = rest[..pos].chars().last();
        rest = &rest[pos + prefix.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // e.g. `spoofify_service::` is not `crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                if let Some(id) = ident_at(item.trim()) {
                    out.push(id.to_string());
                }
            }
        } else if let Some(id) = ident_at(rest) {
            out.push(id.to_string());
        }
    }
    out
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn every_top_level_module_has_a_layer() {
    let files = source_files();
    let tops: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.module.first().map(String::as_str))
        .collect();
    let missing: Vec<_> = tops.iter().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "modules without a layer in LAYERS: {missing:?}"
    );
    assert!(
        tops.len() >= 10,
        "found only {tops:?}: is the service under src/service?"
    );
}

#[test]
fn modules_use_only_lower_layers() {
    let mut violations = Vec::new();
    for f in source_files() {
        let Some(top) = f.module.first() else {
            continue;
        };
        let Some(own) = layer_of(top) else { continue };
        for used in segments_after(&code_only(&f.text), "crate::") {
            if used == *top || used == "self" {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                Some(_) => violations.push(format!("{} uses crate::{used}", f.module.join("::"))),
                None => {} // an item re-exported at the crate root, or a macro path
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports that point up or sideways (see LAYERS):\n{}",
        violations.join("\n")
    );
}

/// Which sibling a `crate::`/`super::` path from `file` lands on inside `parent`.
fn sibling_edges(file: &SourceFile, parent: &[String]) -> BTreeSet<String> {
    let code = code_only(&file.text);
    let mut out = BTreeSet::new();
    let own = &file.module[parent.len()];
    // crate::<parent…>::<sibling>
    let mut absolute = String::from("crate::");
    for p in parent {
        absolute.push_str(p);
        absolute.push_str("::");
    }
    for id in segments_after(&code, &absolute) {
        out.insert(id);
    }
    // super::<sibling> from a direct child file; super::super::<sibling> from a grandchild
    let depth_below = file.module.len() - parent.len(); // 1 = direct child
    let sup = "super::".repeat(depth_below);
    for id in segments_after(&code, &sup) {
        if id != "super" {
            out.insert(id);
        }
    }
    out.remove(own);
    out
}

#[test]
fn no_circles_between_files_of_a_module() {
    let files = source_files();
    let mut modules: BTreeSet<Vec<String>> = BTreeSet::new();
    for f in &files {
        for n in 0..f.module.len() {
            modules.insert(f.module[..n].to_vec());
        }
    }
    let mut circles = Vec::new();
    for parent in &modules {
        // The files below `parent`, and its children: direct submodules (a file or a folder).
        let below: Vec<&SourceFile> = files
            .iter()
            .filter(|f| f.module.len() > parent.len() && f.module.starts_with(parent))
            .collect();
        let children: BTreeSet<String> = below
            .iter()
            .map(|f| f.module[parent.len()].clone())
            .collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in below {
            let from = f.module[parent.len()].clone();
            // A `#[cfg(test)] mod tests;` file may use what it tests.
            if from == "tests" {
                continue;
            }
            for to in sibling_edges(f, parent) {
                if children.contains(&to) {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
        if let Some(cycle) = find_cycle(&edges) {
            circles.push(format!("in {}: {}", display(parent), cycle.join(" → ")));
        }
    }
    assert!(
        circles.is_empty(),
        "files that use each other in a circle (the facade mod.rs is exempt):\n{}",
        circles.join("\n")
    );
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "the crate root".into()
    } else {
        module.join("::")
    }
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        if let Some(c) = visit(start, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_checker_sees_an_upward_import_and_a_circle() {
    let code =
        code_only("use crate::{http::X, store};\n// crate::node\nlet s = \"crate::cluster\";");
    assert_eq!(segments_after(&code, "crate::"), vec!["http", "store"]);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    assert!(find_cycle(&edges).is_none());
    edges.entry("b".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
