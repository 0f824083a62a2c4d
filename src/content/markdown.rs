//! Markdown rendering: the one place pulldown-cmark options live. Produces HTML with heading
//! anchors, the plain text that is indexed, the template's sections and the internal links.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use super::diagnostic::LineIndex;

/// Sections whose text points elsewhere; indexing them would make an article match its neighbours.
const UNINDEXED_SECTIONS: [&str; 2] = ["related articles", "still need help?"];

/// A heading with its generated anchor id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    pub id: String,
}

/// A link in the body and the file line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub line: usize,
}

/// A `##` section of the body: its title and plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub text: String,
}

/// A question and its answer from a list item that opens with a bold question, as FAQ
/// articles are written: `- **Where's my card?** Delivery takes 3-5 working days.`
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Faq {
    pub question: String,
    pub answer: String,
}

/// Where the renderer is inside a top-level list item, while looking for a [`Faq`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaqPhase {
    /// Nothing read yet: a bold question may start here.
    Start,
    Question,
    Answer,
    /// The item did not open with bold text.
    NotFaq,
}

/// Everything derived from an article body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: String,
    /// Plain text of the searchable part of the body, paragraphs separated by newlines.
    pub text: String,
    pub headings: Vec<Heading>,
    pub sections: Vec<Section>,
    pub links: Vec<Link>,
    /// Question-and-answer list items (schema.org FAQPage data).
    pub faqs: Vec<Faq>,
    /// Links and images whose URL could run script (`javascript:`, `vbscript:`, `data:`),
    /// rendered as `#` instead.
    pub unsafe_urls: Vec<Link>,
    /// Lines of headings that carried attributes (`## Title {onclick=…}`), dropped on render.
    pub heading_attributes: Vec<usize>,
}

/// URL schemes that run script or smuggle content when followed or loaded: the one policy of
/// the one Markdown renderer, for pages and the article API alike.
const UNSAFE_SCHEMES: [&str; 3] = ["javascript:", "vbscript:", "data:"];

/// Whether a link or image URL uses an unsafe scheme, however it is cased or padded with the
/// whitespace and control characters browsers ignore.
pub fn is_unsafe_url(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(16)
        .flat_map(char::to_lowercase)
        .collect();
    UNSAFE_SCHEMES.iter().any(|s| cleaned.starts_with(s))
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// An anchor id for a heading: lowercase ASCII words joined by hyphens.
pub fn anchor(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "section".into()
    } else {
        out
    }
}

