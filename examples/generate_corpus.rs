//! Writes the benchmarks' generated help center (default 10,000 articles recombined from the
//! sample content) to a directory, e.g. for the HTTP load benchmark:
//! `cargo run --release --example generate_corpus -- /tmp/corpus 10000`.

#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: generate_corpus DIR [ARTICLES]");
        return ExitCode::from(2);
    };
    let n = match args.next().map(|n| n.parse::<usize>()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("ARTICLES must be a number: {e}");
            return ExitCode::from(2);
        }
    };
    let generated = corpus::generate(&corpus::sample_dir(), n, 77);
    if let Err(e) = generated.write_to(&dir) {
        eprintln!("writing {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {n} articles to {}", dir.display());
    ExitCode::SUCCESS
}
