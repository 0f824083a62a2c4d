//! Help-center pages rendered from templates: home, search, article, category, 404, assets.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Serialize;
use serde_json::json;

use super::api::{SearchParams, run_search};
use super::extract::PageQuery;
use super::session::{self, Session};
use super::templates::render;
use super::{ApiError, AppState, MAX_QUERY_BYTES};
use crate::content::Article;

const STYLE: &str = include_str!("../../assets/style.css");
const SCRIPT: &str = include_str!("../../assets/app.js");

/// A category as pages show it.
#[derive(Debug, Serialize)]
struct CategoryLink {
    path: String,
    name: String,
    count: usize,
}

#[derive(Debug, Serialize)]
struct ArticleLink<'a> {
    url: String,
    title: &'a str,
    summary: &'a str,
}

fn link(a: &Article) -> ArticleLink<'_> {
    ArticleLink {
        url: a.url(),
        title: &a.front.title,
        summary: &a.front.summary,
    }
}

/// `cash-and-atms` → `Cash and atms`.
fn display_name(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path).replace('-', " ");
    let mut chars = last.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn crumbs(path: &str) -> Vec<CategoryLink> {
    let mut acc = String::new();
    path.split('/')
        .filter(|p| !p.is_empty())
        .map(|p| {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(p);
            CategoryLink {
                path: acc.clone(),
                name: display_name(&acc),
                count: 0,
            }
        })
        .collect()
}

/// Categories directly under `parent` ("" for the top level), with article counts including subcategories.
fn categories(state: &AppState, parent: &str) -> Vec<CategoryLink> {
    let site = state.site();
    site.engine
        .categories()
        .iter()
        .filter(|(c, _)| match c.rsplit_once('/') {
            Some((p, _)) => p == parent,
            None => parent.is_empty(),
        })
        .map(|(path, &count)| CategoryLink {
            name: display_name(path),
            path: path.clone(),
            count,
        })
        .collect()
}

fn v<T: Serialize>(x: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}

pub async fn home(State(state): State<Arc<AppState>>) -> Response {
    // The most read articles of the last 30 days when the store has traffic, else the featured ones.
    let popular = state.popular.get(state.store.as_ref()).await;
    let site = state.site();
    let mut featured: Vec<ArticleLink<'_>> = popular
        .iter()
        .filter_map(|slug| site.engine.article(slug))
        .take(super::reports::popular_limit())
        .map(link)
        .collect();
    if featured.is_empty() {
        featured = site
            .engine
            .articles()
            .iter()
            .filter(|a| a.front.featured)
            .map(|a| link(a))
            .collect();
    }
    render(
        &state,
        "home.html",
        context! { site_name => &state.config.site_name, featured => v(&featured), categories => v(&categories(&state, "")), canonical => format!("{}/", state.config.public_url) },
    )
}

pub async fn search(
    State(state): State<Arc<AppState>>,
    session: Session,
    super::limits::ClientIp(ip): super::limits::ClientIp,
    p: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    let Ok(Query(mut p)) = p else {
        return (StatusCode::BAD_REQUEST, render_not_found(&state)).into_response();
    };
    // Page searches belong to the visitor's session, never to one named in the URL.
    p.session_id = Some(session.id);
    p.client = state.client_key(ip);
    if p.q.len() > MAX_QUERY_BYTES {
        let mut cut = MAX_QUERY_BYTES;
        while !p.q.is_char_boundary(cut) {
            cut -= 1;
        }
        p.q.truncate(cut);
    }
    p.limit = Some(p.limit.unwrap_or(20).clamp(1, 50));
    let query = p.q.clone();
    let category = p.category.clone().filter(|c| !c.is_empty());
    let found = if query.trim().is_empty() {
        json!({"results": [], "total": 0})
    } else {
        match run_search(Arc::clone(&state), p, !session.bot).await {
            Ok(v) => serde_json::to_value(v).unwrap_or_default(),
            Err(e) => return e.into_response(),
        }
    };
    render(
        &state,
        "search.html",
        context! {
            site_name => &state.config.site_name,
            query,
            category,
            total => v(&found["total"]),
            // Result links carry it, so opening one records the click (no JavaScript needed).
            search_id => state.events.is_some().then(|| v(&found["search_id"])),
            corrected_query => v(&found["corrected_query"]),
            results => v(&found["results"]),
            categories => v(&categories(&state, "")),
        },
    )
}

/// `?feedback=yes|no&reason=…` after the "Was this helpful?" form.
#[derive(Debug, Default, serde::Deserialize)]
pub struct FeedbackState {
    feedback: Option<String>,
    reason: Option<String>,
    /// The search whose result link was followed, and the result's 1-based position.
    s: Option<String>,
    p: Option<i64>,
}

/// The reasons offered after a "No", as (value, label).
const REASONS: [(&str, &str); 6] = [
    ("inaccurate", "It's inaccurate"),
    ("unclear", "It's hard to understand"),
    ("missing_information", "Information is missing"),
    ("outdated", "It's out of date"),
    ("didnt_solve_my_problem", "It didn't solve my problem"),
    ("other", "Something else"),
];

/// schema.org data for an article: an `Article`, plus an `FAQPage` when the body has
/// bold-question list items.
fn structured_data(a: &Article, canonical: &str) -> serde_json::Value {
    let article = json!({
        "@type": "Article",
        "headline": a.front.title,
        "description": a.front.summary,
        "dateModified": a.front.last_reviewed,
        "url": canonical,
    });
    if a.faqs.is_empty() {
        let mut article = article;
        article["@context"] = json!("https://schema.org");
        return article;
    }
    let questions: Vec<_> = a
        .faqs
        .iter()
        .map(|f| {
            json!({
                "@type": "Question",
                "name": f.question,
                "acceptedAnswer": { "@type": "Answer", "text": f.answer },
            })
        })
        .collect();
    json!({
        "@context": "https://schema.org",
        "@graph": [article, { "@type": "FAQPage", "url": canonical, "mainEntity": questions }],
    })
}