fn level_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Renders a body. `first_line` is the file line the body starts on, so links carry file lines.
/// Raw HTML in the Markdown is shown as text, never passed through.
pub fn render(body: &str, first_line: usize) -> Rendered {
    let mut out = Rendered::default();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut used_ids = HashSet::new();
    // The next suffix to try per anchor: 20,000 identical headings stay linear.
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut heading: Option<(usize, HeadingLevel, String)> = None;
    let mut section: Option<Section> = None;
    let mut preamble = String::new();
    let mut list_depth = 0usize;
    let mut faq: Option<(FaqPhase, Faq)> = None;

    let lines = LineIndex::new(body);
    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        let event = match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) if is_unsafe_url(&dest_url) => {
                out.unsafe_urls.push(Link {
                    url: dest_url.to_string(),
                    line: first_line + lines.line(range.start) - 1,
                });
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: CowStr::from("#"),
                    title,
                    id,
                })
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) if is_unsafe_url(&dest_url) => {
                out.unsafe_urls.push(Link {
                    url: dest_url.to_string(),
                    line: first_line + lines.line(range.start) - 1,
                });
                Event::Start(Tag::Image {
                    link_type,
                    dest_url: CowStr::from("#"),
                    title,
                    id,
                })
            }
            // `{onclick=…}` after a heading would pass any attribute through: classes stay
            // (styling), other attributes go (the id is set below, from the heading's text).
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                if !attrs.is_empty() {
                    out.heading_attributes
                        .push(first_line + lines.line(range.start) - 1);
                }
                Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs: Vec::new(),
                })
            }
            other => other,
        };
        track_faq(&event, &mut list_depth, &mut faq, &mut out.faqs);
        match &event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((events.len(), *level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, level, text)) = heading.take() {
                    let text = text.trim().to_string();
                    let mut id = anchor(&text);
                    let base = id.clone();
                    let n = next_suffix.entry(base.clone()).or_insert(1);
                    while !used_ids.insert(id.clone()) {
                        *n += 1;
                        id = format!("{base}-{n}");
                    }
                    if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[start] {
                        *slot = Some(CowStr::from(id.clone()));
                    }
                    if level == HeadingLevel::H2 {
                        if let Some(done) = section.take() {
                            out.sections.push(done);
                        }
                        section = Some(Section {
                            title: text.clone(),
                            text: String::new(),
                        });
                    }
                    out.headings.push(Heading {
                        level: level_number(level),
                        text,
                        id,
                    });
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => out.links.push(Link {
                url: dest_url.to_string(),
                line: first_line + lines.line(range.start) - 1,
            }),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, text)) = heading.as_mut() {
                    text.push_str(t);
                } else {
                    section
                        .as_mut()
                        .map_or(&mut preamble, |s| &mut s.text)
                        .push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak if heading.is_none() => {
                section
                    .as_mut()
                    .map_or(&mut preamble, |s| &mut s.text)
                    .push(' ');
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::CodeBlock,
            ) => {
                let text = section.as_mut().map_or(&mut preamble, |s| &mut s.text);
                if !text.ends_with('\n') && !text.is_empty() {
                    text.push('\n');
                }
            }
            _ => {}
        }
        events.push(event);
    }
    if let Some(done) = section.take() {
        out.sections.push(done);
    }
    html::push_html(&mut out.html, events.into_iter());

    out.text = preamble.trim().to_string();
    for s in &out.sections {
        if UNINDEXED_SECTIONS.contains(&s.title.to_lowercase().as_str()) {
            continue;
        }
        if !out.text.is_empty() {
            out.text.push('\n');
        }
        out.text.push_str(s.text.trim());
    }
    for s in &mut out.sections {
        s.text = s.text.trim().to_string();
    }
    out
}

