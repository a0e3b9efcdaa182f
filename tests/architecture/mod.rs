//! The architecture check: reads every `src/**/*.rs`, builds the graph of which file
//! uses which (through `use crate::…`, `crate::…`, `super::…`, `self::…` and child
//! module paths), and fails when the files form an import loop or a layer imports one
//! it must not. It reads source text only (no compiler, no dependencies), so it must
//! not be trusted for anything finer than "file A names file B".
//!
//! A module may always use its ancestors (a child is part of its parent), so the edges
//! from a file to the `mod.rs` files above it do not count as loops; every other edge
//! does.

mod paths;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use paths::references;

/// Layers (top-level modules) and the layers each must never import.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("web", &["store"]),
    ("admin_api", &["store", "ops"]),
    (
        "domain",
        &["service", "store", "web", "admin_api", "ops", "app", "cli"],
    ),
    ("service", &["web", "admin_api", "ops", "cli", "app"]),
];

/// A module path, e.g. `["service", "sso", "client"]`; the crate root is empty.
type Module = Vec<String>;

/// One source file of the library.
struct SourceFile {
    /// Relative to the package root, e.g. `src/service/sso/client.rs`.
    path: String,
    module: Module,
    text: String,
}

#[test]
fn the_source_files_form_no_import_loop() {
    let graph = Graph::of_sources(&read_sources());
    let loops = graph.loops();
    assert!(
        loops.is_empty(),
        "import loops between source files (each line is one loop):\n{}",
        loops
            .iter()
            .map(|l| l.join(" → "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn no_layer_imports_one_it_must_not() {
    let graph = Graph::of_sources(&read_sources());
    let mut broken = Vec::new();
    for (from, to) in graph.edges() {
        let (from_layer, to_layer) = (layer_of(from), layer_of(to));
        let forbidden = FORBIDDEN
            .iter()
            .any(|(layer, never)| *layer == from_layer && never.contains(&to_layer));
        if !forbidden {
            continue;
        }
        broken.push(format!(
            "{from} → {to} ({from_layer} must not use {to_layer})"
        ));
    }
    assert!(
        broken.is_empty(),
        "forbidden imports:\n{}",
        broken.join("\n")
    );
}

/// The front doors reach the store only through use cases: besides importing nothing
/// of `store` (checked above), they never call the accessors that the offline CLI,
/// tests and benches use to reach the store or the master key.
#[test]
fn front_doors_never_reach_the_store_or_the_key_through_accessors() {
    let mut found = Vec::new();
    for file in read_sources() {
        if !matches!(layer_of(&file.path), "web" | "admin_api") {
            continue;
        }
        for (n, line) in file.text.lines().enumerate() {
            for accessor in [".store()", ".keys()"] {
                if line.contains(accessor) {
                    found.push(format!("{}:{}: {}", file.path, n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "front doors reaching past the use cases:\n{}",
        found.join("\n")
    );
}

/// The top-level module of a file (`src/web/request.rs` → `web`; `src/app.rs` → `app`).
fn layer_of(path: &str) -> &str {
    let inner = path.strip_prefix("src/").unwrap_or(path);
    let first = inner.split('/').next().unwrap_or(inner);
    first.strip_suffix(".rs").unwrap_or(first)
}

fn read_sources() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    collect_rs(&root.join("src"), &mut paths);
    paths
        .into_iter()
        .filter_map(|path| {
            let rel = path.strip_prefix(root).ok()?.to_string_lossy().into_owned();
            // The binary is its own crate: it reaches the library as `gatehouse::…`.
            if rel == "src/main.rs" {
                return None;
            }
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            Some(SourceFile {
                module: module_of(&rel),
                path: rel,
                text,
            })
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/lib.rs` → `[]`, `src/ops/mod.rs` → `[ops]`, `src/ops/doctor/sso.rs` →
/// `[ops, doctor, sso]`.
fn module_of(rel: &str) -> Module {
    let inner = rel.strip_prefix("src/").unwrap_or(rel);
    let inner = inner.strip_suffix(".rs").unwrap_or(inner);
    let mut parts: Module = inner.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Which file names which, by file path.
struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn of_sources(files: &[SourceFile]) -> Graph {
        let by_module: BTreeMap<&Module, &str> =
            files.iter().map(|f| (&f.module, f.path.as_str())).collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in files {
            let targets = edges.entry(file.path.clone()).or_default();
            for reference in references(&file.text, &file.module, &|m| by_module.contains_key(m)) {
                let Some(target) = owning_file(&reference, &by_module) else {
                    continue;
                };
                let (target_module, target_path) = target;
                let is_ancestor = file.module.starts_with(target_module);
                if target_path != file.path && !is_ancestor {
                    targets.insert(target_path.to_owned());
                }
            }
        }
        Graph { edges }
    }

    fn from_edges(list: &[(&str, &str)]) -> Graph {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in list {
            edges.entry((*to).to_owned()).or_default();
            edges
                .entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
        }
        Graph { edges }
    }

    fn edges(&self) -> impl Iterator<Item = (&String, &String)> {
        self.edges
            .iter()
            .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
    }

    /// One loop (first file repeated at the end) for every group of files that reach
    /// each other (a strongly connected component of more than one file).
    fn loops(&self) -> Vec<Vec<String>> {
        strongly_connected(&self.edges)
            .into_iter()
            .filter(|group| group.len() > 1)
            .map(|group| self.loop_within(&group))
            .collect()
    }

    /// The shortest way from the group's first file back to itself, inside the group.
    fn loop_within(&self, group: &BTreeSet<String>) -> Vec<String> {
        let start = group.iter().next().expect("a non-empty group").clone();
        let mut came_from: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        while let Some(at) = queue.pop_front() {
            for next in self.edges.get(&at).into_iter().flatten() {
                if !group.contains(next) {
                    continue;
                }
                if *next == start {
                    let mut path = vec![start.clone(), at.clone()];
                    let mut cursor = at.clone();
                    while let Some(prev) = came_from.get(&cursor) {
                        path.push(prev.clone());
                        cursor = prev.clone();
                    }
                    path.reverse();
                    return path;
                }
                if !came_from.contains_key(next) && *next != start {
                    came_from.insert(next.clone(), at.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        vec![start]
    }
}

/// Tarjan's algorithm, iteration order by name so reports are stable.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        groups: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, node: &'a str) {
        let n = s.index.len();
        s.index.insert(node, n);
        s.low.insert(node, n);
        s.stack.push(node);
        s.on_stack.insert(node);
        for next in s.edges.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !s.index.contains_key(next) {
                visit(s, next);
                let low = s.low[node].min(s.low[next]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(next) {
                let low = s.low[node].min(s.index[next]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut group = BTreeSet::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                group.insert(top.to_owned());
                if top == node {
                    break;
                }
            }
            s.groups.push(group);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.groups
}

/// The file that holds `module` (its longest prefix that is a file), with that
/// prefix.
fn owning_file<'a>(
    module: &[String],
    by_module: &BTreeMap<&'a Module, &'a str>,
) -> Option<(&'a Module, &'a str)> {
    (0..=module.len())
        .rev()
        .find_map(|n| by_module.get_key_value(&module[..n].to_vec()))
        .map(|(m, p)| (*m, *p))
}

mod the_check_itself {
    use super::*;

    #[test]
    fn reports_a_loop_in_a_small_graph() {
        let graph = Graph::from_edges(&[
            ("src/a.rs", "src/b.rs"),
            ("src/b.rs", "src/c.rs"),
            ("src/c.rs", "src/a.rs"),
            ("src/c.rs", "src/d.rs"),
        ]);
        assert_eq!(
            graph.loops(),
            vec![vec!["src/a.rs", "src/b.rs", "src/c.rs", "src/a.rs"]]
        );
        let without = Graph::from_edges(&[("src/a.rs", "src/b.rs"), ("src/b.rs", "src/c.rs")]);
        assert!(without.loops().is_empty());
    }

    #[test]
    fn finds_grouped_relative_and_inline_paths() {
        let files = [
            ("src/lib.rs", "pub mod a; pub mod b; pub mod c;"),
            (
                "src/a/mod.rs",
                "mod x;\nuse crate::{b::{self, Thing}, c as other};\nfn f() { x::go(); }",
            ),
            (
                "src/a/x.rs",
                "use super::super::b::Thing; // crate::c::nope",
            ),
            (
                "src/b.rs",
                "const S: &str = \"crate::a::fake\"; fn g() { let _ = '{'; crate::c::h(); }",
            ),
            (
                "src/c.rs",
                "#[cfg(test)]\nmod tests { use super::*; use super::super::a::x; }",
            ),
        ];
        let files: Vec<SourceFile> = files
            .iter()
            .map(|(path, text)| SourceFile {
                path: (*path).to_owned(),
                module: module_of(path),
                text: (*text).to_owned(),
            })
            .collect();
        let graph = Graph::of_sources(&files);
        let edges: Vec<(&str, &str)> = graph
            .edges()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            edges,
            vec![
                ("src/a/mod.rs", "src/a/x.rs"),
                ("src/a/mod.rs", "src/b.rs"),
                ("src/a/mod.rs", "src/c.rs"),
                ("src/a/x.rs", "src/b.rs"),
                ("src/b.rs", "src/c.rs"),
                ("src/c.rs", "src/a/x.rs"),
            ]
        );
        assert_eq!(
            graph.loops(),
            vec![vec!["src/a/x.rs", "src/b.rs", "src/c.rs", "src/a/x.rs"]]
        );
    }
}
