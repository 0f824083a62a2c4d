//! From an [`Export`] to the files of a content directory: category folders, unique slugs,
//! bodies converted to Markdown on every core with their internal links rewritten, front
//! matter in Deflect's format, and what each article needs from its author. Same export,
//! same files, byte for byte.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use super::html::{Converter, LinkFate, LinkMap, Notes};
use super::names::{category_folders, doc_stem, id_key, slugify};
use super::{Body, Export, SourceArticle};
use crate::content::front_matter::{MAX_KEYWORDS, MAX_TICKET_TYPES, is_slug, normalize_path};
use crate::content::redirects::SERVED_PREFIXES;
use crate::content::{Article, REDIRECTS_FILE};

/// Longer than this many words, an article is worth splitting.
pub const VERY_LONG_WORDS: usize = 2_000;
/// Articles converted between two progress reports.
const BATCH: usize = 256;

/// A file to write, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub text: String,
}

/// Something an author should look at in an imported article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attention {
    /// The summary was taken from the first paragraph.
    NoSummary,
    NoQuickAnswer,
    VeryLong(usize),
    Empty,
    /// Same title as these other imported articles (slugs).
    DuplicateTitle(Vec<String>),
    /// Links into the old help center to articles not in the export.
    BrokenLinks(Vec<String>),
    /// Active content removed: script, style, form, ...
    Dropped(Vec<String>),
    /// Embedded videos or frames turned into links.
    Embeds(usize),
    /// Images still served by the source system.
    RemoteImages(usize),
    /// Lines kept as text that are not Markdown (MDX, shortcodes), with their source line.
    OddLines(Vec<(usize, String)>),
    /// No date in the export: `last_reviewed` is the import's day.
    NoReviewDate,
    /// Labels beyond the keyword limit, not kept.
    KeywordsCut(Vec<String>),
    /// An old URL another article already redirects.
    AliasTaken(String),
    /// What `deflect check` would say about the written file.
    Check(String),
}

/// One imported article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedArticle {
    pub id: String,
    pub source_file: PathBuf,
    pub title: String,
    pub slug: String,
    pub path: PathBuf,
    pub draft: bool,
    pub redirects: usize,
    pub links_rewritten: usize,
    pub attention: Vec<Attention>,
}

/// Everything an import will write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    pub articles: Vec<PlannedArticle>,
    /// Category folders created.
    pub categories: usize,
    /// Old paths that answer with a 301: articles' aliases and `redirects.txt` lines.
    pub redirects: usize,
}

