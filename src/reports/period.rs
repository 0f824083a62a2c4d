//! The time a report covers, parsed from `7d`, `24h` or a date.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::ReportError;

/// The time a report covers: `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Period {
    /// The default: the last 7 days.
    pub fn last_days(days: i64, now: DateTime<Utc>) -> Self {
        Self {
            since: now - Duration::days(days),
            until: now,
        }
    }

    /// `7d`, `24h`, `30d`, `2w`, or an ISO date (`2026-11-01`, from UTC midnight) or RFC 3339 time.
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<Self, ReportError> {
        let bad = || ReportError::BadPeriod(text.chars().take(64).collect());
        let t = text.trim();
        let since = if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            date.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc()
        } else if let Ok(time) = DateTime::parse_from_rfc3339(t) {
            time.with_timezone(&Utc)
        } else {
            // The unit is the last character, whatever its width: `é` must be an error, not a
            // split inside a character.
            let split = t.char_indices().last().map(|(i, _)| i).ok_or_else(bad)?;
            let (n, unit) = t.split_at(split);
            let n: i64 = n.parse().map_err(|_| bad())?;
            if !(1..=3660).contains(&n) {
                return Err(bad());
            }
            let span = match unit {
                "h" => Duration::hours(n),
                "d" => Duration::days(n),
                "w" => Duration::weeks(n),
                _ => return Err(bad()),
            };
            now - span
        };
        if since >= now {
            return Err(bad());
        }
        Ok(Self { since, until: now })
    }

    pub fn length(&self) -> Duration {
        self.until - self.since
    }

    /// The period of equal length just before this one.
    pub fn previous(&self) -> Self {
        Self {
            since: self.since - self.length(),
            until: self.since,
        }
    }

    /// The last 7 days of the period (all of it when shorter).
    pub(super) fn last_week_start(&self) -> DateTime<Utc> {
        (self.until - Duration::days(7)).max(self.since)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_time::now;
    use super::*;

    #[test]
    fn periods() {
        let n = now();
        let ok = [
            ("7d", n - Duration::days(7)),
            ("24h", n - Duration::hours(24)),
            ("30d", n - Duration::days(30)),
            ("2w", n - Duration::days(14)),
            (
                "2026-11-01",
                NaiveDate::from_ymd_opt(2026, 11, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc())
                    .unwrap_or_default(),
            ),
        ];
        for (text, since) in ok {
            let p = Period::parse(text, n).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(p.since, since, "{text}");
            assert_eq!(p.until, n);
        }
        for bad in [
            "é",
            "7é",
            "1dé",
            "",
            "7",
            "d",
            "7y",
            "-3d",
            "0d",
            "2027-01-01",
            "seven days",
            "99999999d",
        ] {
            assert!(Period::parse(bad, n).is_err(), "{bad} should be refused");
        }
        let p = Period::parse("7d", n).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.previous().until, p.since);
        assert_eq!(p.previous().length(), p.length());
    }
}
