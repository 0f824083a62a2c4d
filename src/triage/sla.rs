//! SLA clocks: first-response and resolution targets per priority (scaled by the customer
//! tier), counted in business hours of a time zone (P1 counts around the clock), paused while
//! the team waits for the customer, restarted by a reopen; warning levels by share elapsed.

use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::content::Priority;

/// Targets of one priority, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    pub first_response_minutes: u32,
    pub resolution_minutes: u32,
}

impl SlaTarget {
    const fn new(first_response_minutes: u32, resolution_minutes: u32) -> Self {
        Self {
            first_response_minutes,
            resolution_minutes,
        }
    }

    /// The targets times a customer-tier multiplier, rounded, at least one minute.
    pub fn scaled(self, multiplier: f64) -> Self {
        let scale = |m: u32| {
            let v = (f64::from(m) * multiplier).round();
            if v.is_finite() && v >= 1.0 {
                // In range: a u32 times a small positive multiplier, checked below.
                if v > f64::from(u32::MAX) {
                    u32::MAX
                } else {
                    v as u32
                }
            } else {
                1
            }
        };
        Self::new(
            scale(self.first_response_minutes),
            scale(self.resolution_minutes),
        )
    }
}

/// `[triage.sla.P1]` … `[triage.sla.P5]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaTable {
    #[serde(rename = "P1")]
    pub p1: SlaTarget,
    #[serde(rename = "P2")]
    pub p2: SlaTarget,
    #[serde(rename = "P3")]
    pub p3: SlaTarget,
    #[serde(rename = "P4")]
    pub p4: SlaTarget,
    #[serde(rename = "P5")]
    pub p5: SlaTarget,
}

impl Default for SlaTable {
    /// The README's SLA table: P1 15 min / 4 h, P2 1 h / 8 h, P3 4 h / 24 h, P4 8 h / 72 h,
    /// P5 24 h / 5 business days (of 9 hours).
    fn default() -> Self {
        Self {
            p1: SlaTarget::new(15, 4 * 60),
            p2: SlaTarget::new(60, 8 * 60),
            p3: SlaTarget::new(4 * 60, 24 * 60),
            p4: SlaTarget::new(8 * 60, 72 * 60),
            p5: SlaTarget::new(24 * 60, 5 * 9 * 60),
        }
    }
}

impl SlaTable {
    pub fn get(&self, p: Priority) -> SlaTarget {
        match p {
            Priority::P1 => self.p1,
            Priority::P2 => self.p2,
            Priority::P3 => self.p3,
            Priority::P4 => self.p4,
            Priority::P5 => self.p5,
        }
    }
}

/// Working days and hours in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    tz: Tz,
    /// Indexed by `Weekday::num_days_from_monday`.
    days: [bool; 7],
    start: NaiveTime,
    end: NaiveTime,
}

/// The longest span the clock walks, day by day: twenty years.
const MAX_DAYS: usize = 366 * 20;

impl BusinessHours {
    pub fn new(tz: Tz, days: &[Weekday], start: NaiveTime, end: NaiveTime) -> Self {
        let mut set = [false; 7];
        for d in days {
            set[d.num_days_from_monday() as usize] = true;
        }
        Self {
            tz,
            days: set,
            start,
            end,
        }
    }

