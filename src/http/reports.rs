//! The KB manager's reports over HTTP: JSON or CSV at `/api/v1/admin/reports/{name}`, the
//! `/admin` dashboard with server-rendered SVG charts, the `/admin/reports/{name}` pages, and
//! the cached "popular articles" of the home page.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::admin::{Admin, AdminPage};
use super::extract::{ApiQuery, PageQuery};
use super::{ApiError, AppState};
use crate::reports::{self, Inputs, Metric, MetricStatus, Period, Report, ReportError, ReportName};
use crate::store::Store;

/// How long the home page's popular articles are reused before asking the store again.
const POPULAR_TTL: Duration = Duration::from_secs(60);
/// Popular articles are counted over this many days.
const POPULAR_DAYS: i64 = 30;
const POPULAR_LIMIT: i64 = 5;

/// Query parameters of a report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The period: `7d` (default), `24h`, `30d`, `2w`, or an ISO date such as `2026-11-01`.
    pub since: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// For CSV: which of the report's tables (default: its main one).
    pub table: Option<String>,
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::UnknownReport(_) => ApiError::NotFound(e.to_string()),
            ReportError::BadPeriod(_) => ApiError::BadRequest(e.to_string()),
            ReportError::Store(s) => ApiError::Unavailable(s.to_string()),
        }
    }
}

fn store(state: &AppState) -> Result<&Store, ApiError> {
    state
        .store
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("reports need the store; none is configured".into()))
}

fn period(since: Option<&str>) -> Result<Period, ReportError> {
    let now = Utc::now();
    match since.filter(|s| !s.trim().is_empty()) {
        Some(s) => Period::parse(s, now),
        None => Ok(Period::last_days(7, now)),
    }
}

async fn build(state: &AppState, name: ReportName, period: Period) -> Result<Report, ApiError> {
    let store = store(state)?;
    let site = state.site();
    let inputs = Inputs {
        store,
        kb: &site.kb,
        engine: &site.engine,
        today: crate::content::today(),
    };
    Ok(Report::build(name, inputs, period).await?)
}