/// Plans the import of `export`. `ticket_types`: ids from the output's ticket-types.toml,
/// which labels may name. `progress` hears (articles converted, all articles).
pub fn plan(
    export: &Export,
    ticket_types: &[String],
    today: NaiveDate,
    progress: &mut dyn FnMut(usize, usize),
) -> Plan {
    let folders = category_folders(export);
    let mut order: Vec<&SourceArticle> = export.articles.iter().collect();
    order.sort_by(|a, b| id_key(&a.id).cmp(&id_key(&b.id)));

    // Slugs: the source's own when valid, else from the title; unique in order of id.
    let mut taken = HashSet::new();
    let slugs: Vec<String> = order
        .iter()
        .map(|a| {
            let base = a
                .slug
                .as_deref()
                .map(str::trim)
                .filter(|s| is_slug(s))
                .map_or_else(|| slugify(&a.title, 80), str::to_string);
            let base = if base.is_empty() {
                slugify(&format!("article {}", a.id), 80)
            } else {
                base
            };
            let base = if base.is_empty() {
                "article".to_string()
            } else {
                base
            };
            let mut slug = base.clone();
            let mut n = 1;
            while !taken.insert(slug.clone()) {
                n += 1;
                slug = format!("{base}-{n}");
            }
            slug
        })
        .collect();

    let mut links = LinkMap::default();
    let mut by_file_stem = HashMap::new();
    for (a, slug) in order.iter().zip(&slugs) {
        for url in &a.old_urls {
            links.insert(url, slug);
        }
        for number in &a.link_numbers {
            links.insert_number(number, slug);
        }
        if matches!(a.body, Body::Markdown(_)) {
            by_file_stem.insert(doc_stem(&a.id), slug.clone());
        }
    }
    let links = Arc::new(links);

    let total = order.len();
    let mut converted: Vec<(String, Notes)> = Vec::with_capacity(total);
    progress(0, total);
    for batch in order.chunks(BATCH) {
        converted.extend(convert_all(batch, &links, &by_file_stem));
        progress(converted.len(), total);
    }

    let folder_paths: HashSet<String> = folders
        .values()
        .flat_map(|f| {
            let mut acc = Vec::new();
            let mut at = f.as_str();
            while !at.is_empty() {
                acc.push(at.to_string());
                at = at.rsplit_once('/').map_or("", |(p, _)| p);
            }
            acc
        })
        .collect();
    let mut plan = Plan::default();
    let mut used_aliases: HashMap<String, String> = HashMap::new();
    let mut titles: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for ((a, slug), (body, notes)) in order.iter().zip(&slugs).zip(converted) {
        let folder = a.category.as_ref().and_then(|c| folders.get(c));
        let path = folder
            .map_or_else(PathBuf::new, PathBuf::from)
            .join(format!("{slug}.md"));
        let mut attention = Vec::new();
        let mut aliases = Vec::new();
        for url in &a.old_urls {
            let Some(p) = normalize_path(url) else {
                continue;
            };
            // A path the new site serves itself would never redirect.
            let served = p == "/"
                || SERVED_PREFIXES.iter().any(|s| p.starts_with(s))
                || p.strip_prefix("/articles/")
                    .is_some_and(|s| taken.contains(s))
                || p.strip_prefix("/categories/")
                    .is_some_and(|c| folder_paths.contains(c));
            if served {
                continue;
            }
            match used_aliases.get(&p) {
                Some(other) if other != slug => attention.push(Attention::AliasTaken(p)),
                Some(_) => {}
                None => {
                    used_aliases.insert(p.clone(), slug.clone());
                    aliases.push(p);
                }
            }
        }
        let (text, mut more) = compose(
            export.system.name(),
            a,
            slug,
            &body,
            &aliases,
            ticket_types,
            today,
        );
        attention.append(&mut more);
        if !notes.dropped.is_empty() {
            attention.push(Attention::Dropped(notes.dropped.iter().cloned().collect()));
        }
        if notes.embeds > 0 {
            attention.push(Attention::Embeds(notes.embeds));
        }
        if notes.remote_images > 0 {
            attention.push(Attention::RemoteImages(notes.remote_images));
        }
        if !notes.links_broken.is_empty() {
            attention.push(Attention::BrokenLinks(notes.links_broken.clone()));
        }
        if !a.odd_lines.is_empty() {
            attention.push(Attention::OddLines(a.odd_lines.clone()));
        }
        // What `deflect check` will say about this file on its own.
        let mut diags = Vec::new();
        let parsed = Article::parse(&path, &path, &text, today, &mut diags);
        for d in diags.iter().filter(|d| d.is_error()) {
            attention.push(Attention::Check(format!("{}: {}", d.message, d.fix)));
        }
        if let Some(article) = &parsed {
            let words = article
                .text
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .count();
            if words == 0 {
                attention.push(Attention::Empty);
            } else if words > VERY_LONG_WORDS {
                attention.push(Attention::VeryLong(words));
            }
            if article.quick_answer.is_none() {
                attention.push(Attention::NoQuickAnswer);
            }
        }
        titles
            .entry(a.title.trim().to_lowercase())
            .or_default()
            .push(plan.articles.len());
        plan.redirects += aliases.len();
        plan.articles.push(PlannedArticle {
            id: a.id.clone(),
            source_file: a.file.clone(),
            title: a.title.clone(),
            slug: slug.clone(),
            path: path.clone(),
            draft: a.draft,
            redirects: aliases.len(),
            links_rewritten: notes.links_rewritten,
            attention,
        });
        plan.files.push(PlannedFile { path, text });
    }
    for same in titles.values().filter(|v| v.len() > 1) {
        for &i in same {
            let others = same
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| plan.articles[j].slug.clone())
                .collect();
            plan.articles[i]
                .attention
                .push(Attention::DuplicateTitle(others));
        }
    }

    // Category pages of the old help center lead to the new category pages.
    let mut lines = Vec::new();
    let used: HashSet<&String> = export
        .articles
        .iter()
        .filter_map(|a| a.category.as_ref())
        .collect();
    let mut categories: Vec<&String> = folders.values().collect();
    categories.sort();
    categories.dedup();
    plan.categories = categories.len();
    for c in &export.categories {
        let (Some(url), Some(folder)) = (&c.old_url, folders.get(&c.id)) else {
            continue;
        };
        let Some(old) = normalize_path(url) else {
            continue;
        };
        // A category no article lives in (directly or below) has no page.
        let has_page = used
            .iter()
            .filter_map(|id| folders.get(*id))
            .any(|f| f == folder || f.starts_with(&format!("{folder}/")));
        if has_page && !used_aliases.contains_key(&old) {
            used_aliases.insert(old.clone(), folder.clone());
            lines.push(format!("{old}  /categories/{folder}"));
        }
    }
    if !lines.is_empty() {
        lines.sort();
        plan.redirects += lines.len();
        let mut text = format!(
            "# Old {} category and section pages, and where they are now.\n",
            export.system.name()
        );
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
        plan.files.push(PlannedFile {
            path: PathBuf::from(REDIRECTS_FILE),
            text,
        });
    }
    plan
}

