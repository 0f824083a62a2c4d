//! Renamed and deleted articles, told by the content's git history: `deflect check` warns when
//! an old slug's links would now answer 404, and says which alias or `redirects.txt` line
//! keeps them working.

use std::collections::HashSet;
use std::path::Path;

use super::KnowledgeBase;
use super::diagnostic::Diagnostic;
use super::redirects::REDIRECTS_FILE;

/// Warnings for the renames and deletions in the git history of `kb.root` that nothing
/// redirects; none when it is not in a git repository or git is not installed.
pub fn hints(kb: &KnowledgeBase) -> Vec<Diagnostic> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&kb.root)
        .args([
            "log",
            "--relative",
            "--format=",
            "--name-status",
            "-M",
            "--diff-filter=DR",
            "--",
            ".",
        ])
        .stderr(std::process::Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => {
            hints_from_log(&String::from_utf8_lossy(&out.stdout), kb)
        }
        _ => Vec::new(),
    }
}

/// The same from `git log --name-status` output (newest first), paths relative to the root.
pub fn hints_from_log(log: &str, kb: &KnowledgeBase) -> Vec<Diagnostic> {
    let live: HashSet<&str> = kb.articles.iter().map(|a| a.slug.as_str()).collect();
    let mut told = HashSet::new();
    let mut out = Vec::new();
    for line in log.lines() {
        let mut fields = line.split('\t');
        let (Some(status), Some(old)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some(old_slug) = md_stem(old) else {
            continue;
        };
        if live.contains(old_slug)
            || kb
                .redirects
                .lookup(&format!("/articles/{old_slug}"))
                .is_some()
            || !told.insert(old_slug.to_string())
        {
            continue;
        }
        if status.starts_with('R') {
            let Some(new) = fields.next() else { continue };
            let Some(article) = kb.articles.iter().find(|a| a.path == Path::new(new)) else {
                continue;
            };
            out.push(Diagnostic::warning(
                &kb.root.join(new),
                article.front.aliases_line,
                format!("renamed from `{old}` (git history): links to /articles/{old_slug} now answer 404"),
                format!("add `aliases: [/articles/{old_slug}]` to its front matter"),
            ));
        } else if status == "D" {
            out.push(Diagnostic::warning(
                &kb.root.join(REDIRECTS_FILE),
                0,
                format!("`{old}` was deleted (git history): links to /articles/{old_slug} now answer 404"),
                format!("add `/articles/{old_slug}  gone  <its title>` to redirects.txt (a 410 with a search for it), or point it at the article that replaces it"),
            ));
        }
    }
    out
}

/// `cards/old-name.md` → `old-name`.
fn md_stem(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next()?;
    name.strip_suffix(".md").filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_and_deletions_without_a_redirect_are_told() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let src = |extra: &str| {
            format!("---\ntitle: T\nsummary: S\nlast_reviewed: 2026-10-01\n{extra}---\n\nBody.\n")
        };
        let mut loaded = KnowledgeBase::from_sources(
            Path::new("c"),
            &[
                ("cards/new-name.md".into(), src("")),
                ("cards/kept.md".into(), src("aliases: [/articles/older]\n")),
            ],
            None,
            Some(""),
            today,
        );
        loaded.link_redirects(Some("/articles/removed-but-redirected gone Something\n"));
        let log = "R090\tcards/old-name.md\tcards/new-name.md\n\nD\tcards/removed.md\nD\tcards/removed-but-redirected.md\nR100\tcards/older.md\tcards/kept.md\nD\tcards/removed.md\nD\tcards/kept.md\n";
        let all: Vec<String> = hints_from_log(log, &loaded.kb)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            all,
            [
                "c/cards/new-name.md: warning: renamed from `cards/old-name.md` (git history): links to /articles/old-name now answer 404 — add `aliases: [/articles/old-name]` to its front matter",
                "c/redirects.txt: warning: `cards/removed.md` was deleted (git history): links to /articles/removed now answer 404 — add `/articles/removed  gone  <its title>` to redirects.txt (a 410 with a search for it), or point it at the article that replaces it",
            ]
        );
    }
}
