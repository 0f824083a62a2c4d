//! A fresh `deflect serve` as a child process, for measurements through the real HTTP API: its
//! own port, temporary data directory (SQLite) and deflect.toml, an admin token; killed and
//! cleaned up when dropped, on success and on error alike.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hyper::{Method, StatusCode};

use super::replay::Api;

/// How long a server may take to say it is ready (index, learned model).
const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// A temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "{prefix}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the temporary directory {}", dir.display()))?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!("removing {}: {e}", self.0.display());
        }
    }
}

/// A running `deflect serve` child; killed (and its directory removed) on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub api: Api,
    /// `Bearer <admin token>`.
    pub bearer: String,
    log: PathBuf,
    // Dropped after the child is killed (field order), so SQLite is closed first.
    _dir: TempDir,
}

/// What the child is started with.
#[derive(Debug)]
pub struct Launch<'a> {
    pub content: &'a Path,
    /// The deflect.toml to write for it.
    pub config_toml: String,
}

impl Server {
    /// Starts the current executable as `deflect serve` on a free 127.0.0.1 port and waits
    /// for `/readyz`; on failure the error carries the tail of the server's log.
    pub async fn start(launch: &Launch<'_>) -> anyhow::Result<Self> {
        let dir = TempDir::new("deflect-eval")?;
        let config = dir.path().join("deflect.toml");
        std::fs::write(&config, &launch.config_toml)
            .with_context(|| format!("writing {}", config.display()))?;
        let log = dir.path().join("server.log");
        let log_file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let port = free_port()?;
        let token = uuid::Uuid::new_v4().simple().to_string();
        let exe = std::env::current_exe().context("finding the deflect executable")?;
        let mut cmd = Command::new(&exe);
        cmd.arg("serve")
            .arg("--content")
            .arg(launch.content)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--no-watch")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        // The child's settings are its deflect.toml and these flags only: no database,
        // webhook or switch inherited from this shell's DEFLECT_* variables.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("DEFLECT_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env("DEFLECT_ADMIN_TOKEN", &token);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "warn");
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {} serve", exe.display()))?;
        let mut server = Self {
            child,
            api: Api::new(&format!("http://127.0.0.1:{port}")),
            bearer: format!("Bearer {token}"),
            log,
            _dir: dir,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().context("watching the server")? {
                bail!(
                    "the server exited ({status}) before it was ready; its log ends:\n{}",
                    self.log_tail(30)
                );
            }
            if let Ok((StatusCode::OK, _)) = self.api.send(Method::GET, "/readyz", None, &[]).await
            {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!(
                    "the server was not ready after {} s; its log ends:\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.log_tail(30)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An error if the server has died, with its log's tail.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait().context("watching the server")? {
            bail!(
                "the server exited ({status}); its log ends:\n{}",
                self.log_tail(30)
            );
        }
        Ok(())
    }

    /// The last `lines` lines of the server's stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let all: Vec<&str> = text.lines().collect();
        let tail = all[all.len().saturating_sub(lines)..].join("\n");
        if tail.trim().is_empty() {
            "(nothing)".to_string()
        } else {
            tail
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now (the OS's pick; released for the child to take).
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr().context("finding a free port")?.port())
}
