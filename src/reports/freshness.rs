//! The freshness report: articles not reviewed within 180 days, with git's last change.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleArticle {
    pub slug: String,
    pub title: String,
    pub owner: Option<String>,
    pub last_reviewed: NaiveDate,
    pub days_since_review: i64,
    /// Views plus result clicks in the period.
    pub traffic: i64,
    /// The last commit touching the file, when content/ is a git repository.
    pub last_changed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FreshnessReport {
    pub period: Period,
    pub metrics: Vec<Metric>,
    pub published: i64,
    pub fresh: i64,
    /// Stale and popular first.
    pub stale: Vec<StaleArticle>,
    pub git: bool,
}

/// The last commit time of every file under `dir`, from one `git log` pass; `None` when
/// `dir` is not in a git repository or git is not installed.
pub fn git_last_changes(dir: &Path) -> Option<HashMap<String, String>> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "log",
            "--format=format:%x00%cI",
            "--name-only",
            "--relative",
            "--no-renames",
            "--",
            ".",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut last: HashMap<String, String> = HashMap::new();
    let mut when = String::new();
    for line in text.lines() {
        if let Some(time) = line.strip_prefix('\0') {
            when = time.trim().to_string();
        } else if !line.trim().is_empty() {
            // Newest commits come first: keep the first time seen per file.
            last.entry(line.trim().to_string())
                .or_insert_with(|| when.clone());
        }
    }
    Some(last)
}

pub(super) async fn build(
    inputs: Inputs<'_>,
    period: Period,
) -> Result<FreshnessReport, ReportError> {
    let traffic: HashMap<String, i64> = inputs
        .store
        .article_traffic(period.since, period.until, i64::MAX)
        .await?
        .into_iter()
        .collect();
    let root = inputs.kb.root.clone();
    let git = tokio::task::spawn_blocking(move || git_last_changes(&root))
        .await
        .ok()
        .flatten();
    let published: Vec<_> = inputs.kb.published().collect();
    let cutoff = inputs.today - Duration::days(FRESH_DAYS);
    let fresh = published
        .iter()
        .filter(|a| a.front.last_reviewed >= cutoff)
        .count();
    let mut stale: Vec<StaleArticle> = published
        .iter()
        .filter(|a| a.front.last_reviewed < cutoff)
        .map(|a| StaleArticle {
            slug: a.slug.clone(),
            title: a.front.title.clone(),
            owner: a.front.owner.clone(),
            last_reviewed: a.front.last_reviewed,
            days_since_review: (inputs.today - a.front.last_reviewed).num_days(),
            traffic: traffic.get(&a.slug).copied().unwrap_or(0),
            last_changed: git.as_ref().and_then(|g| {
                let rel = a.path.to_string_lossy().replace('\\', "/");
                g.get(&rel).cloned()
            }),
        })
        .collect();
    stale.sort_by(|a, b| {
        b.traffic
            .cmp(&a.traffic)
            .then(a.last_reviewed.cmp(&b.last_reviewed))
            .then_with(|| a.slug.cmp(&b.slug))
    });
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    Ok(FreshnessReport {
        period,
        metrics: vec![FRESHNESS.ratio(n(fresh), n(published.len()))],
        published: n(published.len()),
        fresh: n(fresh),
        stale,
        git: git.is_some(),
    })
}

impl FreshnessReport {
    /// The report's tables; the first is the one exported as CSV by default.
    pub fn tables(&self) -> Vec<Table> {
        let mut s = Table::new(
            "stale",
            "Stale articles (not reviewed in 180 days), most read first",
            &[
                "slug",
                "title",
                "owner",
                "last_reviewed",
                "days_since_review",
                "traffic",
                "last_changed",
            ],
        );
        for a in &self.stale {
            s.row(vec![
                a.slug.clone(),
                a.title.clone(),
                a.owner.clone().unwrap_or_default(),
                a.last_reviewed.to_string(),
                a.days_since_review.to_string(),
                a.traffic.to_string(),
                a.last_changed.clone().unwrap_or_default(),
            ]);
        }
        vec![s]
    }
}