/// One of the KB manager's reports: `gaps`, `searches`, `deflection`, `helpfulness`,
/// `freshness` or `coverage`, with each metric's status against its target.
#[utoipa::path(get, path = "/api/v1/admin/reports/{name}", security(("bearer" = [])),
    params(("name" = String, Path, description = "gaps, searches, deflection, helpfulness, freshness or coverage"), ReportParams),
    responses(
        (status = 200, description = "the report as JSON, or text/csv with a header row when `format=csv`"),
        (status = 400, description = "a bad `since`, `format` or `table`", body = super::api::ErrorEnvelope),
        (status = 401, body = super::api::ErrorEnvelope),
        (status = 404, description = "no such report", body = super::api::ErrorEnvelope),
        (status = 503, description = "no store configured or the database is unavailable", body = super::api::ErrorEnvelope),
))]
pub async fn report_api(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let name: ReportName = name.parse()?;
    let period = period(p.since.as_deref())?;
    let csv = match p.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format `{}` is not supported — use json or csv",
                other.chars().take(32).collect::<String>()
            )));
        }
    };
    let report = build(&state, name, period).await?;
    if !csv {
        return Ok(Json(&report).into_response());
    }
    let tables = report.tables();
    let table = match p.table.as_deref() {
        None => tables.first(),
        Some(key) => tables.iter().find(|t| t.key == key),
    }
    .ok_or_else(|| {
        ApiError::BadRequest(format!(
            "no such table — {} has: {}",
            name.as_str(),
            tables.iter().map(|t| t.key).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let body = table
        .to_csv()
        .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    let filename = format!(
        "attachment; filename=\"deflect-{}-{}-{}.csv\"",
        name.as_str(),
        table.key,
        period.until.format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        body,
    )
        .into_response())
}

/// A report's page.
pub async fn report_page(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    PageQuery(params): PageQuery<ReportParams>,
) -> Response {
    let since = params.since;
    let Ok(name) = name.parse::<ReportName>() else {
        return error_page(&state, StatusCode::NOT_FOUND, "There is no such report.");
    };
    let period = match period(since.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&state, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let report = match build(&state, name, period).await {
        Ok(r) => r,
        Err(e) => return error_response(&state, e),
    };
    super::templates::render(
        &state,
        "admin_report.html",
        context! {
            site_name => &state.config.site_name,
            logged_in => true,
            name => name.as_str(),
            title => name.title(),
            since => since.unwrap_or_default(),
            period => period_text(period),
            metrics => v(&report.metrics()),
            tables => v(&report.tables()),
            git => matches!(&report, Report::Freshness(f) if f.git),
            freshness => matches!(&report, Report::Freshness(_)),
        },
    )
}

fn v<T: Serialize>(x: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}

fn period_text(p: Period) -> String {
    format!(
        "{} – {} UTC",
        p.since.format("%Y-%m-%d %H:%M"),
        p.until.format("%Y-%m-%d %H:%M")
    )
}

fn error_page(state: &AppState, status: StatusCode, message: &str) -> Response {
    let mut res = super::templates::render(
        state,
        "admin_report.html",
        context! { site_name => &state.config.site_name, logged_in => true, error => message, title => "Report" },
    );
    *res.status_mut() = status;
    res
}

fn error_response(state: &AppState, e: ApiError) -> Response {
    match e {
        ApiError::Unavailable(detail) => {
            tracing::error!(%detail, "report failed");
            error_page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                "The reports need the database, which is not available right now.",
            )
        }
        other => other.into_response(),
    }
}

/// A point of a chart, in SVG coordinates.
#[derive(Debug, Serialize)]
struct Dot {
    x: f64,
    y: f64,
    label: String,
    value: String,
}

/// A line chart of a ratio per day, 0–100 %, drawn by the template as SVG.
#[derive(Debug, Serialize)]
struct Chart {
    title: &'static str,
    width: f64,
    height: f64,
    left: f64,
    bottom: f64,
    right: f64,
    /// `x,y x,y …` for the polyline.
    line: String,
    dots: Vec<Dot>,
    /// Horizontal guides: (y, label, css class).
    guides: Vec<(f64, String, &'static str)>,
    x_labels: Vec<(f64, String)>,
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

fn chart(
    title: &'static str,
    days: &[NaiveDate],
    values: &[Option<f64>],
    guides: &[(f64, &'static str)],
) -> Chart {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        if days.len() <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (days.len() - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let r = |v: f64| (v * 10.0).round() / 10.0;
    let dots: Vec<Dot> = days
        .iter()
        .zip(values)
        .enumerate()
        .filter_map(|(i, (d, v))| {
            v.map(|v| Dot {
                x: r(x(i)),
                y: r(y(v)),
                label: d.format("%b %d").to_string(),
                value: reports::percent(v),
            })
        })
        .collect();
    let line = dots
        .iter()
        .map(|d| format!("{},{}", d.x, d.y))
        .collect::<Vec<_>>()
        .join(" ");
    let mut all_guides = vec![
        (r(y(0.0)), "0 %".to_string(), "axis"),
        (r(y(0.5)), "50 %".to_string(), "grid"),
        (r(y(1.0)), "100 %".to_string(), "grid"),
    ];
    for &(v, class) in guides {
        all_guides.push((r(y(v)), reports::percent(v), class));
    }
    let step = days.len().div_ceil(8).max(1);
    let x_labels = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, d)| (r(x(i)), d.format("%b %d").to_string()))
        .collect();
    Chart {
        title,
        width: W,
        height: H,
        left: LEFT,
        bottom: H - BOTTOM,
        right: W - RIGHT,
        line,
        dots,
        guides: all_guides,
        x_labels,
    }
}

/// Every UTC day the period touches.
fn days_of(p: Period) -> Vec<NaiveDate> {
    let (first, last) = (p.since.date_naive(), p.until.date_naive());
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .take(400)
        .collect()
}

fn by_day(days: &[NaiveDate], values: &[(String, Option<f64>)]) -> Vec<Option<f64>> {
    days.iter()
        .map(|d| {
            let key = d.format("%Y-%m-%d").to_string();
            values.iter().find(|(k, _)| *k == key).and_then(|(_, v)| *v)
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct MetricCard<'a> {
    #[serde(flatten)]
    metric: &'a Metric,
    report: &'static str,
    status_class: &'static str,
}

fn status_class(s: MetricStatus) -> &'static str {
    match s {
        MetricStatus::Ok => "ok",
        MetricStatus::OffTarget => "off-target",
        MetricStatus::Warning => "warning",
        MetricStatus::NoTarget => "none",
    }
}

/// The KB manager's dashboard: every metric at a glance and the two trend charts.
/// The KB manager's dashboard at `/admin` (`?since=` as for the reports).
pub async fn dashboard_page(
    _: AdminPage,
    State(state): State<Arc<AppState>>,
    PageQuery(query): PageQuery<ReportParams>,
) -> Response {
    dashboard(state, query.since).await
}

async fn dashboard(state: Arc<AppState>, since: Option<String>) -> Response {
    let period = match period(since.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&state, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let mut reports = Vec::new();
    for name in ReportName::ALL {
        match build(&state, name, period).await {
            Ok(r) => reports.push(r),
            Err(e) => return error_response(&state, e),
        }
    }
    let mut cards = Vec::new();
    for r in &reports {
        for m in r.metrics() {
            // The zero-result rate is in two reports; show it once.
            if !cards.iter().any(|c: &MetricCard<'_>| c.metric.key == m.key) {
                cards.push(MetricCard {
                    metric: m,
                    report: r.name().as_str(),
                    status_class: status_class(m.status),
                });
            }
        }
    }
    let days = days_of(period);
    let mut charts = Vec::new();
    let mut gaps = Vec::new();
    for r in &reports {
        match r {
            Report::Searches(s) => {
                let v: Vec<_> = s
                    .daily
                    .iter()
                    .map(|d| (d.day.clone(), d.zero_result_rate))
                    .collect();
                charts.push(chart(
                    "Zero-result rate per day",
                    &days,
                    &by_day(&days, &v),
                    &[(0.10, "target"), (0.20, "warning")],
                ));
            }
            Report::Deflection(d) => {
                let v: Vec<_> = d
                    .daily
                    .iter()
                    .map(|f| (f.period.clone(), f.deflection_rate))
                    .collect();
                charts.push(chart(
                    "Deflection rate per day",
                    &days,
                    &by_day(&days, &v),
                    &[(0.30, "target"), (0.20, "warning")],
                ));
            }
            Report::Gaps(g) => gaps.extend(g.clusters.iter().take(5)),
            _ => {}
        }
    }
    super::templates::render(
        &state,
        "admin_dashboard.html",
        context! {
            site_name => &state.config.site_name,
            logged_in => true,
            since => since.unwrap_or_default(),
            period => period_text(period),
            metrics => v(&cards),
            charts => v(&charts),
            gaps => v(&gaps),
        },
    )
}

/// The home page's most read articles, refreshed at most once a minute.
#[derive(Debug, Default)]
pub struct PopularArticles {
    cached: Mutex<Option<(Instant, Arc<Vec<String>>)>>,
}

impl PopularArticles {
    /// Slugs of the most read articles of the last 30 days (views plus result clicks);
    /// empty without a store or traffic. A failing store leaves the last known list.
    pub async fn get(&self, store: Option<&Store>) -> Arc<Vec<String>> {
        let Some(store) = store else {
            return Arc::default();
        };
        let lock = || {
            self.cached
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let last = lock().clone();
        if let Some((at, slugs)) = &last
            && at.elapsed() < POPULAR_TTL
        {
            return Arc::clone(slugs);
        }
        let since = Utc::now() - chrono::Duration::days(POPULAR_DAYS);
        let slugs = match store.popular_articles(since, POPULAR_LIMIT * 2).await {
            Ok(rows) => Arc::new(rows.into_iter().map(|(slug, _)| slug).collect()),
            Err(e) => {
                tracing::warn!("popular articles: {e}");
                last.map(|(_, s)| s).unwrap_or_default()
            }
        };
        *lock() = Some((Instant::now(), Arc::clone(&slugs)));
        slugs
    }
}

/// How many popular articles the home page shows.
pub fn popular_limit() -> usize {
    usize::try_from(POPULAR_LIMIT).unwrap_or(5)
}
