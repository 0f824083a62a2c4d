//! Metric definitions with the support world's targets and warnings (the README's "Metrics
//! and their targets"), and a status per metric.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricStatus {
    /// Meets the target.
    Ok,
    /// Misses the target but is not yet at the warning level.
    OffTarget,
    /// Past the warning level: act now.
    Warning,
    /// No fixed target (the metric should fall over time), or nothing measured yet.
    NoTarget,
}

impl MetricStatus {
    pub fn label(self) -> &'static str {
        match self {
            MetricStatus::Ok => "ok",
            MetricStatus::OffTarget => "off target",
            MetricStatus::Warning => "warning",
            MetricStatus::NoTarget => "—",
        }
    }
}

impl fmt::Display for MetricStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How a value is judged.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Higher is better: ok from `target`, warning below `warning`.
    AtLeast { target: f64, warning: f64 },
    /// Lower is better: ok below `target`, warning above `warning`.
    Below { target: f64, warning: f64 },
    /// Should be falling; no fixed level.
    Falling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ratio,
    Seconds,
}

/// A metric as the support world defines it (README, "Metrics and their targets").
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    pub key: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    pub target: &'static str,
    pub warning: &'static str,
    rule: Rule,
    unit: Unit,
}

macro_rules! metric {
    ($key:literal, $name:literal, $def:literal, $target:literal, $warning:literal, $rule:expr, $unit:expr) => {
        MetricDef {
            key: $key,
            name: $name,
            definition: $def,
            target: $target,
            warning: $warning,
            rule: $rule,
            unit: $unit,
        }
    };
}

pub const DEFLECTION_RATE: MetricDef = metric!(
    "deflection_rate",
    "Deflection rate",
    "help-center sessions with a search or article view and no ticket within 24 h",
    "30–50 %",
    "< 20 %",
    Rule::AtLeast {
        target: 0.30,
        warning: 0.20
    },
    Unit::Ratio
);
pub const SEARCH_SUCCESS: MetricDef = metric!(
    "search_success",
    "Search success",
    "searches followed by a result click",
    "≥ 60 %",
    "< 40 %",
    Rule::AtLeast {
        target: 0.60,
        warning: 0.40
    },
    Unit::Ratio
);
pub const ZERO_RESULT_RATE: MetricDef = metric!(
    "zero_result_rate",
    "Zero-result rate",
    "searches with no result",
    "< 10 %",
    "> 20 %",
    Rule::Below {
        target: 0.10,
        warning: 0.20
    },
    Unit::Ratio
);
pub const REFINEMENT_RATE: MetricDef = metric!(
    "refinement_rate",
    "Refinement rate",
    "searches followed by another search in the same session within 2 min",
    "falling",
    "—",
    Rule::Falling,
    Unit::Ratio
);
pub const DEFLECTION_FAILURE: MetricDef = metric!(
    "deflection_failure",
    "Deflection failure",
    "tickets filed after a search in the same session (share of tickets)",
    "falling",
    "—",
    Rule::Falling,
    Unit::Ratio
);
pub const HELPFULNESS: MetricDef = metric!(
    "helpfulness",
    "Article helpfulness",
    "yes / (yes + no) votes",
    "≥ 80 %",
    "< 60 %",
    Rule::AtLeast {
        target: 0.80,
        warning: 0.60
    },
    Unit::Ratio
);
pub const FRESHNESS: MetricDef = metric!(
    "freshness",
    "Content freshness",
    "published articles with last_reviewed within 180 days",
    "≥ 90 %",
    "< 70 %",
    Rule::AtLeast {
        target: 0.90,
        warning: 0.70
    },
    Unit::Ratio
);
pub const COVERAGE: MetricDef = metric!(
    "coverage",
    "Article coverage",
    "ticket types with at least one published article",
    "≥ 80 %",
    "< 50 %",
    Rule::AtLeast {
        target: 0.80,
        warning: 0.50
    },
    Unit::Ratio
);
pub const TIME_TO_ANSWER: MetricDef = metric!(
    "time_to_answer",
    "Time to answer",
    "session start to first article click or helpful vote (median)",
    "< 2 min",
    "> 5 min",
    Rule::Below {
        target: 120.0,
        warning: 300.0
    },
    Unit::Seconds
);

