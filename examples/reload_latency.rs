//! How long one edited article takes to reload, in process: what `deflect serve`'s watcher
//! does after an author saves a file (`Site::load_changed` on the one path), without the
//! watcher's settling pause or HTTP. The site is loaded on an index kept in a folder (built
//! the first time, reused after), then one article at a time gets a unique word in its Quick answer
//! and is reloaded; every file is put back as it was.
//!
//! ```sh
//! cargo run --release --example generate_corpus -- /tmp/corpus100k 100000
//! cargo run --release --example reload_latency -- /tmp/corpus100k /tmp/index100k-reload [EDITS]
//! ```
//!
//! `RUST_LOG=deflect=debug` shows each reload's parts (parse, index, engine).

use std::path::{Path, PathBuf};
use std::time::Instant;

use deflect::content::today;
use deflect::site::{IndexAt, Site};

/// The allocator `deflect serve` runs with, so the numbers are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            markdown_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md")
            && !path.ends_with("README.md")
            && out.len() < 10_000
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The article with `word` in its Quick answer (else its first paragraph), a searchable part
/// of the body, as `benches/edit_live.py` edits it.
fn with_word(src: &str, word: &str) -> String {
    for marker in ["## Quick answer\n", "\n---\n"] {
        if let Some(at) = src.find(marker) {
            let at = at + marker.len();
            return format!("{}\nAlso known as {word}.\n{}", &src[..at], &src[at..]);
        }
    }
    format!("{src}\n\nAlso known as {word}.\n")
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let (Some(content), Some(index)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: reload_latency CONTENT_DIR INDEX_DIR [EDITS]");
    };
    let edits: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(10);
    let content = PathBuf::from(content);
    let started = Instant::now();
    let (mut site, report) = Site::load_at(
        &content,
        today(),
        None,
        IndexAt::DiskOnly(Path::new(&index)),
    )?;
    eprintln!(
        "{} articles loaded in {:.1} s ({} reindexed)",
        report.articles,
        started.elapsed().as_secs_f64(),
        report.index.changed()
    );
    let mut files = Vec::new();
    markdown_files(&content, &mut files)?;
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no articles in {}", content.display());
    let step = (files.len() / edits.max(1)).max(1);
    let mut millis = Vec::new();
    for (n, path) in files.iter().step_by(step).enumerate() {
        if millis.len() == edits {
            break;
        }
        let original = std::fs::read_to_string(path)?;
        std::fs::write(path, with_word(&original, &format!("zqreload{n}")))?;
        let t = Instant::now();
        let reloaded = Site::load_changed(&content, today(), &site, std::slice::from_ref(path));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        std::fs::write(path, &original)?;
        let (next, report) = reloaded?;
        site = next;
        // A draft's edit changes no index: not what is measured here.
        if report.index.updated == 1 {
            millis.push(ms);
        }
    }
    anyhow::ensure!(!millis.is_empty(), "no published article was edited");
    millis.sort_by(f64::total_cmp);
    let median = millis[millis.len() / 2];
    eprintln!(
        "reload of one edited article, {} edits: median {median:.0} ms, min {:.0} ms, max {:.0} ms",
        millis.len(),
        millis[0],
        millis[millis.len() - 1]
    );
    Ok(())
}
