//! The reports' queries: every one aggregates in SQL (GROUP BY) over a period, so a report
//! over a million searches reads thousands of rows, not millions. The same statements run on
//! SQLite and PostgreSQL; the few dialect differences (seconds since the epoch, the day of a
//! timestamp) come from [`Dialect`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// Where the two backends spell things differently.
struct Dialect {
    sqlite: bool,
}

impl Dialect {
    /// Seconds since the epoch of a timestamp column, as a float.
    fn epoch(&self, col: &str) -> String {
        if self.sqlite {
            format!("(julianday({col}) * 86400.0)")
        } else {
            format!("EXTRACT(EPOCH FROM {col})::DOUBLE PRECISION")
        }
    }

    /// Rounds a non-negative number down (SQLite has no FLOOR without its math extension;
    /// PostgreSQL's cast to an integer rounds to nearest).
    fn floor(&self, expr: &str) -> String {
        if self.sqlite {
            format!("CAST({expr} AS INTEGER)")
        } else {
            format!("FLOOR({expr})")
        }
    }

    /// The UTC day of a timestamp column as `YYYY-MM-DD` text.
    fn day(&self, col: &str) -> String {
        if self.sqlite {
            // sqlx writes RFC 3339 in UTC (`2026-11-22T23:06:36.5+00:00`).
            format!("substr({col}, 1, 10)")
        } else {
            format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
        }
    }
}

/// Searches for one normalized query on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryDayStats {
    pub normalized: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub corrected_query: Option<String>,
    pub searches: i64,
    pub zero_results: i64,
    /// Searches with at least one result click.
    pub clicked: i64,
    pub last_seen: DateTime<Utc>,
    /// The latest zero-result or unclicked search.
    pub last_failed: Option<DateTime<Utc>>,
}

/// Sessions with a failed (zero-result or unclicked) search of one base query: its
/// typo-corrected form, else the query as normalized, so one person retrying a typo counts once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseSessions {
    pub base: String,
    pub sessions: i64,
}

/// A query followed by another in the same session within the refinement window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefinementPair {
    pub from: String,
    pub to: String,
    pub count: i64,
    /// How often `from` found nothing or was not clicked while `to` was clicked.
    pub fixed: i64,
}

/// All refinements of the period, with the most telling pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Refinements {
    /// Searches followed by a different search in the same session within the window.
    pub total: i64,
    pub pairs: Vec<RefinementPair>,
}

/// Self-service sessions grouped by the UTC day they started, what they reached, and how
/// long they took to an answer (rounded down to [`ANSWER_BUCKET_SECS`], capped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionBucket {
    pub day: String,
    pub clicked: bool,
    pub helpful: bool,
    pub ticket: bool,
    /// Seconds from session start to the first click or helpful vote, bucketed; `None`
    /// when the session never got there.
    pub answer_secs: Option<i64>,
    pub sessions: i64,
}

/// Clicks are counted up to this long after the searches' period: a day's searches are
/// final (and cached) an hour after the day ends, and bounding the clicks read keeps each
/// day's aggregate from scanning every later click.
pub const CLICK_SETTLE: chrono::Duration = chrono::Duration::hours(1);
/// A session's clicks, helpful votes and tickets are read up to this long after its period:
/// a ticket within 24 h counts against its deflection.
pub const SESSION_SETTLE: chrono::Duration = chrono::Duration::hours(25);

/// A session's events this long apart are two visits: the page cookie's lifetime.
pub const SESSION_IDLE: chrono::Duration = chrono::Duration::hours(24);

/// Time-to-answer resolution: the median is exact to this many seconds.
pub const ANSWER_BUCKET_SECS: i64 = 5;
/// Longer times to answer are counted as this long (well past the 5-minute warning).
pub const ANSWER_CAP_SECS: i64 = 3600;

/// Votes on one article in the period and in the period before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleVotes {
    pub slug: String,
    pub yes: i64,
    pub no: i64,
    pub previous_yes: i64,
    pub previous_no: i64,
}

/// A "No" vote's reason, counted per article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    pub slug: String,
    pub reason: String,
    pub count: i64,
}

/// A vote's comment, as the customer wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteComment {
    pub slug: String,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: String,
    pub at: DateTime<Utc>,
}