/// Follows list items and collects those that open with a bold question ending in `?`.
fn track_faq(
    event: &Event<'_>,
    depth: &mut usize,
    faq: &mut Option<(FaqPhase, Faq)>,
    faqs: &mut Vec<Faq>,
) {
    let top_level = *depth == 1;
    match event {
        Event::Start(Tag::Item) => {
            *depth += 1;
            if let Some((FaqPhase::Answer, f)) = faq.as_mut() {
                f.answer.push(' ');
            }
            if *depth == 1 {
                *faq = Some((
                    FaqPhase::Start,
                    Faq {
                        question: String::new(),
                        answer: String::new(),
                    },
                ));
            }
        }
        Event::End(TagEnd::Item) => {
            *depth = depth.saturating_sub(1);
            if *depth == 0
                && let Some((FaqPhase::Answer, mut f)) = faq.take()
            {
                f.question = f.question.trim().to_string();
                f.answer = f.answer.split_whitespace().collect::<Vec<_>>().join(" ");
                if f.question.ends_with('?') && !f.answer.is_empty() {
                    faqs.push(f);
                }
            }
        }
        Event::Start(Tag::Strong) if top_level => {
            if let Some((phase @ FaqPhase::Start, _)) = faq.as_mut() {
                *phase = FaqPhase::Question;
            }
        }
        Event::End(TagEnd::Strong) if top_level => {
            if let Some((phase @ FaqPhase::Question, _)) = faq.as_mut() {
                *phase = FaqPhase::Answer;
            }
        }
        Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {
            if let Some((FaqPhase::Answer, f)) = faq.as_mut() {
                f.answer.push(' ');
            }
        }
        Event::Text(t) | Event::Code(t) => match faq.as_mut() {
            Some((FaqPhase::Question, f)) if top_level => f.question.push_str(t),
            Some((FaqPhase::Answer, f)) => f.answer.push_str(t),
            Some((phase @ FaqPhase::Start, _)) => *phase = FaqPhase::NotFaq,
            _ => {}
        },
        Event::SoftBreak | Event::HardBreak => {
            if let Some((FaqPhase::Answer, f)) = faq.as_mut() {
                f.answer.push(' ');
            }
        }
        Event::Start(_) => {
            if let Some((phase @ FaqPhase::Start, _)) = faq.as_mut() {
                *phase = FaqPhase::NotFaq;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "Intro line.\n\n## Quick answer\n\nFreeze it **now**.\nThen order a new one.\n\n## Steps\n\n1. Open [Card](/articles/activate-my-card)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Related articles\n\n- [Other](/articles/other)\n\n## Steps\n\n<script>alert(1)</script>\n";

    #[test]
    fn headings_get_unique_anchors() {
        let r = render(BODY, 10);
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            ["quick-answer", "steps", "related-articles", "steps-2"]
        );
        assert!(
            r.html.contains("<h2 id=\"quick-answer\">Quick answer</h2>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn sections_and_indexed_text() {
        let r = render(BODY, 10);
        assert_eq!(r.sections[0].title, "Quick answer");
        assert_eq!(r.sections[0].text, "Freeze it now. Then order a new one.");
        assert!(
            r.text.starts_with("Intro line.\nFreeze it now."),
            "{}",
            r.text
        );
        assert!(
            !r.text.contains("Other"),
            "related articles are not indexed: {}",
            r.text
        );
    }

    #[test]
    fn links_carry_file_lines_and_tables_render() {
        let r = render(BODY, 10);
        assert_eq!(
            r.links[0],
            Link {
                url: "/articles/activate-my-card".into(),
                line: 19
            }
        );
        assert!(r.html.contains("<table>"));
    }

    #[test]
    fn raw_html_is_escaped() {
        let r = render(BODY, 1);
        assert!(!r.html.contains("<script>"));
        assert!(r.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn links_and_images_that_could_run_script_are_served_as_hash() {
        let body = "Intro.\n\n[click](javascript:alert(1)) [x]( JaVaScRiPt:alert(2)) \
                    [v](vbscript:msgbox) ![i](data:image/svg+xml;base64,PHN2Zz4=) \
                    [ok](https://example.com/a) [art](/articles/freeze-card)\n";
        let r = render(body, 10);
        for bad in ["javascript:", "JaVaScRiPt:", "vbscript:", "data:"] {
            assert!(!r.html.contains(bad), "{bad} survived: {}", r.html);
        }
        assert!(
            r.html.contains("href=\"https://example.com/a\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("href=\"/articles/freeze-card\""),
            "{}",
            r.html
        );
        assert_eq!(r.unsafe_urls.len(), 4, "{:?}", r.unsafe_urls);
        assert!(
            r.unsafe_urls.iter().all(|l| l.line == 12),
            "{:?}",
            r.unsafe_urls
        );
        assert!(is_unsafe_url("\u{1}java\tscript:x"));
        assert!(!is_unsafe_url("/articles/data-usage"));
    }

    #[test]
    fn many_identical_headings_get_unique_ids_in_linear_time() {
        let body = "## Same\n\ntext\n\n".repeat(20_000);
        let started = std::time::Instant::now();
        let r = render(&body, 1);
        let ids: HashSet<&str> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids.len(), 20_000);
        assert!(ids.contains("same") && ids.contains("same-20000"));
        // Quadratic de-duplication took tens of seconds here; linear takes milliseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn anchors_are_url_safe() {
        assert_eq!(anchor("Still need help?"), "still-need-help");
        assert_eq!(anchor("  ??  "), "section");
    }

    #[test]
    fn faq_items_are_list_items_opening_with_a_bold_question() {
        let body = "## Steps\n\n1. **Where is my card?** It takes 3-5\n   working days. See [Card](/articles/card).\n2. **Not a question** text.\n3. Plain **bold?** later.\n4. **Nested?** Yes:\n   - **Inner?** no\n";
        let r = render(body, 1);
        assert_eq!(
            r.faqs,
            [
                Faq {
                    question: "Where is my card?".into(),
                    answer: "It takes 3-5 working days. See Card.".into(),
                },
                Faq {
                    question: "Nested?".into(),
                    answer: "Yes: Inner? no".into(),
                },
            ]
        );
    }
}
