//! Search benchmarks: building the index (sample content and a generated 10,000-article help
//! center), query latency on the generated 10,000- and 100,000-article help centers for each
//! kind of matching, and a latency histogram (median and p99) over 3,000+ question-style queries
//! of each kind at both sizes.
//!
//! `cargo bench --bench search -- scale` runs the large-content groups only; the 100,000-article
//! help center is generated in memory (about 400 MB of Markdown) when a group needs it.

mod corpus;
mod latency;

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use deflect::content::KnowledgeBase;
use deflect::search::{SearchEngine, SearchRequest};

/// The allocator `deflect serve` runs with, so the numbers are the server's (a search
/// allocates many small buffers; with the system allocator the same searches took 1.5–1.6×
/// as long at 100,000 articles).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GENERATED_ARTICLES: usize = 10_000;
const SEED: u64 = 77;

/// One query per kind of matching the engine does.
const QUERIES: [(&str, &str); 5] = [
    ("exact", "card hasn't arrived"),
    ("misspelled", "recieve mony transfr"),
    ("synonym", "cash machine swallowed my card"),
    ("prefix", "withdr"),
    (
        "long",
        "Hi, I ordered a new card about two weeks ago and it still hasn't arrived. The app \
         says it was sent but nothing came in the post. Should I wait longer, cancel it or \
         order another one? Thanks for helping.",
    ),
];

/// The generated help center, made once for all groups.
fn generated() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| {
        corpus::generate(&corpus::sample_dir(), GENERATED_ARTICLES, SEED).knowledge_base()
    })
}

/// The engine over the generated 100,000-article help center, made when first needed.
fn engine_100k() -> &'static SearchEngine {
    static ENGINE: OnceLock<SearchEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let started = std::time::Instant::now();
        let kb = corpus::generate(&corpus::sample_dir(), 100_000, SEED).knowledge_base();
        let parsed = started.elapsed();
        let engine = SearchEngine::build(&kb).expect("index builds");
        eprintln!(
            "100,000 articles: generated and parsed in {:.1} s, indexed in {:.1} s",
            parsed.as_secs_f64(),
            (started.elapsed() - parsed).as_secs_f64()
        );
        engine
    })
}

fn engine_10k() -> &'static SearchEngine {
    static ENGINE: OnceLock<SearchEngine> = OnceLock::new();
    ENGINE.get_or_init(|| SearchEngine::build(generated()).expect("index builds"))
}

fn index_build(c: &mut Criterion) {
    let sample = corpus::load(&corpus::sample_dir());
    let generated = generated();
    let mut group = c.benchmark_group("index_build");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(sample.published().count() as u64));
    group.bench_function("content", |b| {
        b.iter(|| SearchEngine::build(black_box(&sample)).expect("index builds"));
    });
    // A build takes seconds here: the fewest samples criterion allows, one build each.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(generated.published().count() as u64));
    group.bench_function("generated_10k", |b| {
        b.iter(|| SearchEngine::build(black_box(generated)).expect("index builds"));
    });
    group.finish();
}

fn query(c: &mut Criterion) {
    let mut group = c.benchmark_group("query");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    for (size, engine) in [
        ("generated_10k", engine_10k as fn() -> &'static SearchEngine),
        ("scale_100k", engine_100k),
    ] {
        for (name, text) in QUERIES {
            group.bench_with_input(BenchmarkId::new(size, name), text, |b, text| {
                let engine = engine();
                let results = engine.search(&SearchRequest::new(text));
                assert!(
                    !results.hits.is_empty(),
                    "the {name} query finds nothing, so it measures nothing"
                );
                b.iter(|| engine.search(&SearchRequest::new(black_box(text))).total);
            });
        }
    }
    group.finish();
}

/// Median and p99 of single searches over thousands of question-style queries of each kind,
/// at 10,000 and 100,000 articles. Criterion reports the time of a whole pass over a kind's
/// queries (its mean per query is that divided by the count); the distribution of single
/// queries, which a mean hides, is printed and written to
/// `target/criterion/latency/<size>.json`.
fn latency(c: &mut Criterion) {
    let kinds = latency::query_kinds();
    let mut group = c.benchmark_group("latency");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10));
    for (size, engine) in [
        ("scale_10k", engine_10k as fn() -> &'static SearchEngine),
        ("scale_100k", engine_100k),
    ] {
        // Criterion runs the routine more than once (warm-up, then samples): report once.
        let mut reported = false;
        group.bench_function(BenchmarkId::new(size, "histogram"), |b| {
            let engine = engine();
            if !reported {
                latency::report(size, engine, &kinds);
                reported = true;
            }
            b.iter(|| {
                for (_, queries) in &kinds {
                    for q in queries.iter().take(200) {
                        black_box(engine.search(&SearchRequest::new(q)).total);
                    }
                }
            });
        });
    }
    group.finish();
}

/// A model as learning would train it from traffic: each labelled BANKING77 question (CC BY 4.0,
/// Casanueva et al. 2020) clicked by its own visitor on the first article answering its label.
fn trained_model(kb: &KnowledgeBase) -> deflect::learning::Model {
    use deflect::learning::{Example, Model, TrainConfig};
    let now = chrono::Utc::now();
    let questions =
        deflect::eval::read_questions(std::path::Path::new("tests/data/banking77_train.csv"))
            .expect("tests/data/banking77_train.csv");
    let examples: Vec<Example> = questions
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            let slug = kb
                .published()
                .find(|a| a.front.ticket_types.contains(&q.category))?
                .slug
                .clone();
            Some(Example {
                text: q.text.clone(),
                label: slug,
                weight: 1.0,
                session: format!("s{i}"),
                client: format!("c{i}"),
                at: now,
            })
        })
        .collect();
    Model::train(&examples, &TrainConfig::default())
}

/// What learning costs a search on the sample content: the words alone against the same
/// results re-ranked (and extended) by a model trained on 10,000 questions.
fn learned(c: &mut Criterion) {
    let sample = corpus::load(&corpus::sample_dir());
    let engine = SearchEngine::build(&sample).expect("index builds");
    let model = trained_model(&sample);
    assert!(
        !model.is_empty(),
        "the model learned nothing, so it measures nothing"
    );
    let mut group = c.benchmark_group("learned");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(4));
    for (name, text) in QUERIES {
        group.bench_with_input(BenchmarkId::new("cold", name), text, |b, text| {
            b.iter(|| engine.search(&SearchRequest::new(black_box(text))).total);
        });
        group.bench_with_input(BenchmarkId::new("warm", name), text, |b, text| {
            b.iter(|| {
                let req = SearchRequest::new(black_box(text));
                deflect::learning::rerank(&engine, engine.search(&req), &model, 10, None)
                    .results
                    .total
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = index_build, query, latency, learned
}
criterion_main!(benches);
