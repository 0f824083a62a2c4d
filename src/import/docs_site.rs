//! A docs site's Markdown tree (Docusaurus, MkDocs, Hugo, Jekyll): folders become categories,
//! their front-matter keys are mapped to Deflect's (`description` → summary, `lastmod` /
//! `last_modified_at` / `date` → last_reviewed, `draft` → status, `slug`, `aliases` /
//! `redirect_from` → redirects, `sidebar_position` / `weight` / `nav_order` → order), and lines
//! that are not Markdown (MDX imports and components, shortcodes, Liquid tags, admonitions)
//! are reported and kept as text.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use super::json::{date, int, strings, text};
use super::names::strip_number_prefix;
use super::{Body, Category, Export, Skipped, SourceArticle, System};

/// Folders that hold a site's build output or templates, not pages.
const SKIPPED_DIRS: [&str; 8] = [
    "node_modules",
    "_site",
    "_includes",
    "_layouts",
    "_data",
    "_sass",
    "layouts",
    "themes",
];

pub fn read(path: &Path) -> anyhow::Result<Export> {
    let mut export = Export::new(System::Markdown);
    let (root, files) = if path.is_file() {
        let parent = path.parent().unwrap_or_else(|| Path::new("."));
        (parent.to_path_buf(), vec![path.to_path_buf()])
    } else {
        let mut files = Vec::new();
        let walker = walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                e.depth() == 0
                    || !(name.starts_with('.')
                        || (e.file_type().is_dir() && SKIPPED_DIRS.contains(&name.as_ref())))
            });
        for entry in walker {
            let entry = entry.with_context(|| format!("reading {}", path.display()))?;
            let is_page = entry.path().extension().is_some_and(|e| {
                ["md", "mdx", "markdown"]
                    .iter()
                    .any(|x| e.eq_ignore_ascii_case(x))
            });
            if entry.file_type().is_file() && is_page {
                files.push(entry.into_path());
            }
        }
        // A site whose pages all live in one folder (`docs/`): that folder is the root,
        // not a category.
        let mut root = path.to_path_buf();
        loop {
            let mut tops = files.iter().map(|f| {
                let rel = f.strip_prefix(&root).unwrap_or(f);
                (rel.components().count() > 1).then(|| rel.components().next())
            });
            let Some(Some(first)) = tops.next() else {
                break;
            };
            if !tops.all(|t| t == Some(first)) {
                break;
            }
            let Some(first) = first else { break };
            root = root.join(first.as_os_str());
        }
        (root, files)
    };
    anyhow::ensure!(
        !files.is_empty(),
        "no Markdown files (.md, .mdx, .markdown) in {}",
        path.display()
    );
    let mut folders = std::collections::BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap_or(file);
        let rel_text = rel.to_string_lossy().replace('\\', "/");
        let src = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                export.skipped.push(Skipped {
                    file: file.clone(),
                    id: Some(rel_text),
                    reason: format!("cannot read it as UTF-8 text: {e}"),
                });
                continue;
            }
        };
        match page(file, &rel_text, &src) {
            Ok(mut a) => {
                let folder = rel
                    .parent()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if !folder.is_empty() {
                    a.category = Some(folder.clone());
                    let mut at = folder.as_str();
                    loop {
                        folders.insert(at.to_string());
                        match at.rsplit_once('/') {
                            Some((parent, _)) => at = parent,
                            None => break,
                        }
                    }
                }
                export.articles.push(a);
            }
            Err(reason) => export.skipped.push(Skipped {
                file: file.clone(),
                id: Some(rel_text),
                reason,
            }),
        }
    }
    for folder in folders {
        let (parent, name) = match folder.rsplit_once('/') {
            Some((p, n)) => (Some(p.to_string()), n),
            None => (None, folder.as_str()),
        };
        export.categories.push(Category {
            id: folder.clone(),
            name: strip_number_prefix(name).replace(['-', '_'], " "),
            parent,
            position: 0,
            old_url: None,
        });
    }
    Ok(export)
}

