//! The core's modules depend on each other one way: no import cycle among
//! `photon-metrics/src`'s modules, read from their paths the way a reviewer
//! reads them.
//!
//! A module is a file (`foo.rs`, or `foo/mod.rs` for the folder). Module `a`
//! depends on module `b` when `a`'s code (its tests and comments aside)
//! names a path into `b`: `crate::b::Item`, `super::Item`, or `use
//! crate::{b::Item}`. A path through a folder's re-export (`crate::labels::
//! OpenLabel`, which `labels/mod.rs` re-exports from `labels/closed.rs`)
//! counts against the module that defines the item, so a folder's `mod.rs`
//! may re-export its children without depending on them, and a child using
//! its parent's re-export depends on its sibling, not on the folder.
//!
//! A module that invokes `family!` depends on the typed wrappers its
//! expansion names (`families`), one that derives `Label` on the label
//! layer's types: the catalog is declared with the public macros, and
//! their expansions are dependencies like any `use`.
//!
//! `the_core_has_no_import_cycle` prints each module's layer (how far it
//! stands above the modules that import nothing of the crate) with
//! `--nocapture` (and one module's imports with `PHOTON_IMPORTS_OF=store`);
//! the crate docs draw them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

struct Module {
    code: String,
    /// Whether it is a folder's `mod.rs` (or `lib.rs`): `super` from it is
    /// its own parent.
    folder: bool,
    /// Items it re-exports from its children: name → the child's path.
    reexports: BTreeMap<String, String>,
}

fn modules(root: &Path) -> BTreeMap<String, Module> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let folder = matches!(parts.last().map(String::as_str), Some("mod" | "lib"));
            if folder {
                parts.pop();
            }
            let code = code_of(&std::fs::read_to_string(&path).unwrap());
            out.insert(
                parts.join("::"),
                Module {
                    code,
                    folder,
                    reexports: BTreeMap::new(),
                },
            );
        }
    }
    let names: Vec<String> = out.keys().cloned().collect();
    for name in names {
        let reexports = reexports_of(&name, &out[&name].code, &out);
        out.get_mut(&name).unwrap().reexports = reexports;
    }
    out
}

/// The code without comments and without its `#[cfg(test)]` modules.
fn code_of(source: &str) -> String {
    let mut code = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            // Test modules come last in every file here: skip to the end.
            let indent = line.len() - trimmed.len();
            if indent == 0 {
                break;
            }
        }
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// `pub use child::{A, B}` and `pub use child::A` lines of a module: the
/// re-exported names and the child each comes from.
fn reexports_of(
    name: &str,
    code: &str,
    all: &BTreeMap<String, Module>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for statement in code.split(';') {
        // The statement's own line: what comes before it in the chunk (a
        // closing brace, an attribute) is not part of it.
        let s = statement
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("pub"))
            .collect::<Vec<_>>()
            .join(" ");
        let Some(rest) = ["pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|p| s.strip_prefix(p))
        else {
            continue;
        };
        let rest = rest.trim_start_matches("self::");
        if rest.starts_with("crate::") || rest.starts_with("super::") {
            continue;
        }
        let (head, items) = match rest.split_once("::{") {
            Some((head, items)) => (head, items.trim_end_matches('}')),
            None => match rest.rsplit_once("::") {
                Some((head, item)) => (head, item),
                None => continue,
            },
        };
        let child = if name.is_empty() {
            head.replace(' ', "")
        } else {
            format!("{name}::{}", head.replace(' ', ""))
        };
        if !all.contains_key(&child) {
            continue;
        }
        if items.trim() == "*" {
            // A glob: every public item the child defines.
            for line in all[&child].code.lines().map(str::trim) {
                let Some(rest) = [
                    "pub struct ",
                    "pub enum ",
                    "pub fn ",
                    "pub const fn ",
                    "pub const ",
                    "pub static ",
                    "pub trait ",
                    "pub type ",
                ]
                .iter()
                .find_map(|p| line.strip_prefix(p)) else {
                    continue;
                };
                let item: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !item.is_empty() {
                    out.insert(item, child.clone());
                }
            }
            continue;
        }
        for item in items.split(',') {
            let item = item.trim();
            let exported = item.rsplit(" as ").next().unwrap().trim();
            let exported = exported.rsplit("::").next().unwrap();
            if !exported.is_empty() {
                out.insert(exported.to_string(), child.clone());
            }
        }
    }
    out
}

