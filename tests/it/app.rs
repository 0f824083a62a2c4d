//! The one harness for the help center over HTTP: a fixture's content loaded into an
//! [`AppState`] (with a config and a store when a test wants them), requests through the
//! router, and a real socket for the tests that need one; `deflect serve` as a child process,
//! and plain HTTP/1.1 over a socket to talk to either.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use deflect::config::Config;
use deflect::http::{AppState, router, templates};
use deflect::site::{LiveSite, Site};
use deflect::store::Store;
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

use crate::fixture::{Fixture, today};

/// The help center of one fixture, answering requests through the router.
pub struct TestApp {
    pub state: Arc<AppState>,
    /// The SQLite store's folder, when the app made its own store.
    _data: Option<TempDir>,
}

impl TestApp {
    /// Default config, no store.
    pub fn new(f: &Fixture) -> Self {
        Self::with_config(f, Config::default())
    }

    /// This config, no store.
    pub fn with_config(f: &Fixture, config: Config) -> Self {
        Self {
            state: Arc::new(Self::bare(f, config)),
            _data: None,
        }
    }

    /// This config and store; events are written by the store's background writer.
    pub fn with_store(f: &Fixture, config: Config, store: Store) -> Self {
        let (state, _writer) = Self::bare(f, config).with_store(store);
        Self {
            state: Arc::new(state),
            _data: None,
        }
    }

    /// This config and a fresh SQLite store in a temporary folder the app owns.
    pub async fn with_sqlite(f: &Fixture, config: Config) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let store = Store::open_dir(data.path()).await.expect("open the store");
        Self {
            _data: Some(data),
            ..Self::with_store(f, config, store)
        }
    }

    fn bare(f: &Fixture, config: Config) -> AppState {
        let (site, report) = Site::load(f.root(), today(), None).expect("fixture loads");
        assert_eq!(report.errors, 0, "the fixture has errors");
        let live = Arc::new(LiveSite::new(f.root().to_path_buf(), site));
        let templates = templates::environment(None).expect("embedded templates compile");
        AppState::new(live, templates, config)
    }

    /// The app's store; panics when it has none.
    pub fn store(&self) -> &Store {
        self.state.store.as_ref().expect("the app has a store")
    }

    pub async fn send(&self, req: Request<Body>) -> Response {
        let res = router(Arc::clone(&self.state))
            .oneshot(req)
            .await
            .expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .expect("body");
        Response {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).expect("utf-8"),
        }
    }

    pub async fn get(&self, uri: &str) -> Response {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    /// A GET with these extra headers.
    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = Request::get(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Response {
        self.send(json_post(uri, &body.to_string())).await
    }

    /// A POST of this text as `application/json`, for bodies that are not valid JSON.
    pub async fn post_json_text(&self, uri: &str, body: &str) -> Response {
        self.send(json_post(uri, body)).await
    }

    /// A POST of a URL-encoded form.
    pub async fn post_form(&self, uri: &str, body: &str) -> Response {
        self.send(form_post(uri, body)).await
    }

    /// A JSON request with the configured admin token as the bearer.
    pub async fn admin(&self, method: &str, uri: &str, body: Option<&Value>) -> Response {
        let token = self
            .state
            .config
            .admin_token
            .as_ref()
            .expect("the app's config has an admin token");
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", token.expose()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("request");
        self.send(req).await
    }

    /// Logs in through the login form with the configured admin token; the login cookie as
    /// `name=value`, for a `Cookie` header.
    pub async fn login(&self) -> String {
        let token = self
            .state
            .config
            .admin_token
            .as_ref()
            .expect("the app's config has an admin token");
        let res = self
            .post_form(
                "/admin/login",
                &format!("token={}&next=%2Fadmin", token.expose()),
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "login: {}", res.body);
        res.headers[header::SET_COOKIE]
            .to_str()
            .expect("ascii cookie")
            .split(';')
            .next()
            .expect("name=value")
            .to_string()
    }

    /// Serves the app on 127.0.0.1 on a free port until [`Server::stop`] (or drop).
    pub async fn serve(&self) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        self.serve_on(listener)
    }

    /// Serves the app on a listener the test bound itself (to know the address first).
    pub fn serve_on(&self, listener: tokio::net::TcpListener) -> Server {
        let addr = listener.local_addr().expect("listener address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(deflect::http::serve(
            listener,
            Arc::clone(&self.state),
            async {
                let _ = stopped.await;
            },
        ));
        Server { addr, stop, task }
    }
}