/// One page: its front matter mapped, its body kept, its odd lines noted.
fn page(file: &Path, rel: &str, src: &str) -> Result<SourceArticle, String> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let (front, body, body_line) = split(src)?;
    let mut body = body.to_string();
    let stem = Path::new(rel)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // `index.md`, `_index.md` and `README.md` are their folder's page.
    let is_index = ["index", "_index", "readme"].contains(&stem.to_ascii_lowercase().as_str());
    let named = if is_index {
        Path::new(rel)
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| "home".to_string(), |n| n.to_string_lossy().into_owned())
    } else {
        stem
    };
    let mut title = text(&front, "title")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    // A leading `# Heading` is the title on sites that keep it in the body.
    let first = body
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    if let Some(h1) = first.strip_prefix("# ") {
        let h1 = h1.trim().to_string();
        if title.is_none() || title.as_deref() == Some(h1.as_str()) {
            title.get_or_insert(h1);
            if let Some(at) = body.find(&first) {
                body.replace_range(at..at + first.len(), "");
            }
        }
    }
    let title = title.unwrap_or_else(|| {
        let words = strip_number_prefix(&named).replace(['-', '_'], " ");
        let mut chars = words.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    });
    if title.trim().is_empty() {
        return Err("no title: add `title:` to its front matter".into());
    }
    let odd = odd_lines(&body, body_line);
    let mut a = SourceArticle::new(rel, file, title, Body::Markdown(body));
    a.summary = text(&front, "summary")
        .or_else(|| text(&front, "description"))
        .or_else(|| text(&front, "excerpt"));
    a.updated = ["last_reviewed", "last_modified_at", "lastmod", "date"]
        .iter()
        .find_map(|k| date(&front, k))
        .or_else(|| front.get("last_update").and_then(|u| date(u, "date")));
    a.draft = front.get("draft").and_then(Value::as_bool) == Some(true)
        || front.get("published").and_then(Value::as_bool) == Some(false)
        || rel.starts_with("_drafts/");
    a.slug = text(&front, "slug")
        .map(|s| {
            s.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|s| !s.is_empty())
        .or_else(|| Some(strip_number_prefix(&named).to_ascii_lowercase()));
    a.old_urls = strings(&front, "aliases");
    a.old_urls.extend(strings(&front, "redirect_from"));
    for key in ["aliases", "redirect_from"] {
        if let Some(one) = front.get(key).and_then(Value::as_str) {
            a.old_urls.push(one.to_string());
        }
    }
    a.order = ["sidebar_position", "weight", "nav_order", "order"]
        .iter()
        .find_map(|k| int(&front, k));
    a.keywords = strings(&front, "keywords");
    a.tags = strings(&front, "tags");
    a.featured = front.get("featured").and_then(Value::as_bool) == Some(true);
    a.odd_lines = odd;
    Ok(a)
}