/// The modules `code` imports by name, by the name it uses: `use
/// crate::catalog;` gives `catalog`, `use crate::labels::{self, X};`
/// gives `labels`.
fn module_aliases(code: &str, all: &BTreeMap<String, Module>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in code.lines().map(str::trim) {
        let Some(rest) = line
            .strip_prefix("use crate::")
            .or_else(|| line.strip_prefix("pub(crate) use crate::"))
        else {
            continue;
        };
        let rest = rest.trim_end_matches(';');
        let (path, named_self) = match rest.split_once("::{") {
            Some((path, items)) => (path, items.split(',').any(|i| i.trim() == "self")),
            None => (rest, true),
        };
        if named_self && all.contains_key(path) {
            let alias = path.rsplit("::").next().unwrap_or(path);
            out.push((alias.to_string(), path.to_string()));
        }
    }
    out
}

/// The module an absolute path (`labels::OpenLabel`) names: its longest
/// module prefix, followed through re-exports to the defining module.
fn resolve(path: &[&str], all: &BTreeMap<String, Module>) -> Option<String> {
    for n in (0..=path.len()).rev() {
        let prefix = path[..n].join("::");
        let Some(module) = all.get(&prefix) else {
            continue;
        };
        if let Some(item) = path.get(n) {
            if let Some(child) = module.reexports.get(*item) {
                return Some(child.clone());
            }
        }
        return Some(prefix);
    }
    None
}

/// Every path in `code` that starts with `start` (`crate::`, `super::`),
/// as its segments; `use start::{a::b, c}` gives `a::b` and `c`.
fn paths(code: &str, start: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(i) = code[from..].find(start) {
        let at = from + i;
        from = at + start.len();
        // Inside a longer path (`a::crate::`, `super::super::`): that
        // path's own start is what counts.
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_')
            || code[..at].ends_with("::")
        {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.push(segments(item.trim()));
            }
        } else {
            let head = segments(rest);
            // `crate::a::{B, c::D}`: each item under its prefix.
            let after = head.iter().map(|s| s.len() + 2).sum::<usize>();
            match rest
                .get(after.saturating_sub(2)..)
                .and_then(|r| r.strip_prefix("::{"))
            {
                Some(group) if !head.is_empty() => {
                    let end = group.find('}').unwrap_or(group.len());
                    for item in group[..end].split(',') {
                        let mut path = head.clone();
                        path.extend(segments(item.trim()));
                        out.push(path);
                    }
                }
                _ => out.push(head),
            }
        }
    }
    out
}

fn segments(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in s.split("::") {
        let ident: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        let whole = ident.len() == part.len();
        out.push(ident);
        if !whole {
            break;
        }
    }
    out
}

