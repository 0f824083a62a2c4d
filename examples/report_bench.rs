//! Times every report over a million search events on SQLite and on PostgreSQL.
//!
//! Seeds, within the last 7 days: 1,000,000 searches in ~330,000 sessions (5,000 queries with a
//! long tail, typo variants, ~8 % zero results), ~550,000 result clicks, ~500,000 article views,
//! votes in 5 % and tickets in 2 % of sessions; then runs each report once (cold: closed days
//! are aggregated and cached) and 3 more times, printing the median of those.
//!
//! ```text
//! cargo run --release --example report_bench                 # both backends
//! cargo run --release --example report_bench -- sqlite 200000
//! DEFLECT_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres cargo run --release --example report_bench -- postgres
//! ```

use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use deflect::content::KnowledgeBase;
use deflect::reports::{Inputs, Period, Report, ReportName};
use deflect::search::SearchEngine;
use deflect::store::Store;
use sqlx::{Connection, QueryBuilder};

/// A small, fast, deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// Skewed towards 0: a few head queries, a long tail.
    fn zipf(&mut self, n: u64) -> u64 {
        let u = (self.below(1_000_000) as f64 + 1.0) / 1_000_001.0;
        ((n as f64).powf(u) - 1.0) as u64 % n
    }
}

struct SearchRow {
    id: String,
    session: String,
    query: String,
    results: i64,
    corrected: Option<String>,
    at: DateTime<Utc>,
}

