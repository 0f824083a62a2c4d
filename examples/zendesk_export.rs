//! Writes a Zendesk Guide export (the Help Center API's responses) of the sample help center,
//! or of a generated one with ARTICLES articles, for trying and measuring `deflect import`:
//!
//! ```sh
//! cargo run --release --example zendesk_export -- /tmp/zendesk 10000
//! time cargo run --release -- import zendesk /tmp/zendesk --out /tmp/imported
//! ```

#[path = "../benches/corpus/mod.rs"]
mod corpus;
#[path = "../tests/fixtures/import/zendesk_export.rs"]
mod zendesk_export;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!(
            "usage: zendesk_export DIR [ARTICLES]  (without ARTICLES: the sample help center)"
        );
        return ExitCode::from(2);
    };
    // The articles' HTML is rendered from their files: a generated help center is written
    // to a folder first.
    let content = match args.next().map(|n| n.parse::<usize>()) {
        None => corpus::sample_dir(),
        Some(Ok(n)) => {
            let content = std::env::temp_dir().join(format!("deflect-zendesk-export-{n}"));
            if let Err(e) = corpus::generate(&corpus::sample_dir(), n, 77).write_to(&content) {
                eprintln!(
                    "writing the generated help center to {}: {e}",
                    content.display()
                );
                return ExitCode::FAILURE;
            }
            content
        }
        Some(Err(e)) => {
            eprintln!("ARTICLES must be a number: {e}");
            return ExitCode::from(2);
        }
    };
    let kb = corpus::load(&content);
    match zendesk_export::write(&kb, &content, &dir, 100) {
        Ok(w) => {
            println!(
                "wrote {} articles in {} pages, with categories.json and sections.json, to {}",
                w.articles,
                w.pages,
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("writing {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