/// A measured metric and its status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub key: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    /// A ratio (0..1) or seconds; `None` when nothing was measured.
    pub value: Option<f64>,
    /// The value for people: `12.5 %`, `1 min 30 s`.
    pub display: String,
    pub target: &'static str,
    pub warning: &'static str,
    pub status: MetricStatus,
}

impl MetricDef {
    /// Measures `numerator / denominator` (no value when the denominator is 0).
    pub fn ratio(&self, numerator: i64, denominator: i64) -> Metric {
        self.measure((denominator > 0).then(|| numerator as f64 / denominator as f64))
    }

    pub fn measure(&self, value: Option<f64>) -> Metric {
        let status = match (value, self.rule) {
            (None, _) | (_, Rule::Falling) => MetricStatus::NoTarget,
            (Some(v), Rule::AtLeast { target, warning }) => {
                if v >= target {
                    MetricStatus::Ok
                } else if v < warning {
                    MetricStatus::Warning
                } else {
                    MetricStatus::OffTarget
                }
            }
            (Some(v), Rule::Below { target, warning }) => {
                if v < target {
                    MetricStatus::Ok
                } else if v > warning {
                    MetricStatus::Warning
                } else {
                    MetricStatus::OffTarget
                }
            }
        };
        let display = match (value, self.unit) {
            (None, _) => "no data".to_string(),
            (Some(v), Unit::Ratio) => percent(v),
            (Some(v), Unit::Seconds) => duration(v),
        };
        Metric {
            key: self.key,
            name: self.name,
            definition: self.definition,
            value,
            display,
            target: self.target,
            warning: self.warning,
            status,
        }
    }
}

/// `0.125` → `12.5 %`.
pub fn percent(ratio: f64) -> String {
    format!("{:.1} %", ratio * 100.0)
}

/// `95.0` → `1 min 35 s`.
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as i64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

pub(super) fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

pub(super) fn opt_percent(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_string(), percent)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn statuses_follow_targets_and_warnings() {
        let cases = [
            (SEARCH_SUCCESS, 0.65, MetricStatus::Ok),
            (SEARCH_SUCCESS, 0.50, MetricStatus::OffTarget),
            (SEARCH_SUCCESS, 0.39, MetricStatus::Warning),
            (ZERO_RESULT_RATE, 0.05, MetricStatus::Ok),
            (ZERO_RESULT_RATE, 0.15, MetricStatus::OffTarget),
            (ZERO_RESULT_RATE, 0.25, MetricStatus::Warning),
            (DEFLECTION_RATE, 0.35, MetricStatus::Ok),
            (DEFLECTION_RATE, 0.25, MetricStatus::OffTarget),
            (DEFLECTION_RATE, 0.10, MetricStatus::Warning),
            (TIME_TO_ANSWER, 60.0, MetricStatus::Ok),
            (TIME_TO_ANSWER, 200.0, MetricStatus::OffTarget),
            (TIME_TO_ANSWER, 400.0, MetricStatus::Warning),
            (REFINEMENT_RATE, 0.9, MetricStatus::NoTarget),
        ];
        for (def, v, want) in cases {
            assert_eq!(def.measure(Some(v)).status, want, "{} at {v}", def.key);
        }
        assert_eq!(HELPFULNESS.ratio(1, 0).status, MetricStatus::NoTarget);
        assert_eq!(HELPFULNESS.ratio(4, 5).display, "80.0 %");
        assert_eq!(duration(95.0), "1 min 35 s");
    }
}