/// session, slug, helpful, reason, time.
type VoteRow = (String, String, bool, Option<&'static str>, DateTime<Utc>);

struct Data {
    searches: Vec<SearchRow>,
    clicks: Vec<(String, String, String, DateTime<Utc>)>,
    views: Vec<(String, String, DateTime<Utc>)>,
    votes: Vec<VoteRow>,
    tickets: Vec<(String, String, String, DateTime<Utc>)>,
}

const WORDS: [&str; 40] = [
    "card",
    "payment",
    "refund",
    "transfer",
    "pin",
    "atm",
    "cash",
    "account",
    "verify",
    "identity",
    "top",
    "up",
    "fee",
    "exchange",
    "rate",
    "currency",
    "blocked",
    "declined",
    "pending",
    "lost",
    "stolen",
    "apple",
    "pay",
    "google",
    "virtual",
    "disposable",
    "limit",
    "change",
    "address",
    "close",
    "beneficiary",
    "wrong",
    "charge",
    "cancel",
    "delivery",
    "arrive",
    "crypto",
    "wallet",
    "salary",
    "statement",
];

fn generate(n: usize, slugs: &[String], ticket_types: &[String], now: DateTime<Utc>) -> Data {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let queries: Vec<String> = (0..5000)
        .map(|_| {
            let k = 1 + rng.below(3) as usize;
            (0..k)
                .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut d = Data {
        searches: Vec::with_capacity(n),
        clicks: Vec::new(),
        views: Vec::new(),
        votes: Vec::new(),
        tickets: Vec::new(),
    };
    let mut session = 0u64;
    while d.searches.len() < n {
        session += 1;
        let sid = format!("sess{session:x}");
        let mut t = now - Duration::seconds(1 + rng.below(7 * 86_400 - 3600) as i64);
        let searches = 1 + rng.below(5) as usize;
        let mut clicked_any = false;
        for _ in 0..searches.min(n - d.searches.len()) {
            let mut q = queries[rng.zipf(queries.len() as u64) as usize].clone();
            let mut corrected = None;
            if rng.chance(5) && q.len() > 5 {
                // A typo: drop a letter.
                let cut = 1 + rng.below(q.len() as u64 - 2) as usize;
                if q.is_char_boundary(cut) && q.is_char_boundary(cut + 1) {
                    corrected = Some(q.clone());
                    q.remove(cut);
                }
            }
            let results = if rng.chance(8) {
                0
            } else {
                1 + rng.below(20) as i64
            };
            let id = format!("q{}", d.searches.len());
            if results > 0 && rng.chance(55) {
                let slug = slugs[rng.zipf(slugs.len() as u64) as usize].clone();
                let at = t + Duration::seconds(5 + rng.below(60) as i64);
                d.clicks.push((id.clone(), slug.clone(), sid.clone(), at));
                d.views.push((sid.clone(), slug, at));
                clicked_any = true;
            }
            d.searches.push(SearchRow {
                id,
                session: sid.clone(),
                query: q,
                results,
                corrected,
                at: t,
            });
            t += Duration::seconds(10 + rng.below(120) as i64);
        }
        if rng.chance(20) {
            let slug = slugs[rng.zipf(slugs.len() as u64) as usize].clone();
            d.views.push((sid.clone(), slug, t));
        }
        if clicked_any && rng.chance(15) {
            let helpful = rng.chance(75);
            let reason =
                (!helpful).then_some(["outdated", "unclear", "inaccurate"][rng.below(3) as usize]);
            let slug = slugs[rng.zipf(slugs.len() as u64) as usize].clone();
            d.votes.push((
                sid.clone(),
                slug,
                helpful,
                reason,
                t + Duration::seconds(30),
            ));
        }
        if rng.chance(2) && !ticket_types.is_empty() {
            let category = ticket_types[rng.below(ticket_types.len() as u64) as usize].clone();
            d.tickets.push((
                format!("t{session:x}"),
                sid,
                category,
                t + Duration::minutes(5),
            ));
        }
    }
    d
}

/// Required ticket columns without a default beyond the reports' own, with a filler kind:
/// `i`nteger, `r`eal, `b`oolean, `t`ime or text.
async fn required_ticket_columns(store: &Store) -> anyhow::Result<Vec<(String, char)>> {
    const OURS: [&str; 7] = [
        "id",
        "session_id",
        "email",
        "subject",
        "description",
        "category",
        "created_at",
    ];
    let cols: Vec<(String, String)> = match store {
        Store::Sqlite(pool) => sqlx::query_as(
            "SELECT name, type FROM pragma_table_info('tickets') WHERE \"notnull\" = 1 AND dflt_value IS NULL",
        )
        .fetch_all(pool)
        .await?,
        Store::Postgres(pool) => sqlx::query_as(
            "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns
             WHERE table_name = 'tickets' AND table_schema = current_schema()
                 AND is_nullable = 'NO' AND column_default IS NULL",
        )
        .fetch_all(pool)
        .await?,
    };
    Ok(cols
        .into_iter()
        .filter(|(n, _)| !OURS.contains(&n.as_str()))
        .map(|(n, t)| {
            let t = t.to_lowercase();
            let kind = if t.contains("timestamp") || n.ends_with("_at") || n.ends_with("_due") {
                't'
            } else if t.contains("bool") {
                'b'
            } else if t.contains("int") {
                'i'
            } else if t.contains("real") || t.contains("double") || t.contains("numeric") {
                'r'
            } else {
                's'
            };
            (n, kind)
        })
        .collect())
}

async fn seed(store: &Store, d: &Data) -> anyhow::Result<()> {
    macro_rules! insert {
        ($pool:expr, $sql:expr, $rows:expr, $chunk:expr, |$b:ident, $r:ident| $push:expr) => {
            for chunk in $rows.chunks($chunk) {
                let mut qb = QueryBuilder::new($sql);
                qb.push_values(chunk, |mut $b, $r| {
                    $push;
                });
                qb.build().execute($pool).await?;
            }
        };
    }
    macro_rules! all {
        ($pool:expr) => {{
            insert!($pool, "INSERT INTO searches (id, session_id, query, normalized, result_count, top_slugs, corrected_query, created_at) ",
                d.searches, 2000, |b, r| b.push_bind(&r.id).push_bind(&r.session).push_bind(&r.query)
                    .push_bind(&r.query).push_bind(r.results).push_bind("").push_bind(&r.corrected).push_bind(r.at));
            insert!($pool, "INSERT INTO clicks (search_id, slug, position, session_id, created_at) ",
                d.clicks, 2000, |b, r| b.push_bind(&r.0).push_bind(&r.1).push_bind(1_i64).push_bind(&r.2).push_bind(r.3));
            insert!($pool, "INSERT INTO article_views (session_id, slug, search_id, created_at) ",
                d.views, 2000, |b, r| b.push_bind(&r.0).push_bind(&r.1).push_bind(None::<String>).push_bind(r.2));
            insert!($pool, "INSERT INTO votes (session_id, slug, helpful, reason, comment, search_id, created_at) ",
                d.votes, 1000, |b, r| b.push_bind(&r.0).push_bind(&r.1).push_bind(r.2).push_bind(r.3)
                    .push_bind(None::<String>).push_bind(None::<String>).push_bind(r.4));
            // The ticket queue may require more columns than the reports read: fill them.
            let extra = required_ticket_columns(store).await?;
            let names: String = extra.iter().map(|(n, _)| format!(", {n}")).collect();
            let sql = format!("INSERT INTO tickets (id, session_id, email, subject, description, category, created_at{names}) ");
            insert!($pool, sql.as_str(), d.tickets, 200, |b, r| {
                b.push_bind(&r.0).push_bind(&r.1).push_bind("c@example.com")
                    .push_bind("Help").push_bind("It does not work").push_bind(&r.2).push_bind(r.3);
                for (_, kind) in &extra {
                    match kind {
                        'i' => { b.push_bind(0_i64); }
                        'r' => { b.push_bind(0.0_f64); }
                        'b' => { b.push_bind(false); }
                        't' => { b.push_bind(r.3); }
                        _ => { b.push_bind("x"); }
                    }
                }
            });
        }};
    }
    match store {
        Store::Sqlite(pool) => all!(pool),
        Store::Postgres(pool) => {
            all!(pool);
            sqlx::query("ANALYZE").execute(pool).await?;
        }
    }
    if let Store::Sqlite(pool) = store {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok(())
}

async fn run(
    label: &str,
    store: &Store,
    data: &Data,
    kb: &KnowledgeBase,
    engine: &SearchEngine,
) -> anyhow::Result<()> {
    let started = Instant::now();
    // A kept database (DEFLECT_BENCH_KEEP) is reused as it is.
    if store.search_count().await? == 0 {
        seed(store, data).await?;
    }
    println!(
        "{label}: seeded {} searches, {} clicks, {} views, {} votes, {} tickets in {:.1} s",
        data.searches.len(),
        data.clicks.len(),
        data.views.len(),
        data.votes.len(),
        data.tickets.len(),
        started.elapsed().as_secs_f64()
    );
    let period = Period::last_days(7, Utc::now() + Duration::seconds(1));
    let inputs = Inputs {
        store,
        kb,
        engine,
        today: chrono::Local::now().date_naive(),
    };
    if std::env::var_os("DEFLECT_BENCH_QUERIES").is_some() {
        let (since, until) = (period.since, period.until);
        let t = Instant::now();
        let rows = store.query_day_stats(since, until).await?;
        println!(
            "{label:<8} query_stats  {:>7.0} ms ({} rows)",
            t.elapsed().as_secs_f64() * 1000.0,
            rows.len()
        );
        let t = Instant::now();
        let stats = deflect::reports::per_query(&rows, since.date_naive());
        let clusters = deflect::reports::cluster_gaps(&stats);
        println!(
            "{label:<8} clustering   {:>7.0} ms ({} clusters)",
            t.elapsed().as_secs_f64() * 1000.0,
            clusters.len()
        );
        let t = Instant::now();
        store.refinements(since, until, 120.0, 200).await?;
        println!(
            "{label:<8} refinements  {:>7.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        let t = Instant::now();
        store.session_buckets(since, until, 86400.0).await?;
        println!(
            "{label:<8} sessions     {:>7.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    // The first run aggregates the closed days and caches them; later runs read them back
    // and compute only the partial first day and today live.
    for name in ReportName::ALL {
        let t = Instant::now();
        std::hint::black_box(Report::build(name, inputs, period).await?);
        let cold = t.elapsed();
        let mut times: Vec<StdDuration> = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let report = Report::build(name, inputs, period).await?;
            times.push(t.elapsed());
            std::hint::black_box(report);
        }
        times.sort();
        println!(
            "{label:<8} {:<12} first {:>7.0} ms   then median {:>7.0} ms (min {:.0}, max {:.0})",
            name.as_str(),
            cold.as_secs_f64() * 1000.0,
            times[1].as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[2].as_secs_f64() * 1000.0
        );
    }
    let t = Instant::now();
    store
        .popular_articles(Utc::now() - Duration::days(30), 5)
        .await?;
    println!(
        "{label:<8} popular      {:>7.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("both", String::as_str);
    let n: usize = args
        .get(1)
        .map_or(Ok(1_000_000), |s| s.parse())
        .context("N must be a number")?;
    let content = tempfile::tempdir()?;
    deflect::site::unpack_sample(content.path())?;
    let loaded = KnowledgeBase::load(content.path(), chrono::Local::now().date_naive())?;
    let engine = SearchEngine::build(&loaded.kb)?;
    let slugs: Vec<String> = loaded.kb.published().map(|a| a.slug.clone()).collect();
    let types: Vec<String> = loaded
        .kb
        .ticket_types
        .iter()
        .map(|t| t.id.clone())
        .collect();
    let data = generate(n, &slugs, &types, Utc::now());

    if which == "both" || which == "sqlite" {
        let dir = tempfile::tempdir()?;
        // DEFLECT_BENCH_KEEP=DIR keeps the SQLite database there for a closer look.
        let path = std::env::var_os("DEFLECT_BENCH_KEEP")
            .map_or_else(|| dir.path().to_path_buf(), std::path::PathBuf::from);
        let store = Store::open_dir(&path).await?;
        run("sqlite", &store, &data, &loaded.kb, &engine).await?;
    }
    if which == "both" || which == "postgres" {
        let admin_url = std::env::var("DEFLECT_BENCH_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let name = format!("deflect_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .context("PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b)
            .to_string();
        let result = async {
            let store = Store::connect(&format!("{base}/{name}")).await?;
            run("postgres", &store, &data, &loaded.kb, &engine).await?;
            if let Store::Postgres(pool) = store {
                pool.close().await;
            }
            anyhow::Ok(())
        }
        .await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut admin)
            .await?;
        result?;
    }
    Ok(())
}
