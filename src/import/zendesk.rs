//! Zendesk Guide: the Help Center API's responses saved as JSON — `categories.json`,
//! `sections.json`, `articles.json` and their pages (`{"articles": [...], "next_page": ...}`,
//! or cursor pages with `meta`/`links`), the incremental article export, side-loads
//! (`?include=sections,categories`) and single `{"article": {...}}` responses.

use std::path::Path;

use serde_json::Value;

use super::json::{self, boolean, date, id, int, strings, text};
use super::{Body, Category, Export, Skipped, SourceArticle, System};

/// Reads a directory of responses, or one.
pub fn read(path: &Path) -> anyhow::Result<Export> {
    let mut export = Export::new(System::Zendesk);
    for file in json::files(path)? {
        let root = json::read(&file)?;
        read_response(&file, &root, &mut export);
    }
    export.dedupe();
    Ok(export)
}

/// Takes what one response holds; a response with nothing to import is noted as skipped.
pub fn read_response(file: &Path, root: &Value, export: &mut Export) {
    let before = (
        export.articles.len(),
        export.categories.len(),
        export.skipped.len(),
    );
    let one = |key: &str| {
        root.get(key)
            .filter(|v| v.is_object())
            .map(std::slice::from_ref)
    };
    let many = |key: &str| root.get(key).and_then(Value::as_array).map(Vec::as_slice);
    for c in many("categories")
        .or_else(|| one("category"))
        .unwrap_or_default()
    {
        if let Some(cat) = category(c) {
            export.categories.push(cat);
        }
    }
    for s in many("sections")
        .or_else(|| one("section"))
        .unwrap_or_default()
    {
        if let Some(section) = section(s) {
            export.categories.push(section);
        }
    }
    let articles = match root {
        // A bare list of articles (some export tools save just that).
        Value::Array(items) => Some(items.as_slice()),
        _ => many("articles").or_else(|| one("article")),
    };
    for (i, a) in articles.unwrap_or_default().iter().enumerate() {
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
        export.skipped.len(),
    ) == before
    {
        export.skipped.push(Skipped {
            file: file.to_path_buf(),
            id: None,
            reason: "no `articles`, `sections` or `categories` in this response; ignored".into(),
        });
    }
}

fn category(c: &Value) -> Option<Category> {
    Some(Category {
        id: format!("c:{}", id(c, "id")?),
        name: text(c, "name").unwrap_or_default(),
        parent: None,
        position: int(c, "position").unwrap_or(0),
        old_url: text(c, "html_url"),
    })
}

fn section(s: &Value) -> Option<Category> {
    // Sections nest under a parent section (Guide Enterprise) or sit in a category.
    let parent = id(s, "parent_section_id")
        .map(|p| format!("s:{p}"))
        .or_else(|| id(s, "category_id").map(|c| format!("c:{c}")));
    Some(Category {
        id: format!("s:{}", id(s, "id")?),
        name: text(s, "name").unwrap_or_default(),
        parent,
        position: int(s, "position").unwrap_or(0),
        old_url: text(s, "html_url"),
    })
}

fn article(file: &Path, a: &Value) -> Result<SourceArticle, String> {
    if !a.is_object() {
        return Err("not an article object".into());
    }
    let article_id = id(a, "id").ok_or("no `id`")?;
    let title = text(a, "title")
        .or_else(|| text(a, "name"))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or("no `title`: give the article a title in Zendesk and export it again")?;
    let body = match a.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("`body` is not text".into()),
    };
    let mut out = SourceArticle::new(article_id.clone(), file, title, Body::Html(body));
    out.link_numbers = vec![article_id];
    out.category = id(a, "section_id").map(|s| format!("s:{s}"));
    out.keywords = strings(a, "label_names");
    out.draft = boolean(a, "draft");
    out.updated = date(a, "updated_at").or_else(|| date(a, "edited_at"));
    out.featured = boolean(a, "promoted");
    out.locale = text(a, "locale");
    out.old_urls = text(a, "html_url").into_iter().collect();
    if let (Some(sum), Some(count)) = (int(a, "vote_sum"), int(a, "vote_count"))
        && count > 0
    {
        // vote_sum is up-votes minus down-votes.
        let up = (count.saturating_add(sum) / 2).clamp(0, count);
        out.votes = Some((up, count));
    }
    Ok(out)
}
