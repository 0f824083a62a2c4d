//! The `deflect` binary as authors and scripts run it: `check`, `search` and `eval`, their
//! output formats and exit codes.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use deflect::content::KnowledgeBase;
use serde_json::Value;

use crate::app::{ServeProcess, raw_request};
use crate::fixture::{ArticleSrc, Fixture, line_of, today};

/// Runs the built binary with `args`, feeding `stdin`, with no content directory from the environment.
fn deflect(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_deflect"))
        .args(args)
        .env_remove("DEFLECT_CONTENT")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start deflect");
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for deflect")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn root(f: &Fixture) -> &str {
    f.root().to_str().expect("temporary paths are UTF-8")
}

/// Three articles, one per ticket type, each sharing its distinctive words with nothing else.
fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival", "lost_or_stolen_card", "exchange_rate"]);
    let articles = [
        (
            "cards/card-arrival.md",
            "My card hasn't arrived",
            "card_arrival",
            "Cards take five working days to arrive by post.",
        ),
        (
            "cards/lost-card.md",
            "I lost my card",
            "lost_or_stolen_card",
            "Freeze a lost or stolen card in the app.",
        ),
        (
            "currencies/exchange-rate.md",
            "What exchange rate do you use?",
            "exchange_rate",
            "We use the interbank exchange rate on weekdays.",
        ),
    ];
    for (rel, title, ticket_type, intro) in articles {
        f.article(
            rel,
            &ArticleSrc::new(title)
                .ticket_types(&[ticket_type])
                .intro(intro),
        );
    }
    f
}

/// Asserts a `deflect check` line reads `path:line: severity: message — fix` for an existing file.
#[track_caller]
fn assert_diagnostic_shape(line: &str) {
    let (location, rest) = line
        .split_once(": error: ")
        .or_else(|| line.split_once(": warning: "))
        .unwrap_or_else(|| panic!("no severity in {line:?}"));
    let (path, number) = location
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("no line number in {line:?}"));
    assert!(
        number.parse::<usize>().is_ok_and(|n| n > 0),
        "line number in {line:?}"
    );
    assert!(Path::new(path).is_file(), "{path} is not a file ({line:?})");
    let (message, fix) = rest
        .split_once(" — ")
        .unwrap_or_else(|| panic!("no fix in {line:?}"));
    assert!(!message.is_empty() && !fix.is_empty(), "{line:?}");
}

#[test]
fn check_prints_each_error_with_file_and_line_and_exits_1() {
    let f = help_center();
    let bad = ArticleSrc::new("Bad key").set("status", "live").render();
    f.file("cards/bad-key.md", &bad);
    let no_quick = ArticleSrc::new("No quick answer")
        .set("slug", "No Quick")
        .render();
    f.file("cards/no-quick-answer.md", &no_quick);

    let out = deflect(&["check", "--content", root(&f)], "");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    let root = root(&f);
    assert_eq!(
        lines[0],
        format!(
            "{root}/cards/bad-key.md:{}: error: unknown status `live` — use draft, published or archived",
            line_of(&bad, "status:")
        )
    );
    let slug_line = line_of(&no_quick, "slug:");
    assert!(
        lines[1].starts_with(&format!("{root}/cards/no-quick-answer.md:{slug_line}: error: `slug` `No Quick` is not a valid slug — ")),
        "{text}"
    );
    assert_eq!(lines.len(), 3, "two diagnostics and the summary:\n{text}");
    for line in &lines[..2] {
        assert_diagnostic_shape(line);
    }
    assert!(
        lines[2].starts_with("checked 5 articles (3 published)"),
        "{text}"
    );
    assert!(lines[2].ends_with(": 2 errors, 0 warnings"), "{text}");
}