/// A POST of `body` as `application/json`.
pub fn json_post(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// A POST of a URL-encoded form.
pub fn form_post(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// What the router answered.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    /// The body as JSON (an empty body is `null`); panics, showing the body, when it is not.
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            Value::Null
        } else {
            json(&self.body)
        }
    }

    pub fn parts(self) -> (StatusCode, HeaderMap, String) {
        (self.status, self.headers, self.body)
    }

    pub fn status_body(self) -> (StatusCode, String) {
        (self.status, self.body)
    }

    /// Like [`Response::parts`], with the body as JSON.
    pub fn parts_json(self) -> (StatusCode, HeaderMap, Value) {
        let v = self.json();
        (self.status, self.headers, v)
    }
}

/// Parses JSON text, showing the text when it is not JSON.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The app on a real socket; shut down on [`Server::stop`], or when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Asks for a graceful shutdown and waits up to 5 s; `Err` says what went wrong.
    pub async fn stop(self) -> Result<(), String> {
        self.stop
            .send(())
            .map_err(|()| "the server had already stopped".to_string())?;
        match tokio::time::timeout(Duration::from_secs(5), self.task).await {
            Err(_) => Err("the server did not shut down within 5 s".into()),
            Ok(Err(e)) => Err(format!("server task: {e}")),
            Ok(Ok(Err(e))) => Err(format!("serve returned {e}")),
            Ok(Ok(Ok(()))) => Ok(()),
        }
    }
}

/// A `deflect serve` child process on a free port of 127.0.0.1, killed when dropped (also
/// when the test fails).
pub struct ServeProcess {
    child: std::sync::Mutex<std::process::Child>,
    /// `127.0.0.1:PORT`, as the server printed it.
    pub addr: String,
}

impl ServeProcess {
    /// Runs `deflect serve --bind 127.0.0.1:0 --no-watch` with what `configure` adds
    /// (arguments, folder, environment), and waits for the address it prints.
    pub fn start(configure: impl FnOnce(&mut Command) -> &mut Command) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deflect"));
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--no-watch"]);
        configure(&mut cmd);
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("start deflect serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut server = Self {
            child: std::sync::Mutex::new(child),
            addr: String::new(),
        };
        for line in BufReader::new(stdout).lines().take(5) {
            let line = line.expect("read stdout");
            if let Some(rest) = line.split("http://").nth(1) {
                server.addr = rest.split('/').next().unwrap_or_default().to_string();
                break;
            }
        }
        assert!(
            !server.addr.is_empty(),
            "deflect serve did not print its URL"
        );
        server
    }

    /// One request over a fresh connection: the status code and body.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        match try_raw_request(&self.addr, method, path, body) {
            Ok(response) => status_and_body(&response),
            Err(e) => {
                // Say whether the server is still running: a crash reads as a broken pipe.
                std::thread::sleep(Duration::from_millis(200));
                let status = self.child().try_wait();
                panic!(
                    "{method} {path} to deflect serve at {}: {e} (server: {status:?})",
                    self.addr
                )
            }
        }
    }

    fn child(&self) -> std::sync::MutexGuard<'_, std::process::Child> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// SIGTERM, as an orchestrator would, then a clean exit within 15 s (queued events
    /// flushed).
    pub fn stop(self) {
        let pid = self.child().id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child().try_wait().expect("wait") {
                assert!(status.success(), "deflect serve exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "no exit 15 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let mut child = self.child();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// One HTTP/1.1 request over a plain socket (JSON body, `Connection: close`); the whole
/// response, headers included.
pub fn raw_request(
    addr: impl ToSocketAddrs,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> String {
    try_raw_request(addr, method, path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// [`raw_request`], or where it failed.
pub fn try_raw_request(
    addr: impl ToSocketAddrs,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<String, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| format!("timeout: {e}"))?;
    let body = body.unwrap_or("");
    // One write of the whole request.
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    s.read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    Ok(response)
}

/// The status code and body of a raw HTTP response.
pub fn status_and_body(response: &str) -> (u16, String) {
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}