/// Converts a batch of bodies on every core, in order.
fn convert_all(
    batch: &[&SourceArticle],
    links: &Arc<LinkMap>,
    by_file_stem: &HashMap<String, String>,
) -> Vec<(String, Notes)> {
    let threads = std::thread::available_parallelism()
        .map(std::num::NonZero::get)
        .unwrap_or(1)
        .min(batch.len().max(1));
    let chunk = batch.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                let links = Arc::clone(links);
                scope.spawn(move || {
                    let converter = Converter::new(Arc::clone(&links));
                    part.iter()
                        .map(|a| match &a.body {
                            Body::Html(html) => converter.convert(html),
                            Body::Markdown(md) => rewrite_doc_links(md, &links, by_file_stem),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// A docs page's links to other pages (`../guides/install.md#x`) pointed at the new slugs.
fn rewrite_doc_links(
    md: &str,
    links: &LinkMap,
    by_file_stem: &HashMap<String, String>,
) -> (String, Notes) {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut notes = Notes::default();
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (event, range) in Parser::new(md).into_offset_iter() {
        let Event::Start(Tag::Link { dest_url, .. }) = event else {
            continue;
        };
        let url = dest_url.to_string();
        let (target, anchor) = url
            .split_once('#')
            .map_or((url.as_str(), None), |(t, a)| (t, Some(a)));
        let is_doc = [".md", ".mdx", ".markdown"]
            .iter()
            .any(|ext| target.to_ascii_lowercase().ends_with(ext))
            && !target.contains("://");
        let fate = if is_doc {
            match by_file_stem.get(&doc_stem(target)) {
                Some(slug) => LinkFate::Rewrite(match anchor {
                    Some(a) if !a.is_empty() => format!("/articles/{slug}#{a}"),
                    _ => format!("/articles/{slug}"),
                }),
                None => LinkFate::Broken,
            }
        } else {
            links.resolve(&url)
        };
        match fate {
            LinkFate::Rewrite(to) => {
                // The destination appears once inside the link's source text: `](dest`.
                let text = &md[range.clone()];
                if let Some(at) = text.rfind(url.as_str()) {
                    let start = range.start + at;
                    edits.push((start..start + url.len(), to));
                    notes.links_rewritten += 1;
                }
            }
            LinkFate::Broken => notes.links_broken.push(url),
            LinkFate::Keep => {}
        }
    }
    let mut out = md.to_string();
    for (range, to) in edits.into_iter().rev() {
        out.replace_range(range, &to);
    }
    (out, notes)
}

/// The file text of one article and what its front matter needed.
fn compose(
    system: &str,
    a: &SourceArticle,
    slug: &str,
    body: &str,
    aliases: &[String],
    ticket_types: &[String],
    today: NaiveDate,
) -> (String, Vec<Attention>) {
    let mut attention = Vec::new();
    let title = Some(one_line(&a.title))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("Article {}", one_line(&a.id)));
    let summary = match a.summary.as_deref().map(one_line).filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => {
            attention.push(Attention::NoSummary);
            first_sentences(body).unwrap_or_else(|| title.clone())
        }
    };
    let reviewed = match a.updated {
        Some(d) => d.min(today),
        None => {
            attention.push(Attention::NoReviewDate);
            today
        }
    };
    let mut keywords = Vec::new();
    let mut types = Vec::new();
    for label in &a.keywords {
        let label = one_line(label);
        if label.is_empty() || keywords.contains(&label) || types.contains(&label) {
            continue;
        }
        if ticket_types.contains(&label) && types.len() < MAX_TICKET_TYPES {
            types.push(label);
        } else {
            keywords.push(label);
        }
    }
    if keywords.len() > MAX_KEYWORDS {
        attention.push(Attention::KeywordsCut(keywords.split_off(MAX_KEYWORDS)));
    }
    let mut y = String::from("---\n");
    let mut line = |key: &str, value: String| {
        y.push_str(key);
        y.push_str(": ");
        y.push_str(&value);
        y.push('\n');
    };
    line("title", quote(&title));
    line("summary", quote(&summary));
    line("last_reviewed", reviewed.to_string());
    if !types.is_empty() {
        line("ticket_types", list(&types));
    }
    if !keywords.is_empty() {
        line("keywords", list(&keywords));
    }
    let tags: Vec<String> = a
        .tags
        .iter()
        .map(|t| one_line(t))
        .filter(|t| !t.is_empty())
        .collect();
    if !tags.is_empty() {
        line("tags", list(&tags));
    }
    if a.featured {
        line("featured", "true".into());
    }
    if a.draft {
        line("status", "draft".into());
    }
    if let Some(order) = a.order {
        line("order", order.to_string());
    }
    if !aliases.is_empty() {
        line("aliases", list(aliases));
    }
    let mut origin = format!("# Imported from {system}: article {}", one_line(&a.id));
    if let Some(locale) = &a.locale {
        origin.push_str(&format!(", locale {}", one_line(locale)));
    }
    if let Some((up, total)) = a.votes {
        origin.push_str(&format!(", {up} of {total} votes helpful"));
    }
    if slug != slugify(&a.title, 80) && a.slug.as_deref() != Some(slug) {
        origin.push_str(&format!(", slug `{slug}`"));
    }
    y.push_str(&one_line(&origin));
    y.push_str(".\n---\n\n");
    y.push_str(without_title_heading(body, &title));
    if !y.ends_with('\n') {
        y.push('\n');
    }
    (y, attention)
}

/// The body without a first heading that only repeats the title (the page shows the title).
fn without_title_heading<'a>(body: &'a str, title: &str) -> &'a str {
    let body = body.trim_start_matches('\n');
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    let heading = first.trim_start_matches('#');
    if heading.len() < first.len() && heading.trim().eq_ignore_ascii_case(title.trim()) {
        rest.trim_start_matches('\n')
    } else {
        body
    }
}

/// The first sentence or two of a body's first paragraph, for a summary: at most 200 characters.
fn first_sentences(body: &str) -> Option<String> {
    let rendered = crate::content::markdown::render(body, 1);
    // Not a line an MDX import, a component or a shortcode left behind.
    let para = rendered.text.lines().map(str::trim).find(|l| {
        l.len() > 1
            && !["import ", "export ", "<", ":::", "{{", "{%", "!!!"]
                .iter()
                .any(|p| l.starts_with(p))
    })?;
    let mut out = String::new();
    for sentence in para.split_inclusive(". ") {
        if !out.is_empty() && out.len() + sentence.len() > 200 {
            break;
        }
        out.push_str(sentence);
        if out.len() >= 60 {
            break;
        }
    }
    let out = out.trim();
    if out.chars().count() > 200 {
        let cut: String = out.chars().take(197).collect();
        let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
        return Some(format!("{cut}…"));
    }
    Some(out.to_string())
}

/// Text on one line without control characters: YAML front matter and comments can hold
/// neither line breaks nor (even quoted) C1 controls and non-characters.
fn one_line(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| !c.is_control() && !matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}'))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|i| quote(i))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Where the checklist of an import into `out` goes: beside the directory, not inside it, so
/// it is never taken for an article.
pub fn checklist_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "content".into(), |n| n.to_string_lossy().into_owned());
    out.parent()
        .unwrap_or_else(|| Path::new("."))
        .join(format!("{name}-import-checklist.md"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_come_from_the_first_paragraph() {
        assert_eq!(
            first_sentences("## Intro\n\nCards arrive in 3-5 days. Then activate them. Then more text follows here.\n").as_deref(),
            Some("Cards arrive in 3-5 days. Then activate them. Then more text follows here.")
        );
        assert_eq!(first_sentences(""), None);
        let long = "word ".repeat(100);
        let s = first_sentences(&long).expect("summary");
        assert!(s.ends_with('…') && s.chars().count() <= 200, "{s}");
    }
}