#[test]
fn check_exits_0_with_only_warnings_unless_strict() {
    let f = help_center();
    f.ticket_types(&[
        "card_arrival",
        "lost_or_stolen_card",
        "exchange_rate",
        "card_swallowed",
    ]);
    let out = deflect(&["check", "--content", root(&f)], "");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let warning = text.lines().next().expect("a warning line");
    assert_eq!(
        warning,
        format!(
            "{}/ticket-types.toml:19: warning: ticket type `card_swallowed` has no published article — write an article that answers it and list the type in its `ticket_types`",
            root(&f)
        )
    );
    assert_diagnostic_shape(warning);
    assert!(text.trim_end().ends_with(": 0 errors, 1 warning"), "{text}");

    let strict = deflect(&["check", "--strict", "--content", root(&f)], "");
    assert_eq!(strict.status.code(), Some(1), "--strict fails on warnings");
}

#[test]
fn check_on_a_missing_directory_explains_and_exits_2() {
    let f = Fixture::new();
    let missing = f.root().join("nope");
    let out = deflect(
        &["check", "--content", missing.to_str().expect("UTF-8")],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("content directory") && stderr(&out).contains("not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn search_reads_queries_from_stdin_and_prints_one_json_line_each() {
    let f = help_center();
    let out = deflect(
        &["search", "--content", root(&f)],
        "card arrived\nlost card\n\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let queries: Vec<&str> = lines
        .iter()
        .map(|l| l["query"].as_str().expect("query"))
        .collect();
    assert_eq!(queries, ["card arrived", "lost card", ""]);
    let top = &lines[0]["results"][0];
    assert_eq!(top["slug"], "card-arrival");
    assert_eq!(top["title"], "My card hasn't arrived");
    assert!(top["score"].as_f64().is_some_and(|s| s > 0.0), "{top}");
    assert_eq!(lines[1]["results"][0]["slug"], "lost-card");
    assert_eq!(lines[2]["results"], Value::Array(Vec::new()));
    for line in &lines {
        let scores: Vec<f64> = line["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["score"].as_f64().expect("score"))
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "best first: {line}"
        );
    }
}

#[test]
fn search_json_prints_one_document_for_the_query_arguments() {
    let f = help_center();
    let out = deflect(
        &[
            "search",
            "--content",
            root(&f),
            "--json",
            "lost",
            "my",
            "card",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("one JSON document");
    assert_eq!(doc["query"], "lost my card");
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results[0]["slug"], "lost-card");
    assert_eq!(results[0]["title"], "I lost my card");
    assert_eq!(results[0]["url"], "/articles/lost-card");
    assert!(results[0]["score"].is_number());
    assert!(
        results[0]["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("<mark>lost</mark>")),
        "{doc:#}"
    );
    assert_eq!(doc["total"].as_u64(), Some(results.len() as u64));
}

#[test]
fn eval_prints_top1_top3_mrr_and_the_baseline() {
    let f = help_center();
    f.file(
        "questions.csv",
        "text,category\nMy card still hasn't arrived,card_arrival\nI lost my card,lost_or_stolen_card\n\
         \"What exchange rate, exactly, do you use?\",exchange_rate\nqwzx,card_arrival\n",
    );
    let csv = f.root().join("questions.csv");
    let out = deflect(
        &["eval", csv.to_str().expect("UTF-8"), "--content", root(&f)],
        "",
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.starts_with("4 questions from "), "{text}");
    let header = text.lines().nth(1).expect("header");
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(columns, ["top-1", "top-3", "top-10", "MRR", "zero-res"]);
    let row = |name: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{text}"));
        line[name.len()..]
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    // Three questions answered first, one (`qwzx`) answered by nothing.
    assert_eq!(
        row("deflect"),
        ["75.0%", "75.0%", "75.0%", "0.750", "25.00%"],
        "{text}"
    );
    let baseline = row("bm25 baseline");
    assert_eq!(baseline.len(), 5, "{text}");
    assert!(
        baseline[..3].iter().all(|c| c.ends_with('%')) && baseline[3].parse::<f64>().is_ok(),
        "{text}"
    );
}

#[test]
fn eval_with_a_bad_csv_header_explains_and_fails() {
    let f = help_center();
    f.file(
        "questions.csv",
        "question,label\nMy card still hasn't arrived,card_arrival\n",
    );
    let csv = f.root().join("questions.csv");
    let out = deflect(
        &["eval", csv.to_str().expect("UTF-8"), "--content", root(&f)],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:1: the header must name the columns `text` and `category` (found: question,label)",
            csv.display()
        )),
        "{err}"
    );
}

#[test]
fn bundled_sample_content_is_clean_and_answers_every_ticket_type() {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let out = deflect(
        &["check", "--content", content.to_str().expect("UTF-8")],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains(": error: "), "{}", stdout(&out));

    let loaded = KnowledgeBase::load(&content, today()).expect("content loads");
    let covered: HashSet<&str> = loaded
        .kb
        .published()
        .flat_map(|a| a.front.ticket_types.iter().map(String::as_str))
        .collect();
    let missing: Vec<&str> = loaded
        .kb
        .ticket_types
        .iter()
        .map(|t| t.id.as_str())
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(!loaded.kb.ticket_types.is_empty());
    assert!(
        missing.is_empty(),
        "ticket types with no published article: {missing:?}"
    );
}

#[test]
fn serve_with_no_content_directory_serves_the_bundled_sample() {
    let empty = tempfile::tempdir().expect("tempdir");
    let server = ServeProcess::start(|cmd| {
        cmd.current_dir(empty.path())
            .env("TMPDIR", empty.path())
            .stderr(Stdio::null())
    });
    let response = raw_request(&server.addr, "GET", "/readyz", None);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let published = KnowledgeBase::load(Path::new("content"), today())
        .expect("sample loads")
        .kb
        .published()
        .count();
    assert!(
        response.contains(&format!("\"articles\":{published}")),
        "{response}"
    );
}

/// `deflect serve` on `f` with the data directory `data`, its log (at info) in `log`.
fn serve_logging(f: &Fixture, data: &Path, log: &Path) -> ServeProcess {
    let file = std::fs::File::create(log).expect("create the log file");
    ServeProcess::start(|cmd| {
        cmd.args(["--content", root(f), "--data-dir"])
            .arg(data)
            .env("RUST_LOG", "deflect=info")
            .stderr(file)
    })
}

/// The slug of the first result the server gives for `query` (a single word).
#[track_caller]
fn first_result(server: &ServeProcess, query: &str) -> String {
    let (status, body) = server.call("GET", &format!("/api/v1/search?q={query}"), None);
    assert_eq!(status, 200, "{body}");
    let hits: Value = serde_json::from_str(&body).expect("JSON");
    hits["results"][0]["slug"]
        .as_str()
        .unwrap_or_else(|| panic!("no first result for {query}: {body}"))
        .to_string()
}

#[test]
fn index_builds_the_served_index_then_writes_only_what_changed_and_refuses_one_in_use() {
    let f = help_center();
    let data = tempfile::tempdir().expect("tempdir");
    let d = data.path().to_str().expect("UTF-8 path");
    let index = |expect: &str| {
        let out = deflect(&["index", "--content", root(&f), "--data-dir", d], "");
        let text = stdout(&out);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        assert!(
            text.starts_with(&format!("index {d}/index: 3 articles ({expect}) in ")),
            "{text}"
        );
    };
    index("3 added, 0 updated, 0 removed, 0 unchanged");
    index("0 added, 0 updated, 0 removed, 3 unchanged");
    f.article(
        "cards/lost-card.md",
        &ArticleSrc::new("I lost my card")
            .ticket_types(&["lost_or_stolen_card"])
            .intro("Freeze a lost card in the app and order a replacement."),
    );
    index("0 added, 1 updated, 0 removed, 2 unchanged");

    // A server on the same data directory starts on that index without indexing anything.
    let log = data.path().join("serve.log");
    let server = serve_logging(&f, data.path(), &log);
    assert_eq!(first_result(&server, "replacement"), "lost-card");
    // While it holds the index, `deflect index` says so instead of touching it.
    let out = deflect(&["index", "--content", root(&f), "--data-dir", d], "");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("is in use by another process"),
        "{}",
        stderr(&out)
    );
    server.stop();
    let log = std::fs::read_to_string(&log).expect("read the log");
    assert!(
        log.contains("reused=3 indexed=0 removed=0"),
        "the server reindexed:\n{log}"
    );
    assert!(!log.contains("built by `deflect index`"), "{log}");
}

#[test]
fn serve_builds_a_missing_index_in_a_child_process_and_starts_on_it() {
    let f = help_center();
    let data = tempfile::tempdir().expect("tempdir");
    let log = data.path().join("serve.log");
    let server = serve_logging(&f, data.path(), &log);
    assert_eq!(first_result(&server, "interbank"), "exchange-rate");
    server.stop();
    let log = std::fs::read_to_string(&log).expect("read the log");
    // The child's summary, then the server finding everything indexed already.
    let child = log
        .find("3 articles (3 added, 0 updated, 0 removed, 0 unchanged)")
        .unwrap_or_else(|| panic!("no summary of `deflect index`:\n{log}"));
    let built = log
        .find("search index built by `deflect index`")
        .unwrap_or_else(|| panic!("{log}"));
    let loaded = log
        .find("reused=3 indexed=0 removed=0")
        .unwrap_or_else(|| panic!("the server indexed again:\n{log}"));
    assert!(child < built && built < loaded, "{log}");
}

/// The fields of `/proc/PID/stat` after the command name (state, parent, …), which may hold
/// spaces; `None` when the process is gone.
fn stat_of(pid: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(String::from).collect())
}

/// Whether a process with these stat fields is running (not a zombie).
fn alive(fields: &[String]) -> bool {
    fields.first().is_some_and(|state| state != "Z")
}

/// The running processes whose parent is `pid`, from `/proc`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .flatten()
        .filter_map(|entry| {
            let child = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let fields = stat_of(&child.to_string())?;
            (alive(&fields) && fields.get(1) == Some(&pid.to_string())).then_some(child)
        })
        .collect()
}

