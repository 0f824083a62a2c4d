//! Page templates: the defaults are embedded in the binary; a `templates/` directory with files
//! of the same names overrides them. HTML auto-escaping is on for every `.html` template.

use std::path::Path;

use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;

use super::{ApiError, AppState};

/// The default templates, embedded.
const DEFAULTS: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("search.html", include_str!("../../templates/search.html")),
    ("article.html", include_str!("../../templates/article.html")),
    (
        "category.html",
        include_str!("../../templates/category.html"),
    ),
    (
        "not_found.html",
        include_str!("../../templates/not_found.html"),
    ),
    ("contact.html", include_str!("../../templates/contact.html")),
    (
        "contact_done.html",
        include_str!("../../templates/contact_done.html"),
    ),
    (
        "admin_base.html",
        include_str!("../../templates/admin_base.html"),
    ),
    (
        "admin_login.html",
        include_str!("../../templates/admin_login.html"),
    ),
    (
        "admin_dashboard.html",
        include_str!("../../templates/admin_dashboard.html"),
    ),
    (
        "admin_report.html",
        include_str!("../../templates/admin_report.html"),
    ),
    (
        "admin_tickets.html",
        include_str!("../../templates/admin_tickets.html"),
    ),
    (
        "admin_ticket.html",
        include_str!("../../templates/admin_ticket.html"),
    ),
    (
        "admin_learning.html",
        include_str!("../../templates/admin_learning.html"),
    ),
];

/// Builds the template environment, taking each template from `dir` when it has one.
pub fn environment(dir: Option<&Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    for &(name, default) in DEFAULTS {
        let source = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("reading template {}: {e}", path.display()))?,
            None => default.to_string(),
        };
        env.add_template_owned(name, source)
            .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
    }
    Ok(env)
}

/// Renders a page template, or the error envelope when it fails (a user template may be broken).
pub(super) fn render(state: &AppState, name: &str, ctx: minijinja::Value) -> Response {
    match state
        .templates
        .get_template(name)
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::Internal(format!("rendering {name}: {e:#}")).into_response(),
    }
}