/// Splits YAML (`---`) or TOML (`+++`) front matter from the body; no front matter is fine.
fn split(src: &str) -> Result<(Value, &str, usize), String> {
    for (fence, toml) in [("---", false), ("+++", true)] {
        let Some(rest) = src.strip_prefix(fence) else {
            continue;
        };
        let Some(rest) = rest
            .strip_prefix('\n')
            .or_else(|| rest.strip_prefix("\r\n"))
        else {
            continue;
        };
        let close = format!("\n{fence}");
        let end = if rest.starts_with(fence) {
            Some(0)
        } else {
            rest.find(&close).map(|i| i + 1)
        };
        let Some(end) = end else {
            return Err(format!(
                "the front matter opened by `{fence}` on line 1 is never closed"
            ));
        };
        let meta = &rest[..end];
        let after = &rest[end + fence.len()..];
        let body = after.split_once('\n').map_or("", |(_, b)| b);
        let body_line = meta.lines().count() + 3;
        let value = if toml {
            let table: toml::Table = toml::from_str(meta)
                .map_err(|e| format!("front matter is not valid TOML: {}", e.message()))?;
            toml_to_json(toml::Value::Table(table))
        } else if meta.trim().is_empty() {
            Value::Null
        } else {
            serde_yaml_ng::from_str::<Value>(meta).map_err(|e| {
                let line = e.location().map_or(2, |l| l.line() + 1);
                format!(
                    "front matter line {line} is not valid YAML: {}",
                    e.to_string().split(" at line ").next().unwrap_or_default()
                )
            })?
        };
        let value = if value.is_null() {
            Value::Object(serde_json::Map::new())
        } else {
            value
        };
        if !value.is_object() {
            return Err("front matter is not a set of `key: value` lines".into());
        }
        return Ok((value, body, body_line));
    }
    Ok((Value::Object(serde_json::Map::new()), src, 1))
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// Lines outside code blocks that are not Markdown: MDX `import`/`export` and `<Component>`
/// lines, Hugo shortcodes, Liquid tags, admonition fences. Returned with their file line.
fn odd_lines(body: &str, first_line: usize) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in body.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let odd = (t.starts_with("import ") && t.contains(" from "))
            || t.starts_with("export ")
            || t.starts_with("<") && t[1..].starts_with(|c: char| c.is_ascii_uppercase())
            || t.starts_with("</") && t[2..].starts_with(|c: char| c.is_ascii_uppercase())
            || t.contains("{{<")
            || t.contains("{{%")
            || t.contains("{%")
            || t.starts_with(":::")
            || t.starts_with("!!! ");
        if odd {
            let shown: String = t.chars().take(80).collect();
            out.push((first_line + i, shown));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_docusaurus_hugo_and_jekyll_keys() {
        let src = "---\ntitle: Install\ndescription: How to install.\nsidebar_position: 2\nslug: /setup/install\nlast_update:\n  date: 2024-03-01\n---\n\nimport Tabs from '@theme/Tabs';\n\n<Tabs>\n\nText.\n\n```\n<Tabs> in code\n```\n";
        let a = page(Path::new("docs/02-install.mdx"), "docs/02-install.mdx", src).expect("page");
        assert_eq!(a.title, "Install");
        assert_eq!(a.summary.as_deref(), Some("How to install."));
        assert_eq!(a.order, Some(2));
        assert_eq!(a.slug.as_deref(), Some("install"));
        assert_eq!(a.updated, chrono::NaiveDate::from_ymd_opt(2024, 3, 1));
        assert_eq!(
            a.odd_lines,
            [
                (10, "import Tabs from '@theme/Tabs';".to_string()),
                (12, "<Tabs>".to_string())
            ]
        );

        let hugo = "+++\ntitle = \"Reset\"\nlastmod = 2024-05-02T10:00:00Z\ndraft = true\nweight = 5\naliases = [\"/old/reset/\"]\n+++\n{{< note >}}x{{< /note >}}\n";
        let a = page(Path::new("c/reset.md"), "c/reset.md", hugo).expect("hugo");
        assert!(a.draft);
        assert_eq!(a.order, Some(5));
        assert_eq!(a.old_urls, ["/old/reset/"]);
        assert_eq!(a.updated, chrono::NaiveDate::from_ymd_opt(2024, 5, 2));
        assert_eq!(a.odd_lines[0].0, 8);

        let jekyll = "---\nlayout: page\nredirect_from: /faq/old.html\nlast_modified_at: 2023-01-02\n---\n# From the heading\n\nBody.\n";
        let a = page(Path::new("faq.md"), "faq.md", jekyll).expect("jekyll");
        assert_eq!(a.title, "From the heading");
        assert_eq!(a.old_urls, ["/faq/old.html"]);
        assert!(matches!(&a.body, Body::Markdown(b) if !b.contains("# From")));

        let broken = "---\ntitle: [x\n---\n";
        assert!(
            page(Path::new("b.md"), "b.md", broken)
                .expect_err("an error")
                .contains("not valid YAML")
        );
        assert!(
            page(Path::new("b.md"), "b.md", "---\ntitle: x\n")
                .expect_err("an error")
                .contains("never closed")
        );
    }
}