fn dependencies(all: &BTreeMap<String, Module>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (name, module) in all {
        let here: Vec<&str> = if name.is_empty() {
            Vec::new()
        } else {
            name.split("::").collect()
        };
        let parent: Vec<&str> = if module.folder {
            here.clone()
        } else {
            here[..here.len().saturating_sub(1)].to_vec()
        };
        let mut targets = BTreeSet::new();
        for path in paths(&module.code, "crate::") {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            targets.extend(resolve(&path, all));
        }
        // A folder's `mod.rs` naming its child's items (`declared::NAMES`),
        // outside its `use` and `mod` lines (re-exports count against the
        // child, as above).
        if module.folder {
            let body: String = module
                .code
                .lines()
                .filter(|l| {
                    let l = l.trim_start();
                    !(l.starts_with("use ")
                        || l.starts_with("pub use ")
                        || l.starts_with("pub(crate) use ")
                        || l.contains("mod "))
                })
                .collect::<Vec<_>>()
                .join("\n");
            let prefix = if name.is_empty() {
                String::new()
            } else {
                format!("{name}::")
            };
            let children = all
                .keys()
                .filter_map(|k| k.strip_prefix(prefix.as_str()))
                .filter(|c| !c.is_empty() && !c.contains("::"));
            for child in children {
                for path in paths(&body, &format!("{child}::")) {
                    let full = format!("{prefix}{child}");
                    let full: Vec<&str> = full
                        .split("::")
                        .chain(path.iter().map(String::as_str))
                        .collect();
                    targets.extend(resolve(&full, all));
                }
            }
        }
        // A module imported by name (`use crate::catalog;`, `use
        // crate::labels::{self, …}`): its paths (`catalog::Item`) count too.
        for (alias, module_path) in module_aliases(&module.code, all) {
            for path in paths(&module.code, &format!("{alias}::")) {
                let full: Vec<&str> = module_path
                    .split("::")
                    .chain(path.iter().map(String::as_str))
                    .collect();
                targets.extend(resolve(&full, all));
            }
        }
        for path in paths(&module.code, "super::") {
            let mut base = parent.clone();
            let mut rest: Vec<&str> = path.iter().map(String::as_str).collect();
            // `super::super::x`
            while rest.first() == Some(&"super") {
                rest.remove(0);
                base.pop();
            }
            if !module.folder {
                // `super` of a file module is its folder: `parent` already.
            } else {
                base.pop();
            }
            let full: Vec<&str> = base.iter().copied().chain(rest).collect();
            targets.extend(resolve(&full, all));
        }
        // What a macro's expansion names, which the text does not show:
        // `family!` the typed wrappers of `families`, `derive(Label)` the
        // label layer's types.
        if module.code.contains("family! {") {
            targets.extend(resolve(&["families", "Counter"], all));
        }
        if module.code.contains("derive(Label") {
            for item in [
                "OpenDef",
                "OpenLabel",
                "OpenValue",
                "LabelName",
                "LabelText",
            ] {
                targets.extend(resolve(&["labels", item], all));
            }
        }
        targets.remove(name);
        targets.remove("");
        edges.insert(name.clone(), targets);
    }
    edges
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(w);
                component.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn report(edges: &BTreeMap<String, BTreeSet<String>>, cycle: &BTreeSet<String>) -> String {
    cycle
        .iter()
        .map(|m| {
            let inside: Vec<&str> = edges[m]
                .iter()
                .filter(|t| cycle.contains(*t))
                .map(String::as_str)
                .collect();
            format!("  {m} -> {}", inside.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn core_cycles(root: &Path) -> (BTreeMap<String, BTreeSet<String>>, Vec<BTreeSet<String>>) {
    let all = modules(root);
    let edges = dependencies(&all);
    let cycles = cycles(&edges);
    (edges, cycles)
}

/// Each module's layer: 0 for one that imports nothing of the crate, else
/// one above the highest module it imports (the graph has no cycle).
fn layers(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    fn layer(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        memo: &mut BTreeMap<String, usize>,
    ) -> usize {
        if let Some(&l) = memo.get(m) {
            return l;
        }
        let l = edges
            .get(m)
            .into_iter()
            .flatten()
            .map(|t| layer(t, edges, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(m.to_string(), l);
        l
    }
    let mut memo = BTreeMap::new();
    for m in edges.keys() {
        layer(m, edges, &mut memo);
    }
    memo
}

#[test]
fn the_core_has_no_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("photon-metrics/src");
    let (edges, cycles) = core_cycles(&root);
    if let Ok(module) = std::env::var("PHOTON_IMPORTS_OF") {
        println!("{module} imports {:?}", edges.get(&module));
    }
    assert!(
        edges.len() > 60 && edges.values().map(BTreeSet::len).sum::<usize>() > 150,
        "the reader found too few modules or imports: {} modules",
        edges.len()
    );
    let found: Vec<String> = cycles.iter().map(|c| report(&edges, c)).collect();
    assert!(
        found.is_empty(),
        "import cycles among photon-metrics' modules (module -> the modules of the cycle it imports):\n{}",
        found.join("\n\n")
    );
    let layers = layers(&edges);
    let mut by_layer: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (m, l) in &layers {
        if !m.is_empty() {
            by_layer.entry(*l).or_default().push(m);
        }
    }
    for (l, modules) in by_layer {
        eprintln!("{l}: {}", modules.join(" "));
    }
}

/// The reader sees a cycle when there is one: two files that import each
/// other, in a scratch copy of a module tree.
#[test]
fn a_deliberate_cycle_is_found() {
    let dir = std::env::temp_dir().join(format!("photon-import-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("labels")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod labels;\nmod selfmon;\nmod leaf;\n").unwrap();
    std::fs::write(
        dir.join("labels/mod.rs"),
        // The re-export follows a block, as `labels/mod.rs`'s does.
        "mod open;\nmod sync {\n    pub(crate) use std::sync::Arc;\n}\n\npub use open::{Interner, OVERFLOW};\n",
    )
    .unwrap();
    // `labels/open.rs` counts its overflow in `selfmon`, which names a
    // label through the folder's re-export: a cycle open <-> selfmon.
    std::fs::write(
        dir.join("labels/open.rs"),
        "use crate::leaf::Clock;\npub struct Interner;\npub const OVERFLOW: u8 = 0;\nfn overflowed() { crate::selfmon::record(); }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("selfmon.rs"),
        "use crate::labels::Interner;\n// crate::leaf::Clock in a comment is no import\npub fn record() {}\n",
    )
    .unwrap();
    std::fs::write(dir.join("leaf.rs"), "pub struct Clock;\n").unwrap();
    let (edges, cycles) = core_cycles(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        edges["selfmon"],
        BTreeSet::from(["labels::open".to_string()]),
        "through the re-export to the defining module; comments are not imports"
    );
    assert_eq!(
        cycles,
        vec![BTreeSet::from([
            "labels::open".to_string(),
            "selfmon".to_string()
        ])]
    );
}
