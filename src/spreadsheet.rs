//! The one CSV writer every export uses (ticket export, report tables). Cells are opened in
//! spreadsheets, where text starting with `=`, `+`, `-`, `@`, a tab or a carriage return runs
//! as a formula (`=HYPERLINK(…)`): such cells get a leading `'`, which spreadsheets show as
//! text and hide. Plain numbers are left as they are.

/// A cell a spreadsheet shows as text, never runs. Plain numbers (`-3.5`) stay numbers.
pub fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// CSV of a header and rows, every cell made safe with [`cell`].
pub fn write<R, C>(header: &[&str], rows: R) -> Result<Vec<u8>, csv::Error>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator,
    C::Item: AsRef<str>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header.iter().map(|h| cell(h).into_owned()))?;
    for row in rows {
        w.write_record(row.into_iter().map(|c| cell(c.as_ref()).into_owned()))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_the_rest_is_untouched() {
        let out = write(
            &["email", "comment"],
            [
                ["=HYPERLINK(\"http://evil\")@x.com", "+1 great"],
                ["ana@example.com", "-5 bad"],
                ["@SUM(A1)", "plain, with comma"],
                ["\tx", "=1+1"],
                ["-5.25", "+3"],
            ],
        )
        .expect("csv");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "email,comment");
        assert_eq!(
            lines[1],
            "\"'=HYPERLINK(\"\"http://evil\"\")@x.com\",'+1 great"
        );
        assert_eq!(lines[2], "ana@example.com,'-5 bad");
        assert_eq!(lines[3], "'@SUM(A1),\"plain, with comma\"");
        assert_eq!(lines[4], "'\tx,'=1+1");
        assert_eq!(lines[5], "-5.25,+3", "numbers stay numbers");
    }
}