    /// A local wall-clock time as an instant: the earlier one when the clock falls back, the
    /// first instant after the gap when it springs forward.
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut local = date.and_time(time);
        for _ in 0..8 {
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc);
                }
                LocalResult::None => local += Duration::minutes(15),
            }
        }
        Utc.from_utc_datetime(&date.and_time(time))
    }

    /// The open window of a local date, if the team works that day.
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.days[date.weekday().num_days_from_monday() as usize]
            .then(|| (self.instant(date, self.start), self.instant(date, self.end)))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The instant `secs` business seconds after `from`.
    pub fn add(&self, from: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        let mut remaining = secs.max(0);
        let mut date = self.local_date(from);
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window(date) {
                let s = from.max(open);
                if s < close {
                    let available = (close - s).num_seconds();
                    if remaining <= available {
                        return s + Duration::seconds(remaining);
                    }
                    remaining -= available;
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        from + Duration::seconds(remaining)
    }

    /// Business seconds between two instants (0 when `to` is not after `from`).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let (mut date, last) = (self.local_date(from), self.local_date(to));
        let mut total = 0;
        for _ in 0..MAX_DAYS {
            if date > last {
                break;
            }
            if let Some((open, close)) = self.window(date) {
                let (s, e) = (from.max(open), to.min(close));
                if e > s {
                    total += (e - s).num_seconds();
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total
    }
}

/// When an SLA clock runs: always (P1) or in business hours.
#[derive(Debug, Clone, PartialEq)]
pub enum Calendar {
    AlwaysOn,
    Business(BusinessHours),
}

impl Calendar {
    pub fn add(&self, from: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        match self {
            Calendar::AlwaysOn => from + Duration::seconds(secs.max(0)),
            Calendar::Business(h) => h.add(from, secs),
        }
    }

    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        match self {
            Calendar::AlwaysOn => (to - from).num_seconds().max(0),
            Calendar::Business(h) => h.between(from, to),
        }
    }
}

/// How much of the SLA has been used, as the queue shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    OnTrack,
    /// ≥ 50 % elapsed (yellow).
    Half,
    /// ≥ 80 % (orange).
    Eighty,
    /// ≥ 90 % (red).
    Ninety,
    /// ≥ 100 %: breached.
    Breached,
    /// ≥ 200 %: severely breached.
    SevereBreach,
}

impl WarningLevel {
    pub fn from_fraction(f: f64) -> Self {
        match f {
            f if f >= 2.0 => Self::SevereBreach,
            f if f >= 1.0 => Self::Breached,
            f if f >= 0.9 => Self::Ninety,
            f if f >= 0.8 => Self::Eighty,
            f if f >= 0.5 => Self::Half,
            _ => Self::OnTrack,
        }
    }

    /// Words for the level, so the queue never relies on color alone.
    pub fn label(self) -> &'static str {
        match self {
            Self::OnTrack => "on track",
            Self::Half => "50% of SLA used",
            Self::Eighty => "80% of SLA used",
            Self::Ninety => "90% of SLA used",
            Self::Breached => "SLA breached",
            Self::SevereBreach => "SLA breached twice over",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnTrack => "on_track",
            Self::Half => "half",
            Self::Eighty => "eighty",
            Self::Ninety => "ninety",
            Self::Breached => "breached",
            Self::SevereBreach => "severe_breach",
        }
    }
}

/// One SLA period of a ticket: from creation (or the last reopen) on its calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaClock {
    pub calendar: Calendar,
    pub target: SlaTarget,
    pub started_at: DateTime<Utc>,
    /// Business seconds spent paused (pending customer) in this period.
    pub paused_secs: i64,
    /// Set while paused.
    pub paused_at: Option<DateTime<Utc>>,
}

impl SlaClock {
    pub fn start(calendar: Calendar, target: SlaTarget, now: DateTime<Utc>) -> Self {
        Self {
            calendar,
            target,
            started_at: now,
            paused_secs: 0,
            paused_at: None,
        }
    }

    fn due(&self, minutes: u32) -> DateTime<Utc> {
        self.calendar
            .add(self.started_at, i64::from(minutes) * 60 + self.paused_secs)
    }

    /// When the first response is due (as of now; a pause moves it on resume).
    pub fn first_response_due(&self) -> DateTime<Utc> {
        self.due(self.target.first_response_minutes)
    }

    pub fn resolution_due(&self) -> DateTime<Utc> {
        self.due(self.target.resolution_minutes)
    }

    /// Business seconds the clock has run this period.
    pub fn elapsed_secs(&self, now: DateTime<Utc>) -> i64 {
        let end = self.paused_at.unwrap_or(now);
        (self.calendar.between(self.started_at, end) - self.paused_secs).max(0)
    }

