//! Intercom Articles: the REST API's responses saved as JSON — `GET /articles` pages
//! (`{"type": "list", "data": [...], "pages": {...}}`), `GET /help_center/collections` pages,
//! and single article objects.

use std::path::Path;

use serde_json::Value;

use super::json::{self, date, id, int, text};
use super::{Body, Category, Export, Skipped, SourceArticle, System};

pub fn read(path: &Path) -> anyhow::Result<Export> {
    let mut export = Export::new(System::Intercom);
    for file in json::files(path)? {
        let root = json::read(&file)?;
        read_response(&file, &root, &mut export);
    }
    export.dedupe();
    Ok(export)
}

fn read_response(file: &Path, root: &Value, export: &mut Export) {
    let before = (
        export.articles.len(),
        export.categories.len(),
        export.skipped.len(),
    );
    let items: &[Value] = match root.get("type").and_then(Value::as_str) {
        Some("list") => root
            .get("data")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default(),
        Some(_) => std::slice::from_ref(root),
        None => match root {
            Value::Array(items) => items,
            _ => &[],
        },
    };
    for (i, item) in items.iter().enumerate() {
        match item.get("type").and_then(Value::as_str) {
            Some("collection" | "section") => {
                if let Some(cid) = id(item, "id") {
                    export.categories.push(Category {
                        id: format!("col:{cid}"),
                        name: text(item, "name").unwrap_or_default(),
                        parent: id(item, "parent_id").map(|p| format!("col:{p}")),
                        position: int(item, "order").unwrap_or(0),
                        old_url: text(item, "url"),
                    });
                }
            }
            Some("article") | None => match article(file, item) {
                Ok(a) => export.articles.push(a),
                Err(reason) => export.skipped.push(Skipped {
                    file: file.to_path_buf(),
                    id: id(item, "id").or_else(|| Some(format!("at position {}", i + 1))),
                    reason,
                }),
            },
            Some(_) => {}
        }
    }
    if (
        export.articles.len(),
        export.categories.len(),
        export.skipped.len(),
    ) == before
    {
        export.skipped.push(Skipped {
            file: file.to_path_buf(),
            id: None,
            reason: "no articles or collections in this response; ignored".into(),
        });
    }
}

fn article(file: &Path, a: &Value) -> Result<SourceArticle, String> {
    if !a.is_object() {
        return Err("not an article object".into());
    }
    let article_id = id(a, "id").ok_or("no `id`")?;
    let title = text(a, "title")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or("no `title`")?;
    let body = match a.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("`body` is not text".into()),
    };
    let mut out = SourceArticle::new(article_id.clone(), file, title, Body::Html(body));
    out.link_numbers = vec![article_id];
    out.summary = text(a, "description");
    out.category = id(a, "parent_id").map(|p| format!("col:{p}"));
    out.draft = text(a, "state").is_some_and(|s| s != "published");
    out.updated = date(a, "updated_at").or_else(|| date(a, "created_at"));
    out.locale = text(a, "default_locale");
    out.old_urls = text(a, "url").into_iter().collect();
    Ok(out)
}
