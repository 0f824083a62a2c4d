//! Help Scout Docs: the Docs API's responses saved as JSON — collections
//! (`{"collections": {"items": [...]}}`), categories of each collection, and articles
//! (`{"article": {...}}` from `GET /v1/articles/{id}`; list pages hold only references).

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use super::json::{self, date, id, int, strings, text};
use super::{Body, Category, Export, Skipped, SourceArticle, System};

pub fn read(path: &Path) -> anyhow::Result<Export> {
    let mut export = Export::new(System::Helpscout);
    let mut refs = Vec::new();
    for file in json::files(path)? {
        let root = json::read(&file)?;
        read_response(&file, &root, &mut export, &mut refs);
    }
    export.dedupe();
    // A list page names articles without their text: fine when each was fetched too.
    let full: HashSet<&str> = export.articles.iter().map(|a| a.id.as_str()).collect();
    let missing: Vec<Skipped> = refs
        .into_iter()
        .filter(|s: &Skipped| s.id.as_deref().is_some_and(|i| !full.contains(i)))
        .collect();
    export.skipped.extend(missing);
    Ok(export)
}

fn read_response(file: &Path, root: &Value, export: &mut Export, refs: &mut Vec<Skipped>) {
    let before = (
        export.articles.len(),
        export.categories.len(),
        refs.len(),
        export.skipped.len(),
    );
    for c in json::list(root, "collections")
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if let Some(cid) = id(c, "id") {
            export.categories.push(Category {
                id: format!("col:{cid}"),
                name: text(c, "name").unwrap_or_default(),
                parent: None,
                position: int(c, "order").unwrap_or(0),
                old_url: text(c, "publicUrl"),
            });
        }
    }
    for c in json::list(root, "categories")
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if let Some(cid) = id(c, "id") {
            export.categories.push(Category {
                id: format!("cat:{cid}"),
                name: text(c, "name").unwrap_or_default(),
                parent: id(c, "collectionId").map(|p| format!("col:{p}")),
                position: int(c, "order").unwrap_or(0),
                old_url: text(c, "publicUrl"),
            });
        }
    }
    let single = root.get("article").filter(|a| a.is_object());
    let items = json::list(root, "articles")
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, a) in single.into_iter().chain(items).enumerate() {
        if a.get("text").is_none() && id(a, "id").is_some() {
            refs.push(Skipped {
                file: file.to_path_buf(),
                id: id(a, "id"),
                reason: "listed without its text — save `GET /v1/articles/{id}` for it too".into(),
            });
            continue;
        }
        match article(file, a) {
            Ok(a) => export.articles.push(a),
            Err(reason) => export.skipped.push(Skipped {
                file: file.to_path_buf(),
                id: id(a, "id").or_else(|| Some(format!("at position {}", i + 1))),
                reason,
            }),
        }
    }
    if (
        export.articles.len(),
        export.categories.len(),
        refs.len(),
        export.skipped.len(),
    ) == before
    {
        export.skipped.push(Skipped {
            file: file.to_path_buf(),
            id: None,
            reason: "no `collections`, `categories` or `article(s)` in this response; ignored"
                .into(),
        });
    }
}

fn article(file: &Path, a: &Value) -> Result<SourceArticle, String> {
    if !a.is_object() {
        return Err("not an article object".into());
    }
    let article_id = id(a, "id").ok_or("no `id`")?;
    let title = text(a, "name")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or("no `name` (the article's title)")?;
    let body = match a.get("text") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("`text` is not text".into()),
    };
    let mut out = SourceArticle::new(article_id, file, title, Body::Html(body));
    out.category = strings(a, "categories")
        .first()
        .map(|c| format!("cat:{c}"))
        .or_else(|| id(a, "collectionId").map(|c| format!("col:{c}")));
    out.keywords = strings(a, "keywords");
    out.draft = text(a, "status").is_some_and(|s| s != "published");
    out.updated = date(a, "updatedAt")
        .or_else(|| date(a, "lastPublishedAt"))
        .or_else(|| date(a, "createdAt"));
    out.old_urls = text(a, "publicUrl").into_iter().collect();
    out.slug = text(a, "slug");
    out.link_numbers = id(a, "number").into_iter().collect();
    Ok(out)
}
