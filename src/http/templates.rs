//! Page templates: the defaults are embedded in the binary; a `templates/` directory with files
//! of the same names overrides them. HTML auto-escaping is on for every `.html` template.

use std::path::Path;

use minijinja::Environment;

/// The default templates, embedded.
const DEFAULTS: [(&str, &str); 6] = [
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
];

/// Builds the template environment, taking each template from `dir` when it has one.
pub fn environment(dir: Option<&Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    for (name, default) in DEFAULTS {
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
