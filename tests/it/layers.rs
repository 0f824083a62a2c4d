//! The house's one rule, checked: modules import only the layers below them, in the order
//! `src/lib.rs` lists them (its tour). A `use crate::x` that reaches up fails here, naming
//! the file, the line and both layers.

use std::path::Path;

/// The top-level modules of `src/lib.rs`, in the order declared.
fn tour() -> Vec<String> {
    let lib = std::fs::read_to_string("src/lib.rs").expect("read src/lib.rs");
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

/// Every `crate::NAME` a source text names, with its line number (comments skipped).
fn crate_refs(src: &str) -> Vec<(usize, String)> {
    let mut refs = Vec::new();
    for (i, line) in src.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            // `crate::{a, b::C}` names several.
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end]
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or_default())
                    .collect()
            } else {
                vec![
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default(),
                ]
            };
            refs.extend(
                names
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .map(|n| (i + 1, n.to_string())),
            );
        }
    }
    refs
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The violations in one file of module `module`: (line, what it imports).
fn upward(module: &str, src: &str, tour: &[String]) -> Vec<String> {
    let rank = |m: &str| tour.iter().position(|t| t == m);
    let Some(own) = rank(module) else {
        return Vec::new();
    };
    crate_refs(src)
        .into_iter()
        .filter_map(|(line, name)| {
            let theirs = rank(&name)?;
            (theirs > own)
                .then(|| format!("line {line}: `{module}` imports `{name}`, a higher layer"))
        })
        .collect()
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let tour = tour();
    assert!(
        tour.len() >= 10,
        "src/lib.rs lists its modules as `pub mod x;`: {tour:?}"
    );
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut problems = Vec::new();
    for f in files {
        let rel = f.strip_prefix("src").expect("under src");
        let first = rel.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let src = std::fs::read_to_string(&f).expect("read");
        for p in upward(&module, &src, &tour) {
            problems.push(format!("{}: {p}", f.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "imports that reach up (move the code down, or the module up in src/lib.rs's tour):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_sees_every_form_of_import() {
    let tour: Vec<String> = ["content", "search", "http"].map(String::from).to_vec();
    let src = "use crate::search::X;\nlet a = crate::http::f();\nuse crate::{content, http::Y};\n// crate::http in a comment\n";
    assert_eq!(
        upward("search", src, &tour),
        vec![
            "line 2: `search` imports `http`, a higher layer".to_string(),
            "line 3: `search` imports `http`, a higher layer".to_string(),
        ]
    );
    assert!(upward("http", src, &tour).is_empty());
}
