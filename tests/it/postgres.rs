//! PostgreSQL for the tests: a fresh database per test on a throwaway cluster that the first
//! PostgreSQL test starts for the whole test process, or on the server that
//! `DEFLECT_TEST_POSTGRES` names (an admin URL).
//!
//! The throwaway cluster: the installed server binaries (`pg_config --bindir`, else
//! `/usr/lib/postgresql/*/bin`) run `initdb -A trust -U postgres` in a temporary folder, and
//! `postgres` listens on 127.0.0.1 on a free port, its unix socket in that folder; as the
//! `postgres` system user when the tests run as root (PostgreSQL refuses root). The machine's
//! own PostgreSQL is never touched. The server runs under a small watcher shell that reads a
//! pipe this process holds open: however the process ends (tests done, panic, kill -9), the
//! pipe closes, and the watcher shuts the server down and deletes the folder.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use deflect::store::Store;
use sqlx::{Connection, Row};

const NAME_PREFIX: &str = "deflect_test_";

/// A database created for one test, dropped by [`PgDatabase::drop_now`], or on drop (also
/// when the test panics).
pub(crate) struct PgDatabase {
    name: String,
    admin_url: String,
    dropped: bool,
}

impl PgDatabase {
    pub(crate) async fn create() -> (Self, Store) {
        let admin_url = admin_url();
        let name = format!(
            "{NAME_PREFIX}{}_{}",
            unix_now(),
            uuid::Uuid::new_v4().simple()
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to PostgreSQL at {admin_url}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let db = Self {
            name,
            admin_url,
            dropped: false,
        };
        let store = Store::connect(&db.url())
            .await
            .expect("connect and migrate");
        (db, store)
    }

    /// The database's own URL, for other processes.
    pub(crate) fn url(&self) -> String {
        let base = self
            .admin_url
            .rsplit_once('/')
            .map_or(self.admin_url.as_str(), |(b, _)| b);
        format!("{base}/{}", self.name)
    }

    pub(crate) async fn drop_now(mut self, store: Store) {
        if let Store::Postgres(pool) = store {
            pool.close().await;
        }
        drop_database(&self.admin_url, &self.name)
            .await
            .expect("drop database");
        self.dropped = true;
    }
}

impl Drop for PgDatabase {
    /// A test that failed before `drop_now` still leaves nothing behind: the database is
    /// dropped (with its open connections) on a thread of its own, since this may run inside
    /// the test's runtime.
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(drop_database(&url, &name))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(|e| e.to_string())?;
    // FORCE (PostgreSQL 13+) also ends connections a failed test left open.
    let forced = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
    if forced.is_err() {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut admin)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The admin URL every test database is created through; the first call starts the cluster
/// (or tidies the external server).
fn admin_url() -> String {
    static ADMIN: OnceLock<String> = OnceLock::new();
    ADMIN
        .get_or_init(|| match std::env::var("DEFLECT_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => {
                drop_stale_databases(&url);
                url
            }
            _ => Cluster::start(),
        })
        .clone()
}

/// On an external server, drops the test databases that runs which failed before this change
/// could leave behind: those created more than 10 minutes ago (another run may be using
/// younger ones), and those named without a creation time.
fn drop_stale_databases(admin_url: &str) {
    let url = admin_url.to_string();
    let tidied = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| format!("connect to PostgreSQL at {url}: {e}"))?;
            let names: Vec<String> = sqlx::query(
                "SELECT datname FROM pg_database WHERE datname LIKE 'deflect\\_test\\_%'",
            )
            .fetch_all(&mut admin)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .map(|row| row.get(0))
            .collect();
            let cutoff = unix_now().saturating_sub(600);
            for name in names {
                let created = name[NAME_PREFIX.len()..]
                    .split_once('_')
                    .and_then(|(secs, _)| secs.parse::<u64>().ok())
                    .unwrap_or(0);
                if created < cutoff {
                    drop_database(&url, &name).await?;
                    eprintln!("dropped stale test database {name}");
                }
            }
            Ok::<(), String>(())
        })
    })
    .join();
    match tidied {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("DEFLECT_TEST_POSTGRES: {e}"),
        Err(e) => std::panic::resume_unwind(e),
    }
}

/// The throwaway cluster; it lives as long as the test process holds `_watch`.
struct Cluster {
    /// The write end of the watcher's stdin: closed when the process ends, however it ends.
    _watch: ChildStdin,
}

