//! Names in the content directory: slugs from titles, category folder paths from the source
//! system's hierarchy (at most three levels, unique among siblings), docs pages' link names.

use std::collections::{HashMap, HashSet};

use super::Export;
use crate::content::article::MAX_CATEGORY_DEPTH;

/// The name a docs page is linked by: its file name without extension and number prefix.
pub(super) fn doc_stem(path: &str) -> String {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    strip_number_prefix(stem).to_ascii_lowercase()
}

/// `01-intro` → `intro` (Docusaurus' number prefixes).
pub fn strip_number_prefix(stem: &str) -> &str {
    let digits = stem.chars().take_while(char::is_ascii_digit).count();
    match stem[digits..].strip_prefix(['-', '_', '.']) {
        Some(rest) if digits > 0 && !rest.is_empty() => rest,
        _ => stem,
    }
}

/// Sorts ids numerically when they are numbers, then as text.
pub(super) fn id_key(id: &str) -> (u8, u128, &str) {
    match id.parse::<u128>() {
        Ok(n) => (0, n, id),
        Err(_) => (1, 0, id),
    }
}

/// Lowercase ASCII words joined by hyphens, at most `max` bytes, cut at a word.
pub fn slugify(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = fold(c);
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c != '\'' && c != '’' && !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    if out.len() > max {
        let cut = out[..max].rfind('-').unwrap_or(max);
        out.truncate(cut);
    }
    out
}

/// A few accented Latin letters to their ASCII base, so `Réinitialiser` → `reinitialiser`.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'ß' => 's',
        other => other,
    }
}

/// Each category's folder path (`getting-started/accounts`), at most three levels deep: a
/// deeper category's articles go to its ancestor at the third level.
pub(super) fn category_folders(export: &Export) -> HashMap<String, String> {
    let by_id: HashMap<&str, &super::Category> = export
        .categories
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    let mut sorted: Vec<&super::Category> = export.categories.iter().collect();
    sorted.sort_by(|a, b| {
        a.position
            .cmp(&b.position)
            .then(id_key(&a.id).cmp(&id_key(&b.id)))
    });
    // Folder names, unique among siblings, in order of position.
    let mut names: HashMap<&str, String> = HashMap::new();
    let mut used: HashSet<(Option<&str>, String)> = HashSet::new();
    for c in &sorted {
        let parent = c.parent.as_deref().filter(|p| by_id.contains_key(p));
        let base = slugify(&c.name, 60);
        let base = if base.is_empty() {
            slugify(&format!("category {}", c.id), 60)
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 1;
        while !used.insert((parent, name.clone())) {
            n += 1;
            name = format!("{base}-{n}");
        }
        names.insert(&c.id, name);
    }
    let mut out = HashMap::new();
    for c in &export.categories {
        // Walk up to the root; a parent cycle (a broken export) stops where it repeats.
        let mut chain = Vec::new();
        let mut at = Some(c.id.as_str());
        let mut seen = HashSet::new();
        while let Some(id) = at {
            if !seen.insert(id) {
                break;
            }
            let Some(cat) = by_id.get(id) else { break };
            chain.push(names.get(id).cloned().unwrap_or_default());
            at = cat.parent.as_deref();
        }
        chain.reverse();
        chain.truncate(MAX_CATEGORY_DEPTH);
        out.insert(c.id.clone(), chain.join("/"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_stems() {
        assert_eq!(
            slugify("How do I reset my PIN?", 80),
            "how-do-i-reset-my-pin"
        );
        assert_eq!(slugify("Réinitialiser l'accès", 80), "reinitialiser-lacces");
        assert_eq!(slugify("A very long title indeed", 12), "a-very-long");
        assert_eq!(slugify("???", 80), "");
        assert_eq!(strip_number_prefix("01-intro"), "intro");
        assert_eq!(strip_number_prefix("2024"), "2024");
        assert_eq!(doc_stem("../guides/02_install.mdx"), "install");
    }
}