pub async fn article(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    Path(slug): Path<String>,
    session: Session,
    PageQuery(fb): PageQuery<FeedbackState>,
) -> Response {
    let search_id = fb.s.filter(|s| session::is_search_id(s));
    let feedback = match fb.feedback.as_deref() {
        Some("yes") => "yes",
        Some("no") => "no",
        _ => "",
    };
    let reason = fb.reason.filter(|r| REASONS.iter().any(|(v, _)| v == r));
    let site = state.site();
    let Some(a) = site.engine.article(&slug) else {
        return moved_or_missing(&state, uri.path()).await;
    };
    // The page shown again after a vote is the same reading, not another view.
    if fb.feedback.is_none() && !session.bot {
        session::opened(&state, &session.id, &a.slug, search_id.clone(), fb.p);
    }
    let related: Vec<ArticleLink<'_>> = a
        .front
        .related
        .iter()
        .filter_map(|s| site.engine.article(s))
        .map(link)
        .collect();
    let toc: Vec<_> = a.headings.iter().filter(|h| h.level == 2).collect();
    let canonical = format!("{}{}", state.config.public_url, a.url());
    let mut json_ld = structured_data(a, &canonical).to_string();
    // Inside <script>, "</" would end the element: escape "<" the JSON way.
    json_ld = json_ld.replace('<', "\\u003c");
    render(
        &state,
        "article.html",
        context! {
            site_name => &state.config.site_name,
            article => context! {
                slug => &a.slug, title => &a.front.title, summary => &a.front.summary, html => super::api::article_html(&state, a),
                last_reviewed => a.front.last_reviewed.to_string(),
            },
            crumbs => v(&crumbs(&a.category)),
            related => v(&related),
            toc => v(&toc),
            json_ld,
            canonical,
            feedback,
            reason,
            reasons => v(&REASONS.iter().map(|(value, label)| context! { value => *value, label => *label }).collect::<Vec<_>>()),
            voting => state.store.is_some(),
            search_id,
        },
    )
}

pub async fn category(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<String>,
) -> Response {
    let path = path.trim_matches('/').to_string();
    let site = state.site();
    let mut in_category: Vec<&Article> = site
        .engine
        .articles()
        .iter()
        .filter(|a| a.category == path)
        .map(|a| a.as_ref())
        .collect();
    // `order:` first (docs sites' sidebar position), the rest as before.
    in_category.sort_by_key(|a| a.front.order.unwrap_or(i64::MAX));
    let articles: Vec<ArticleLink<'_>> = in_category.into_iter().map(link).collect();
    let subcategories = categories(&state, &path);
    if articles.is_empty() && subcategories.is_empty() {
        return moved_or_missing(&state, uri.path()).await;
    }
    render(
        &state,
        "category.html",
        context! { site_name => &state.config.site_name, name => display_name(&path), crumbs => v(&crumbs(&path)), articles => v(&articles), subcategories => v(&subcategories) },
    )
}

fn render_not_found(state: &AppState) -> Response {
    render(
        state,
        "not_found.html",
        context! { site_name => &state.config.site_name },
    )
}

pub async fn not_found(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::NotFound(format!("no API route {}", uri.path())).into_response();
    }
    moved_or_missing(&state, uri.path()).await
}

/// A path no page answers: an old path (aliases, `redirects.txt`) gets a 301 to where its
/// content lives now, or a 410 with a search for the deleted article's title; anything else
/// the 404 page.
async fn moved_or_missing(state: &Arc<AppState>, path: &str) -> Response {
    use crate::content::redirects::Target;
    let target = state.site().kb.redirects.lookup(path).cloned();
    match target {
        Some(Target::Moved { to }) => {
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
        }
        Some(Target::Gone { title }) => {
            let query = title.clone();
            let found = state
                .cpu(move |state| {
                    let site = state.site();
                    site.engine
                        .search(&crate::search::SearchRequest {
                            query: &query,
                            limit: 5,
                            category: None,
                        })
                        .hits
                        .iter()
                        .map(|h| {
                            json!({"url": h.article.url(), "title": h.article.front.title, "summary": h.article.front.summary})
                        })
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap_or_default();
            let page = render(
                state,
                "not_found.html",
                context! { site_name => &state.config.site_name, gone => true, title, results => v(&found) },
            );
            (StatusCode::GONE, page).into_response()
        }
        None => (StatusCode::NOT_FOUND, render_not_found(state)).into_response(),
    }
}

pub async fn sitemap(State(state): State<Arc<AppState>>) -> Response {
    let site = state.site();
    let base = &state.config.public_url;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut url = |loc: String, lastmod: Option<String>| {
        xml.push_str("  <url><loc>");
        crate::search::snippet::escape_html(&format!("{base}{loc}"), &mut xml);
        xml.push_str("</loc>");
        if let Some(d) = lastmod {
            xml.push_str(&format!("<lastmod>{d}</lastmod>"));
        }
        xml.push_str("</url>\n");
    };
    url("/".into(), None);
    for a in site.engine.articles() {
        url(a.url(), Some(a.front.last_reviewed.to_string()));
    }
    xml.push_str("</urlset>\n");
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names() {
        assert_eq!(display_name("cash-and-atms"), "Cash and atms");
        assert_eq!(display_name("cards/virtual-cards"), "Virtual cards");
        let c = crumbs("cards/virtual-cards");
        assert_eq!(c[1].path, "cards/virtual-cards");
    }
}