static CLUSTER: Mutex<Vec<Cluster>> = Mutex::new(Vec::new());

/// Waits for the end of its stdin, then stops the server (fast shutdown, then SIGKILL after
/// 30 s) and deletes the folder. Arguments: the folder, then the server's command line.
const WATCHER: &str = r#"
dir="$1"; shift
"$@" </dev/null >>"$dir/server.log" 2>&1 &
server=$!
cat >/dev/null
kill -INT "$server" 2>/dev/null
i=0
while kill -0 "$server" 2>/dev/null && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "$server" 2>/dev/null
wait "$server" 2>/dev/null
rm -rf "$dir"
"#;

impl Cluster {
    /// Starts the cluster and returns its admin URL; panics, saying what to install, when
    /// the server binaries are missing.
    fn start() -> String {
        let bin = server_bindir().unwrap_or_else(|| {
            panic!(
                "the PostgreSQL tests start their own throwaway cluster and need the server \
                 binaries (initdb, postgres), which were not found by `pg_config --bindir` nor \
                 in /usr/lib/postgresql/*/bin: install Debian's `postgresql` package \
                 (`scripts/test` does), or set DEFLECT_TEST_POSTGRES to an admin URL of a \
                 server to use instead"
            )
        });
        let user = server_user();
        let mut last = String::new();
        // A free port can be taken between finding it and the server binding it: try again.
        for _ in 0..3 {
            match Self::try_start(&bin, user) {
                Ok((cluster, url)) => {
                    CLUSTER.lock().expect("cluster lock").push(cluster);
                    return url;
                }
                Err(e) => last = e,
            }
        }
        panic!("could not start a throwaway PostgreSQL cluster: {last}")
    }

    fn try_start(bin: &Path, user: Option<(u32, u32)>) -> Result<(Self, String), String> {
        let dir = tempfile::Builder::new()
            .prefix("deflect-pg-")
            .tempdir()
            .map_err(|e| format!("temporary folder: {e}"))?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.path().display()))?;
        }
        let data = dir.path().join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ])
            .arg("--no-sync")
            .arg("-D")
            .arg(&data);
        let out = as_user(&mut initdb, user, dir.path())
            .output()
            .map_err(|e| format!("run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("find a free port: {e}"))?
            .port();
        // From here the watcher owns the folder: it deletes it when the server stops.
        let dir = dir.keep();
        let mut watcher = Command::new("sh");
        watcher
            .args(["-c", WATCHER, "deflect-pg-watch"])
            .arg(&dir)
            .arg(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C in the terminal ends the tests, and the pipe
            // closing then stops the server, rather than the signal killing the watcher first.
            .process_group(0);
        let mut child = as_user(&mut watcher, user, &dir)
            .spawn()
            .map_err(|e| format!("start the server's watcher: {e}"))?;
        let cluster = Self {
            _watch: child.stdin.take().expect("piped stdin"),
        };
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok((cluster, url));
            }
            let mut log = String::new();
            let _ = std::fs::File::open(dir.join("server.log"))
                .and_then(|mut f| f.read_to_string(&mut log));
            let failed = log.contains("FATAL:") || child.try_wait().ok().flatten().is_some();
            if failed || Instant::now() > deadline {
                // Dropping `cluster` closes the pipe: the watcher cleans up.
                drop(cluster);
                return Err(format!("postgres on port {port} did not start:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The folder holding `initdb` and `postgres`: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout).
fn server_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|d| has_server(d));
    if from_pg_config.is_some() {
        return from_pg_config;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// As root, the `postgres` system user's uid and gid to run the server as; `None` otherwise.
fn server_user() -> Option<(u32, u32)> {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        return None;
    }
    let id = |flag: &str| {
        Command::new("id")
            .args([flag, "postgres"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Some((uid, gid)),
        _ => panic!(
            "the tests run as root, where PostgreSQL's initdb refuses to run, and there is no \
             `postgres` system user to run it as: install Debian's `postgresql` package \
             (`scripts/test` does), or set DEFLECT_TEST_POSTGRES to an admin URL"
        ),
    }
}

/// Runs `cmd` as `user` when given (dropping root), from `dir`.
fn as_user<'a>(cmd: &'a mut Command, user: Option<(u32, u32)>, dir: &Path) -> &'a mut Command {
    cmd.current_dir(dir);
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid).env("HOME", dir);
    }
    cmd
}