/// Tickets of the period and how many followed a search in the same session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketTotals {
    pub tickets: i64,
    pub after_search: i64,
}

/// The searches' clicks read with a period: `clicked` holds the ids of searches clicked in
/// `[from, to)` (placeholders), joined as `LEFT JOIN clicked k ON k.search_id = s.id`.
fn clicked_cte(from: &str, to: &str) -> String {
    format!(
        "clicked AS (SELECT DISTINCT search_id FROM clicks \
         WHERE created_at >= {from} AND created_at < {to})"
    )
}

/// A search that found nothing, or found something nobody clicked (with [`clicked_cte`]).
const FAILED: &str = "(s.result_count = 0 OR k.search_id IS NULL)";

impl Store {
    /// Kept chunks of a report query with keys in `[from, to)` (`YYYY-MM-DD` days and
    /// `YYYY-MM-DDTHH` hours sort together), as (key, JSON rows, when computed).
    pub async fn cached_days(
        &self,
        query: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, String, Option<DateTime<Utc>>)>, StoreError> {
        const SQL: &str = "SELECT day, payload, computed_at FROM report_days
             WHERE query = $1 AND day >= $2 AND day < $3";
        Ok(on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(query)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?))
    }

    /// Keeps a day's (`YYYY-MM-DD`) or hour's (`YYYY-MM-DDTHH`) rows of a report query,
    /// computed at `computed_at`; a day replaces its hours.
    pub async fn cache_day(
        &self,
        query: &str,
        key: &str,
        rows: &str,
        computed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO report_days (query, day, payload, computed_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (query, day) DO UPDATE SET payload = excluded.payload,
                 computed_at = excluded.computed_at";
        // `2026-11-16` < `2026-11-16T05` < `2026-11-16U`: the day's hour keys.
        const HOURS: &str = "DELETE FROM report_days WHERE query = $1 AND day > $2 AND day < $3";
        let whole_day = key.len() == "YYYY-MM-DD".len();
        on_backend!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(SQL)
                .bind(query)
                .bind(key)
                .bind(rows)
                .bind(computed_at)
                .execute(&mut *tx)
                .await?;
            if whole_day {
                sqlx::query(HOURS)
                    .bind(query)
                    .bind(key)
                    .bind(format!("{key}U"))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Drops the cached report rows of days before `day` (`YYYY-MM-DD`), with the retention purge.
    pub async fn forget_report_days_before(&self, day: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM report_days WHERE day < $1";
        on_backend!(self, |pool| {
            sqlx::query(SQL).bind(day).execute(pool).await?;
        });
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect {
            sqlite: matches!(self, Store::Sqlite(_)),
        }
    }

    /// Searches of `[since, until)` grouped by normalized query and UTC day: one scan serves
    /// the gaps and searches reports (totals, top queries, per day).
    pub async fn query_day_stats(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<QueryDayStats>, StoreError> {
        let day = self.dialect().day("s.created_at");
        // A click comes after its search, so clicks before `since` cannot belong to it.
        let clicked = clicked_cte("$1", "$3");
        let sql = format!(
            "WITH {clicked}
            SELECT s.normalized, {day} AS day, MAX(s.corrected_query), COUNT(*),
                SUM(CASE WHEN s.result_count = 0 THEN 1 ELSE 0 END),
                SUM(CASE WHEN k.search_id IS NULL THEN 0 ELSE 1 END),
                MAX(s.created_at),
                MAX(CASE WHEN {FAILED} THEN s.created_at END)
            FROM searches s LEFT JOIN clicked k ON k.search_id = s.id
            WHERE s.created_at >= $1 AND s.created_at < $2
            GROUP BY s.normalized, day"
        );
        type Row = (
            String,
            String,
            Option<String>,
            i64,
            i64,
            i64,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<Row> = on_backend!(self, |pool| sqlx::query_as(&sql)
            .bind(since)
            .bind(until)
            .bind(until + CLICK_SETTLE)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| QueryDayStats {
                normalized: r.0,
                day: r.1,
                corrected_query: r.2,
                searches: r.3,
                zero_results: r.4,
                clicked: r.5,
                last_seen: r.6,
                last_failed: r.7,
            })
            .collect())
    }

    /// Distinct sessions with a failed search in `[since, until)`, per base query.
    pub async fn failed_sessions_by_base(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<BaseSessions>, StoreError> {
        let clicked = clicked_cte("$1", "$3");
        let sql = format!(
            "WITH {clicked}
            SELECT COALESCE(NULLIF(s.corrected_query, ''), s.normalized) AS base,
                COUNT(DISTINCT s.session_id)
            FROM searches s LEFT JOIN clicked k ON k.search_id = s.id
            WHERE s.created_at >= $1 AND s.created_at < $2 AND s.session_id <> ''
                AND {FAILED}
            GROUP BY base"
        );
        let rows: Vec<(String, i64)> = on_backend!(self, |pool| sqlx::query_as(&sql)
            .bind(since)
            .bind(until)
            .bind(until + CLICK_SETTLE)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(base, sessions)| BaseSessions { base, sessions })
            .collect())
    }

    /// Searches followed by a different one in the same session within `window_secs`, and
    /// the `limit` pairs that most often turned a failed search into a clicked one. A pair
    /// belongs to the period of its second search (the first may be up to the window before
    /// `since`), so adjacent periods count each pair once.
    pub async fn refinements(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        window_secs: f64,
        limit: i64,
    ) -> Result<Refinements, StoreError> {
        let d = self.dialect();
        let (t, prev_t) = (d.epoch("created_at"), d.epoch("prev_at"));
        let clicked = clicked_cte("$6", "$5");
        let sql = format!(
            "WITH {clicked},
             seq AS (
                SELECT s.session_id, s.normalized, s.created_at,
                    CASE WHEN k.search_id IS NULL THEN 0 ELSE 1 END AS hit,
                    LAG(s.normalized) OVER w AS prev,
                    LAG(s.created_at) OVER w AS prev_at,
                    LAG(CASE WHEN {FAILED} THEN 1 ELSE 0 END) OVER w AS prev_failed
                FROM searches s LEFT JOIN clicked k ON k.search_id = s.id
                WHERE s.created_at >= $6 AND s.created_at < $2 AND s.session_id <> ''
                WINDOW w AS (PARTITION BY s.session_id ORDER BY s.created_at)
             )
             SELECT prev, normalized, COUNT(*),
                 SUM(CASE WHEN prev_failed = 1 AND hit = 1 THEN 1 ELSE 0 END) AS fixed,
                 CAST(SUM(COUNT(*)) OVER () AS BIGINT)
             FROM seq
             WHERE created_at >= $1 AND prev IS NOT NULL AND prev <> normalized
                 AND {t} - {prev_t} <= $3
             GROUP BY prev, normalized
             ORDER BY fixed DESC, COUNT(*) DESC, prev, normalized
             LIMIT $4"
        );
        let rows: Vec<(String, String, i64, i64, i64)> =
            on_backend!(self, |pool| sqlx::query_as(&sql)
                .bind(since)
                .bind(until)
                .bind(window_secs)
                .bind(limit)
                .bind(until + CLICK_SETTLE)
                .bind(since - chrono::Duration::milliseconds((window_secs * 1000.0) as i64))
                .fetch_all(pool)
                .await?);
        Ok(Refinements {
            total: rows.first().map_or(0, |r| r.4),
            pairs: rows
                .into_iter()
                .map(|(from, to, count, fixed, _)| RefinementPair {
                    from,
                    to,
                    count,
                    fixed,
                })
                .collect(),
        })
    }

    /// Self-service sessions (a search or an article view) that started in `[since, until)`,
    /// grouped by day and by how far they got: clicked, voted helpful, filed a ticket within
    /// `ticket_window_secs` of their start, and their time to answer. A session starts with
    /// its first event after a day without any, so adjacent periods count each session once.
    pub async fn session_buckets(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        ticket_window_secs: f64,
    ) -> Result<Vec<SessionBucket>, StoreError> {
        let d = self.dialect();
        let day = d.day("started");
        let started = d.epoch("started");
        let ticket = d.epoch("first_ticket");
        let click = d.epoch("first_click");
        let helpful = d.epoch("first_helpful");
        let bucket = d.floor("answer / $5");
        // Per session, the first click, helpful vote and ticket are index lookups
        // (`(session_id, created_at)` on each table), not scans of everything after `since`;
        // MATERIALIZED, or each use of a column below runs its lookup again.
        let sql = format!(
            "WITH ss AS (
                SELECT session_id, MIN(created_at) AS started FROM (
                    SELECT session_id, created_at FROM searches
                        WHERE created_at >= $1 AND created_at < $2 AND session_id <> ''
                    UNION ALL
                    SELECT session_id, created_at FROM article_views
                        WHERE created_at >= $1 AND created_at < $2 AND session_id <> ''
                ) e GROUP BY session_id
            ),
            fresh AS MATERIALIZED (
                SELECT ss.started,
                    (SELECT MIN(c.created_at) FROM clicks c WHERE c.session_id = ss.session_id
                        AND c.created_at >= ss.started AND c.created_at < $6) AS first_click,
                    (SELECT MIN(v.created_at) FROM votes v WHERE v.session_id = ss.session_id
                        AND v.helpful AND v.created_at >= ss.started AND v.created_at < $6)
                        AS first_helpful,
                    (SELECT MIN(t.created_at) FROM tickets t WHERE t.session_id = ss.session_id
                        AND t.created_at >= ss.started AND t.created_at < $6) AS first_ticket
                FROM ss
                WHERE NOT EXISTS (SELECT 1 FROM searches p WHERE p.session_id = ss.session_id
                        AND p.created_at >= $7 AND p.created_at < $1)
                    AND NOT EXISTS (SELECT 1 FROM article_views p
                        WHERE p.session_id = ss.session_id
                        AND p.created_at >= $7 AND p.created_at < $1)
            ),
            j AS (
                SELECT {day} AS day,
                    CASE WHEN first_click IS NULL THEN 0 ELSE 1 END AS clicked,
                    CASE WHEN first_helpful IS NULL THEN 0 ELSE 1 END AS helpful,
                    CASE WHEN first_ticket IS NOT NULL AND {ticket} - {started} <= $3
                        THEN 1 ELSE 0 END AS ticket,
                    CASE
                        WHEN first_click IS NULL AND first_helpful IS NULL THEN NULL
                        WHEN first_helpful IS NULL
                            OR (first_click IS NOT NULL AND first_click < first_helpful)
                            THEN {click} - {started}
                        ELSE {helpful} - {started}
                    END AS answer
                FROM fresh
            )
            SELECT day, clicked, helpful, ticket,
                CAST(CASE WHEN answer IS NULL THEN NULL
                     WHEN answer < 0 THEN 0
                     WHEN answer > $4 THEN $4
                     ELSE {bucket} * $5 END AS BIGINT) AS bucket,
                COUNT(*)
            FROM j GROUP BY day, clicked, helpful, ticket, bucket
            ORDER BY day"
        );
        type Row = (String, i32, i32, i32, Option<i64>, i64);
        let rows: Vec<Row> = on_backend!(self, |pool| sqlx::query_as(&sql)
            .bind(since)
            .bind(until)
            .bind(ticket_window_secs)
            .bind(ANSWER_CAP_SECS as f64)
            .bind(ANSWER_BUCKET_SECS as f64)
            .bind(until + SESSION_SETTLE)
            .bind(since - SESSION_IDLE)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| SessionBucket {
                day: r.0,
                clicked: r.1 != 0,
                helpful: r.2 != 0,
                ticket: r.3 != 0,
                answer_secs: r.4,
                sessions: r.5,
            })
            .collect())
    }

    /// Tickets filed in `[since, until)`, and how many followed a search in the same session.
    pub async fn ticket_totals(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<TicketTotals, StoreError> {
        const SQL: &str = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (
                    SELECT 1 FROM searches s WHERE s.session_id = t.session_id
                        AND s.created_at <= t.created_at) THEN 1 ELSE 0 END), 0)
             FROM tickets t WHERE t.created_at >= $1 AND t.created_at < $2";
        let (tickets, after_search): (i64, i64) = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .bind(until)
            .fetch_one(pool)
            .await?);
        Ok(TicketTotals {
            tickets,
            after_search,
        })
    }

    /// Tickets per category filed in `[since, until)`, most first (`None`: not categorized).
    pub async fn tickets_by_category(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        const SQL: &str = "SELECT category, COUNT(*) FROM tickets
             WHERE created_at >= $1 AND created_at < $2
             GROUP BY category ORDER BY COUNT(*) DESC, category";
        Ok(on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .bind(until)
            .fetch_all(pool)
            .await?))
    }

    /// Queries that found nothing and were followed by a ticket in the same session, with
    /// how many tickets followed them.
    pub async fn zero_result_queries_before_tickets(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        const SQL: &str = "SELECT s.normalized, COUNT(DISTINCT t.id) FROM tickets t
             JOIN searches s ON s.session_id = t.session_id AND s.created_at <= t.created_at
                 AND s.result_count = 0
             WHERE t.created_at >= $1 AND t.created_at < $2 AND t.session_id <> ''
             GROUP BY s.normalized ORDER BY COUNT(DISTINCT t.id) DESC, s.normalized LIMIT $3";
        Ok(on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .bind(until)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Votes per article in `[since, until)` and in `[previous, since)`.
    pub async fn article_votes(
        &self,
        previous: DateTime<Utc>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<ArticleVotes>, StoreError> {
        const SQL: &str = "SELECT slug,
                SUM(CASE WHEN created_at >= $2 AND helpful THEN 1 ELSE 0 END),
                SUM(CASE WHEN created_at >= $2 AND NOT helpful THEN 1 ELSE 0 END),
                SUM(CASE WHEN created_at < $2 AND helpful THEN 1 ELSE 0 END),
                SUM(CASE WHEN created_at < $2 AND NOT helpful THEN 1 ELSE 0 END)
             FROM votes WHERE created_at >= $1 AND created_at < $3
             GROUP BY slug ORDER BY slug";
        let rows: Vec<(String, i64, i64, i64, i64)> = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(previous)
            .bind(since)
            .bind(until)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| ArticleVotes {
                slug: r.0,
                yes: r.1,
                no: r.2,
                previous_yes: r.3,
                previous_no: r.4,
            })
            .collect())
    }

    /// Reasons given with "No" votes in `[since, until)`, per article.
    pub async fn vote_reasons(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<ReasonCount>, StoreError> {
        const SQL: &str = "SELECT slug, reason, COUNT(*) FROM votes
             WHERE created_at >= $1 AND created_at < $2 AND NOT helpful AND reason IS NOT NULL
             GROUP BY slug, reason ORDER BY slug, COUNT(*) DESC, reason";
        let rows: Vec<(String, String, i64)> = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .bind(until)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(slug, reason, count)| ReasonCount {
                slug,
                reason,
                count,
            })
            .collect())
    }

    /// The latest `limit` vote comments of `[since, until)`.
    pub async fn vote_comments(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<VoteComment>, StoreError> {
        const SQL: &str =
            "SELECT slug, CASE WHEN helpful THEN 1 ELSE 0 END, reason, comment, created_at
             FROM votes WHERE created_at >= $1 AND created_at < $2
                 AND comment IS NOT NULL AND comment <> ''
             ORDER BY created_at DESC LIMIT $3";
        type Row = (String, i32, Option<String>, String, DateTime<Utc>);
        let rows: Vec<Row> = on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .bind(until)
            .bind(limit)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| VoteComment {
                slug: r.0,
                helpful: r.1 != 0,
                reason: r.2,
                comment: r.3,
                at: r.4,
            })
            .collect())
    }

    /// Article traffic in `[since, until)`: views plus result clicks per slug, most first.
    pub async fn article_traffic(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        const SQL: &str = "SELECT slug, CAST(SUM(n) AS BIGINT) FROM (
                SELECT slug, COUNT(*) AS n FROM article_views
                    WHERE created_at >= $1 AND created_at < $2 GROUP BY slug
                UNION ALL
                SELECT slug, COUNT(*) AS n FROM clicks
                    WHERE created_at >= $1 AND created_at < $2 GROUP BY slug
             ) t GROUP BY slug ORDER BY SUM(n) DESC, slug LIMIT $3";
        Ok(on_backend!(self, |pool| sqlx::query_as(SQL)
            .bind(since)
            .bind(until)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// The most read articles since `since` (views plus result clicks), most first.
    pub async fn popular_articles(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.article_traffic(since, Utc::now() + chrono::Duration::days(1), limit)
            .await
    }
}
