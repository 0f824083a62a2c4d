//! `deflect import SYSTEM PATH --out DIR`: another help center's export or a docs site's
//! Markdown into a content directory; prints a summary and writes the authors' checklist
//! beside the directory.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::content::today;
use crate::import::{Options, System};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the content comes from.
    #[arg(value_enum)]
    system: System,
    /// The export: a directory of saved API responses (.json), one response file, or the
    /// docs site's folder of Markdown.
    path: PathBuf,
    /// The content directory to write (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Overwrite files that exist already (by default nothing is written if any does).
    #[arg(long)]
    force: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let options = Options {
        out: args.out.clone(),
        force: args.force,
        today: today(),
        checklist: None,
    };
    let terminal = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last = Instant::now();
    let mut progress = |done: usize, total: usize| {
        // A progress line on a terminal for long imports; logs and pipes stay quiet.
        if terminal
            && total >= 1_000
            && (done == total || last.elapsed() > Duration::from_millis(200))
        {
            last = Instant::now();
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\rconverting articles: {done}/{total} ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            if done == total {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        }
    };
    let summary = crate::import::run(args.system, &args.path, &options, &mut progress)?;
    print!("{}", summary.text());
    let errors = summary.check_errors();
    if errors > 0 {
        println!(
            "{errors} imported article(s) have errors `deflect check` will report; see the checklist"
        );
    }
    Ok(ExitCode::SUCCESS)
}
