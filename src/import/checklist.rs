//! What an import did, for the terminal (one summary) and for the author (a Markdown checklist
//! written beside the content directory, one box per thing to look at).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::plan::{Attention, Plan, PlannedArticle};
use super::{Export, Skipped};

/// Counts and the articles that need attention.
#[derive(Debug, Clone)]
pub struct Summary {
    pub system: &'static str,
    pub out: PathBuf,
    pub articles: usize,
    pub drafts: usize,
    pub categories: usize,
    pub redirects: usize,
    pub files_written: usize,
    pub links_rewritten: usize,
    pub skipped: Vec<Skipped>,
    pub needs: Vec<PlannedArticle>,
    /// How many articles have each kind of problem, in checklist order.
    pub counts: Vec<(&'static str, usize)>,
    pub seconds: f64,
    /// Where the checklist was written.
    pub checklist_file: PathBuf,
}

/// Kinds of attention, as the summary counts them.
const KINDS: [&str; 10] = [
    "no summary",
    "no Quick answer",
    "very long",
    "empty",
    "duplicate title",
    "broken internal links",
    "content removed",
    "embedded videos",
    "images at the source",
    "not Markdown",
];

fn kind(a: &Attention) -> Option<usize> {
    Some(match a {
        Attention::NoSummary => 0,
        Attention::NoQuickAnswer => 1,
        Attention::VeryLong(_) => 2,
        Attention::Empty => 3,
        Attention::DuplicateTitle(_) => 4,
        Attention::BrokenLinks(_) => 5,
        Attention::Dropped(_) => 6,
        Attention::Embeds(_) => 7,
        Attention::RemoteImages(_) => 8,
        Attention::OddLines(_) => 9,
        _ => return None,
    })
}

impl Summary {
    pub fn new(export: &Export, plan: &Plan, files_written: usize, out: &Path) -> Self {
        let mut counts: Vec<(&'static str, usize)> = KINDS.iter().map(|k| (*k, 0)).collect();
        for a in &plan.articles {
            let mut seen = [false; KINDS.len()];
            for k in a.attention.iter().filter_map(kind) {
                if !seen[k] {
                    seen[k] = true;
                    counts[k].1 += 1;
                }
            }
        }
        Self {
            system: export.system.name(),
            out: out.to_path_buf(),
            articles: plan.articles.len(),
            drafts: plan.articles.iter().filter(|a| a.draft).count(),
            categories: plan.categories,
            redirects: plan.redirects,
            files_written,
            links_rewritten: plan.articles.iter().map(|a| a.links_rewritten).sum(),
            skipped: export.skipped.clone(),
            needs: plan
                .articles
                .iter()
                .filter(|a| !a.attention.is_empty())
                .cloned()
                .collect(),
            counts,
            seconds: 0.0,
            checklist_file: super::plan::checklist_path(out),
        }
    }

    pub fn checklist_path(&self) -> PathBuf {
        super::plan::checklist_path(&self.out)
    }

    /// Articles whose written file `deflect check` reports an error for.
    pub fn check_errors(&self) -> usize {
        self.needs
            .iter()
            .filter(|a| a.attention.iter().any(|x| matches!(x, Attention::Check(_))))
            .count()
    }

    /// The terminal summary, a few lines.
    pub fn text(&self) -> String {
        let mut s = format!(
            "imported {} articles ({} drafts) from {} into {}: {} categories, {} redirects, {} internal links rewritten, {} files written in {:.1} s\n",
            self.articles,
            self.drafts,
            self.system,
            self.out.display(),
            self.categories,
            self.redirects,
            self.links_rewritten,
            self.files_written,
            self.seconds
        );
        let needs: Vec<String> = self
            .counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if !needs.is_empty() {
            let _ = writeln!(s, "needs attention: {}", needs.join(", "));
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(s, "skipped {} items:", self.skipped.len());
            for k in self.skipped.iter().take(20) {
                let _ = writeln!(s, "  {k}");
            }
        }
        let _ = writeln!(s, "checklist: {}", self.checklist_file.display());
        s
    }

    /// The Markdown checklist for the authors.
    pub fn checklist(&self) -> String {
        let mut s = format!(
            "# Import from {} — checklist\n\n{} articles ({} drafts), {} categories, {} old URLs redirected, {} internal links rewritten.\nRun `deflect check --content {}` after editing.\n\n",
            self.system,
            self.articles,
            self.drafts,
            self.categories,
            self.redirects,
            self.links_rewritten,
            self.out.display()
        );
        if !self.skipped.is_empty() {
            s.push_str("## Not imported\n\n");
            for k in &self.skipped {
                let _ = writeln!(s, "- [ ] {k}");
            }
            s.push('\n');
        }
        s.push_str("## Needs an author's attention\n\n");
        if self.needs.is_empty() {
            s.push_str("Nothing: every article has a summary, a Quick answer and clean links.\n");
        }
        for a in &self.needs {
            let _ = writeln!(
                s,
                "- [ ] `{}` — {} (source article {})",
                a.path.display(),
                a.title.split_whitespace().collect::<Vec<_>>().join(" "),
                a.id
            );
            for x in &a.attention {
                let _ = writeln!(s, "  - [ ] {}", describe(x));
            }
        }
        s
    }
}

fn describe(a: &Attention) -> String {
    match a {
        Attention::NoSummary => "write a `summary` (it was taken from the first paragraph)".into(),
        Attention::NoQuickAnswer => {
            "add `## Quick answer` with two to four sentences (the suggestion endpoint answers from the first paragraph until then)".into()
        }
        Attention::VeryLong(words) => format!("{words} words: consider splitting it"),
        Attention::Empty => "the body is empty: write it or delete the file".into(),
        Attention::DuplicateTitle(others) => format!(
            "same title as {}: make each title the customer's own question",
            others.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
        ),
        Attention::BrokenLinks(urls) => format!(
            "links to old articles that were not exported, left as they were: {}",
            urls.iter().map(|u| format!("<{u}>")).collect::<Vec<_>>().join(", ")
        ),
        Attention::Dropped(tags) => format!(
            "removed {}: check nothing the reader needs was lost",
            tags.iter().map(|t| format!("`<{t}>`")).collect::<Vec<_>>().join(", ")
        ),
        Attention::Embeds(n) => format!("{n} embedded video(s) or frame(s) turned into links"),
        Attention::RemoteImages(n) => format!(
            "{n} image(s) still served by the old help center: copy them somewhere you host before it closes"
        ),
        Attention::OddLines(lines) => format!(
            "lines that are not Markdown, kept as text: {}",
            lines
                .iter()
                .take(5)
                .map(|(l, t)| format!("line {l} `{}`", t.replace('`', "'")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Attention::NoReviewDate => "no date in the export: `last_reviewed` is the import day; review it".into(),
        Attention::KeywordsCut(cut) => format!("labels beyond 12 not kept: {}", cut.join(", ")),
        Attention::AliasTaken(p) => format!("old URL {p} already redirects to another article"),
        Attention::Check(msg) => format!("`deflect check` error: {msg}"),
    }
}
