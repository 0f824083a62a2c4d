//! Reading saved API responses: the JSON files of a directory (or one file), each error naming
//! the file and the position, and lenient field access (ids as numbers or text, dates as
//! RFC 3339 text or epoch seconds).

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::Value;

/// The `.json` files under `path` in name order, or `path` itself when it is a file.
pub fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.with_context(|| format!("reading {}", path.display()))?;
        if entry.file_type().is_file()
            && entry
                .path()
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            out.push(entry.into_path());
        }
    }
    anyhow::ensure!(
        !out.is_empty(),
        "no .json files in {} — save each API response as a .json file there",
        path.display()
    );
    Ok(out)
}

/// Parses one saved response.
pub fn read(file: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not valid JSON: {e} — save the API response body exactly as it came (e.g. `curl … > {}`)",
            file.display(),
            e.line(),
            e.column(),
            file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        )
    })
}

/// A text field; numbers count as text.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An id: a number or a non-empty string.
pub fn id(v: &Value, key: &str) -> Option<String> {
    text(v, key)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub fn boolean(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

pub fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// A list of text items; anything else in it is skipped.
pub fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A date from RFC 3339 text (`2024-05-01T10:00:00Z`), a plain `YYYY-MM-DD`, or epoch seconds.
pub fn date(v: &Value, key: &str) -> Option<NaiveDate> {
    match v.get(key)? {
        Value::String(s) => parse_date(s),
        Value::Number(n) => n
            .as_i64()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .map(|t| t.date_naive()),
        _ => None,
    }
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.date_naive())
        .ok()
        .or_else(|| {
            s.get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        })
}

/// The items of a response's list: `{"articles": [...]}` or Help Scout's
/// `{"articles": {"items": [...]}}`.
pub fn list<'a>(v: &'a Value, key: &str) -> Option<&'a Vec<Value>> {
    match v.get(key)? {
        Value::Array(items) => Some(items),
        Value::Object(o) => o.get("items").and_then(Value::as_array),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_fields() {
        let v = serde_json::json!({"id": 360001234, "s": " x ", "d": "2024-05-01T10:00:00Z", "e": 1700000000, "l": ["a", 3, null], "bad": {"x": 1}});
        assert_eq!(id(&v, "id").as_deref(), Some("360001234"));
        assert_eq!(id(&v, "s").as_deref(), Some("x"));
        assert_eq!(date(&v, "d"), NaiveDate::from_ymd_opt(2024, 5, 1));
        assert_eq!(date(&v, "e"), NaiveDate::from_ymd_opt(2023, 11, 14));
        assert_eq!(date(&v, "bad"), None);
        assert_eq!(strings(&v, "l"), ["a", "3"]);
        assert_eq!(text(&v, "bad"), None);
    }
}
