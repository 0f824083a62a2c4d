//! `deflect index`: builds the search index `deflect serve` keeps in `DATA_DIR/index`, or
//! brings it in step with the content, so that the server starts on it in seconds (a deploy
//! step can run it before the server). `deflect serve` runs it in a child process on a first
//! start: what the build allocated goes back to the system when the child exits, and the
//! server then starts as it does on a restart.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;

use crate::config::{Config, Layer};
use crate::content::today;
use crate::site::{IndexAt, Site};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    content: super::ContentArgs,
    /// Where `deflect serve` keeps its data; the index is its `index` folder [default: data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Set by `deflect serve` when it runs this build: stop when that process is gone, so
    /// that a server killed during its first start leaves no build holding the index.
    #[arg(long, hide = true)]
    parent: Option<u32>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(parent) = args.parent {
        std::thread::spawn(move || {
            while std::os::unix::process::parent_id() == parent {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            eprintln!("deflect index: the server that started this build has stopped; stopping");
            std::process::exit(3);
        });
    }
    let config = args.content.config_with(Layer {
        data_dir: args.data_dir.clone(),
        ..Layer::default()
    })?;
    let dir = config.data_dir.join("index");
    let (_site, report) = Site::load_at(&config.content, today(), None, IndexAt::DiskOnly(&dir))
        .with_context(|| {
            format!(
                "indexing {} into {} (a `deflect serve` running on this data directory keeps its index up to date itself)",
                config.content.display(),
                dir.display()
            )
        })?;
    let i = &report.index;
    let written = i.added + i.updated;
    println!(
        "index {}: {} articles ({} added, {} updated, {} removed, {} unchanged) in {:.1} s{}",
        dir.display(),
        report.articles,
        i.added,
        i.updated,
        i.removed,
        i.unchanged,
        report.millis as f64 / 1000.0,
        if written > 0 {
            format!(
                ", indexing {:.0} articles/s",
                written as f64 / (i.millis as f64 / 1000.0).max(1e-3)
            )
        } else {
            String::new()
        },
    );
    if report.errors > 0 {
        eprintln!(
            "{} content errors: broken articles are not indexed (run `deflect check`)",
            report.errors
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `deflect index` for this configuration's content and data directory in a child
/// process (this executable), its output on this process's stderr, and waits for it.
pub fn in_child(config: &Config, config_file: Option<&Path>) -> anyhow::Result<()> {
    use std::os::fd::AsFd;
    let exe = std::env::current_exe().context("finding this executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg("index")
        .arg("--parent")
        .arg(std::process::id().to_string())
        .arg("--content")
        .arg(&config.content)
        .arg("--data-dir")
        .arg(&config.data_dir);
    if let Some(file) = config_file {
        cmd.arg("--config").arg(file);
    }
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .context("sharing stderr")?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(stderr))
        .status()
        .context("starting `deflect index`")?;
    anyhow::ensure!(status.success(), "`deflect index` ended with {status}");
    Ok(())
}
