//! `deflect check`: content CI for authors. Prints every problem as
//! `path:line: error|warning: message — fix`, then a summary; exit 1 on any error.

use std::process::ExitCode;

use super::ContentArgs;
use crate::content::KnowledgeBase;
use crate::content::today;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    content: ContentArgs,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut loaded = KnowledgeBase::load(&args.content.config()?.content, today())?;
    // Renamed and deleted articles whose old links nothing redirects, from git history.
    let hints = crate::content::history::hints(&loaded.kb);
    loaded.diagnostics.extend(hints);
    loaded
        .diagnostics
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    for d in &loaded.diagnostics {
        println!("{d}");
    }
    let (errors, warnings) = (loaded.errors(), loaded.warnings());
    let published = loaded.kb.published().count();
    println!(
        "checked {} articles ({} published), {} synonym rules, {} ticket types: {errors} error{}, {warnings} warning{}",
        loaded.files,
        published,
        loaded.kb.synonyms.len(),
        loaded.kb.ticket_types.len(),
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
    );
    let failed = errors > 0 || (args.strict && warnings > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