    /// Stops the clock (pending customer). Pausing a paused clock changes nothing.
    pub fn pause(&mut self, now: DateTime<Utc>) {
        self.paused_at.get_or_insert(now);
    }

    /// Restarts a paused clock; the paused business time moves the deadlines on.
    pub fn resume(&mut self, now: DateTime<Utc>) {
        if let Some(p) = self.paused_at.take() {
            self.paused_secs += self.calendar.between(p, now);
        }
    }

    /// A reopen: a new SLA period from now.
    pub fn restart(&mut self, now: DateTime<Utc>) {
        *self = Self::start(self.calendar.clone(), self.target, now);
    }

    /// Share of the SLA used: of the first-response target until someone responded, and of
    /// the resolution target, whichever is further along.
    pub fn elapsed_fraction(&self, now: DateTime<Utc>, responded: bool) -> f64 {
        let e = self.elapsed_secs(now) as f64;
        let res = e / (f64::from(self.target.resolution_minutes.max(1)) * 60.0);
        if responded {
            res
        } else {
            res.max(e / (f64::from(self.target.first_response_minutes.max(1)) * 60.0))
        }
    }

    pub fn level(&self, now: DateTime<Utc>, responded: bool) -> WarningLevel {
        WarningLevel::from_fraction(self.elapsed_fraction(now, responded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .with_timezone(&Utc)
    }

    fn hours(tz: Tz) -> BusinessHours {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        BusinessHours::new(
            tz,
            &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            t(9),
            t(18),
        )
    }

    #[test]
    fn deadlines_skip_nights_and_weekends_in_the_teams_time_zone() {
        use chrono_tz::{America, Asia, Europe};
        // (time zone, created, business minutes, due) — 2026-11-20 is a Friday.
        let cases: &[(Tz, &str, i64, &str)] = &[
            (Tz::UTC, "2026-11-20T16:00:00Z", 240, "2026-11-23T11:00:00Z"),
            (Tz::UTC, "2026-11-21T10:00:00Z", 240, "2026-11-23T13:00:00Z"),
            (Tz::UTC, "2026-11-24T07:00:00Z", 240, "2026-11-24T13:00:00Z"),
            (Tz::UTC, "2026-11-24T18:30:00Z", 60, "2026-11-25T10:00:00Z"),
            (Tz::UTC, "2026-11-24T10:00:00Z", 0, "2026-11-24T10:00:00Z"),
            // 5 business days of 9 h from Monday 09:00 end on Friday at 18:00.
            (
                Tz::UTC,
                "2026-11-23T09:00:00Z",
                2700,
                "2026-11-27T18:00:00Z",
            ),
            // Tokyo (UTC+9): Monday 09:30 local is 00:30 UTC.
            (
                Asia::Tokyo,
                "2026-11-23T00:30:00Z",
                60,
                "2026-11-23T01:30:00Z",
            ),
            // Berlin in winter is UTC+1: Friday 17:00 local + 2 h → Monday 10:00 local.
            (
                Europe::Berlin,
                "2026-11-20T16:00:00Z",
                120,
                "2026-11-23T09:00:00Z",
            ),
            // New York across the spring-forward weekend (8 March 2026): Friday 15:00 EST
            // (UTC-5) + 4 h → Monday 10:00 EDT (UTC-4).
            (
                America::New_York,
                "2026-03-06T20:00:00Z",
                240,
                "2026-03-09T14:00:00Z",
            ),
        ];
        for (tz, created, minutes, due) in cases {
            let h = hours(*tz);
            assert_eq!(
                h.add(at(created), minutes * 60),
                at(due),
                "{tz} {created} + {minutes} min"
            );
            // And back: the business time between them is what was added.
            if at(created) < at(due) {
                assert_eq!(
                    h.between(at(created), at(due)),
                    minutes * 60,
                    "{tz} {created}"
                );
            }
        }
    }

    #[test]
    fn p1_runs_around_the_clock() {
        let c = Calendar::AlwaysOn;
        assert_eq!(
            c.add(at("2026-11-20T23:00:00Z"), 4 * 3600),
            at("2026-11-21T03:00:00Z")
        );
        let b = Calendar::Business(hours(Tz::UTC));
        assert_eq!(
            b.add(at("2026-11-20T23:00:00Z"), 4 * 3600),
            at("2026-11-23T13:00:00Z")
        );
    }

    #[test]
    fn pending_customer_pauses_the_clock_and_reopen_starts_over() {
        let cal = Calendar::Business(hours(Tz::UTC));
        let target = SlaTarget::new(240, 24 * 60);
        let mut c = SlaClock::start(cal, target, at("2026-11-23T09:00:00Z"));
        assert_eq!(c.first_response_due(), at("2026-11-23T13:00:00Z"));
        c.pause(at("2026-11-23T10:00:00Z"));
        // Paused: time passes, the clock does not.
        assert_eq!(c.elapsed_secs(at("2026-11-23T17:00:00Z")), 3600);
        c.pause(at("2026-11-23T11:00:00Z"));
        assert_eq!(
            c.paused_at,
            Some(at("2026-11-23T10:00:00Z")),
            "a second pause is a no-op"
        );
        c.resume(at("2026-11-24T10:00:00Z"));
        assert_eq!(c.paused_secs, 9 * 3600, "Mon 10-18 and Tue 9-10");
        assert_eq!(c.first_response_due(), at("2026-11-24T13:00:00Z"));
        assert_eq!(c.elapsed_secs(at("2026-11-24T11:00:00Z")), 2 * 3600);
        assert_eq!(
            c.level(at("2026-11-24T11:00:00Z"), false),
            WarningLevel::Half
        );
        assert_eq!(
            c.level(at("2026-11-24T11:00:00Z"), true),
            WarningLevel::OnTrack
        );
        c.restart(at("2026-11-26T12:00:00Z"));
        assert_eq!(c.paused_secs, 0);
        assert_eq!(c.first_response_due(), at("2026-11-26T16:00:00Z"));
        assert_eq!(c.elapsed_secs(at("2026-11-26T12:00:00Z")), 0);
    }

    #[test]
    fn warning_levels() {
        let cases = [
            (0.0, WarningLevel::OnTrack),
            (0.49, WarningLevel::OnTrack),
            (0.5, WarningLevel::Half),
            (0.8, WarningLevel::Eighty),
            (0.95, WarningLevel::Ninety),
            (1.0, WarningLevel::Breached),
            (1.99, WarningLevel::Breached),
            (2.0, WarningLevel::SevereBreach),
        ];
        for (f, want) in cases {
            assert_eq!(WarningLevel::from_fraction(f), want, "{f}");
        }
        // On the clock: a P1 (15 min first response, 24/7) 12 minutes in is at 80 %.
        let c = SlaClock::start(
            Calendar::AlwaysOn,
            SlaTarget::new(15, 240),
            at("2026-11-21T03:00:00Z"),
        );
        assert_eq!(
            c.level(at("2026-11-21T03:12:00Z"), false),
            WarningLevel::Eighty
        );
        assert_eq!(
            c.level(at("2026-11-21T03:31:00Z"), false),
            WarningLevel::SevereBreach
        );
    }

    #[test]
    fn tiers_scale_the_targets() {
        let t = SlaTable::default();
        assert_eq!(t.get(Priority::P2).scaled(0.5), SlaTarget::new(30, 240));
        assert_eq!(t.get(Priority::P1).scaled(4.0), SlaTarget::new(60, 960));
        assert_eq!(t.get(Priority::P3).scaled(1.5), SlaTarget::new(360, 2160));
        assert_eq!(SlaTarget::new(1, 1).scaled(0.1), SlaTarget::new(1, 1));
    }
}