/// Whether process `pid` is still running (not gone, not a zombie).
fn running(pid: u32) -> bool {
    stat_of(&pid.to_string()).is_some_and(|f| alive(&f))
}

#[test]
fn a_server_killed_during_its_first_build_leaves_no_build_holding_the_index() {
    // Enough articles for the build to take a while in a debug build.
    let f = Fixture::new();
    let body = "Cards, transfers and exchange rates explained in plain words. ".repeat(20);
    for i in 0..5000 {
        f.article(
            &format!("topic-{}/article-{i}.md", i % 20),
            &ArticleSrc::new(&format!("Question number {i} about cards")).intro(&body),
        );
    }
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_deflect"))
        .args(["serve", "--bind", "127.0.0.1:0", "--no-watch", "--content"])
        .arg(f.root())
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start deflect serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let build = loop {
        if let Some(&child) = children_of(server.id()).first() {
            break child;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deflect serve started no `deflect index` within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let cmdline = std::fs::read(format!("/proc/{build}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("index"),
        "{cmdline:?}"
    );
    server.kill().expect("kill the server");
    server.wait().expect("reap the server");
    // The build notices within a second or so and stops.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while running(build) {
        assert!(
            std::time::Instant::now() < deadline,
            "`deflect index` (pid {build}) still runs 10 s after its server was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        !data.path().join("index/deflect-index.json").exists(),
        "the build ran to its end instead of stopping with its server"
    );
    // The index is free: building it now succeeds.
    let d = data.path().to_str().expect("UTF-8 path");
    let out = deflect(&["index", "--content", root(&f), "--data-dir", d], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(": 5000 articles ("),
        "{}",
        stdout(&out)
    );
}
