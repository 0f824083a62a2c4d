//! A person's search in a real headless Chromium: type a misspelled question on the home page,
//! pick the suggestion with the keyboard, and read the article it opens.
//!
//! The browser is Debian's `chromium`, driven over the Chrome DevTools Protocol (CDP) with the
//! small client below. Screenshots go to `target/browser-screenshots/` (under
//! `CARGO_TARGET_DIR` when set). Without Chromium the test fails and says how to install it;
//! `DEFLECT_SKIP_BROWSER=1` skips it instead, except under `DEFLECT_REQUIRE_ALL=1`
//! (`scripts/test`, CI), where nothing may be skipped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use deflect::config::Config;
use serde_json::{Value, json};
use tempfile::TempDir;
use tungstenite::{Message, WebSocket};

use crate::app::TestApp;
use crate::fixture::{ArticleSrc, Fixture};

mod imported;
mod widget;

const TITLE: &str = "My card hasn't arrived";
const SLUG: &str = "card-arrival";
/// Only in the card-arrival article, so finding it proves the right page opened.
const SENTENCE: &str = "New cards travel in a plain grey envelope postmarked Leeds.";
/// Misspelled on purpose: the suggestions must tolerate typos.
const QUERY: &str = "card hasnt arived";

/// How long Chromium may take to print its DevTools address.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one CDP command may go unanswered.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the page may take to reach a state we wait for (load, suggestions, navigation).
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival", "change_pin", "freeze_card", "top_up"]);
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new(TITLE)
            .summary("Delivery takes 3-5 working days.")
            .ticket_types(&["card_arrival"])
            .set("featured", "true")
            .steps(&format!(
                "Wait five working days, then order a replacement card.\n\n{SENTENCE}"
            )),
    );
    f.article(
        "cards/pins/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?")
            .ticket_types(&["change_pin"])
            .steps("Use any cash machine that offers PIN services."),
    );
    f.article(
        "cards/freeze-card.md",
        &ArticleSrc::new("Freeze a lost or stolen card")
            .ticket_types(&["freeze_card"])
            .steps("Open the app, tap your card and choose Freeze."),
    );
    f.article(
        "transfers/top-up.md",
        &ArticleSrc::new("Top up by bank transfer")
            .ticket_types(&["top_up"])
            .steps("Send money to the account details shown in the app."),
    );
    f
}

#[tokio::test]
async fn a_misspelled_search_finds_the_article_in_a_real_browser() {
    let Some(chromium) = chromium_for("the search test") else {
        return;
    };
    let f = help_center();
    let app = TestApp::new(&f);
    let server = app.serve().await;

    // The browser side blocks, so it runs off the runtime while the server keeps serving.
    let base = server.base();
    let journey = tokio::task::spawn_blocking(move || search_in_browser(&chromium, &base)).await;

    server
        .stop()
        .await
        .expect("the server shuts down gracefully");
    match journey {
        Ok(result) => result.expect("the browser journey"),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("browser task: {e}"),
    }
}

/// The whole journey, from launching Chromium to reading the article.
fn search_in_browser(chromium: &Path, base: &str) -> Result<()> {
    let started = Instant::now();
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots)
        .with_context(|| format!("create screenshot folder {}", shots.display()))?;

    let browser = Browser::launch(chromium)?;
    let launched = started.elapsed();
    let mut page = browser.page().inspect_err(|_| browser.print_stderr())?;
    if let Err(e) = drive(&mut page, base, &shots) {
        browser.print_stderr();
        let failure = shots.join("failure.png");
        if page.screenshot(&failure, false).is_ok() {
            eprintln!("screenshot of the failure: {}", failure.display());
        }
        return Err(e);
    }

    let problems = page.console_problems();
    if !problems.is_empty() {
        bail!(
            "the pages logged errors (CSP violations, exceptions, failed loads):\n  {}",
            problems.join("\n  ")
        );
    }
    eprintln!(
        "browser test: Chromium up in {launched:?}, whole journey {:?}",
        started.elapsed()
    );
    Ok(())
}

fn drive(page: &mut Cdp, base: &str, shots: &Path) -> Result<()> {
    page.open(&format!("{base}/"))?;
    // app.js marks the input as a combobox once it has run, so this also proves the script
    // was allowed by the Content-Security-Policy.
    page.wait_for(
        "the home page with its search box ready",
        "document.readyState === 'complete' && location.pathname === '/' \
         && document.querySelector('input#q[role=combobox]') !== null",
    )?;

    let focused = page.evaluate(
        "const q = document.querySelector('input#q'); q.focus(); document.activeElement === q",
    )?;
    if focused != json!(true) {
        bail!("could not focus the search box");
    }
    page.type_text(QUERY)?;
    let typed = page.evaluate("document.querySelector('input#q').value")?;
    if typed != json!(QUERY) {
        bail!("typed {QUERY:?} but the search box holds {typed}");
    }

    let title = serde_json::to_string(TITLE)?;
    let shown = page.wait_for(
        &format!("a suggestion titled {TITLE:?}"),
        &format!(
            "(() => {{ const l = document.querySelector('ul.suggestions'); \
             if (!l || l.hidden) return null; \
             const t = Array.from(l.querySelectorAll('li[role=option]'), li => li.textContent); \
             return t.includes({title}) ? t : null; }})()"
        ),
    )?;
    let titles: Vec<&str> = shown
        .as_array()
        .context("suggestion titles")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    eprintln!("suggestions for {QUERY:?}: {titles:?}");
    let index = titles
        .iter()
        .position(|t| *t == TITLE)
        .context("the title is among the suggestions")?;

    for _ in 0..=index {
        page.press_key("ArrowDown", 40)?;
    }
    page.wait_for(
        "the suggestion to be highlighted",
        &format!(
            "(() => {{ const o = document.querySelectorAll('ul.suggestions li[role=option]')[{index}]; \
             return !!o && o.getAttribute('aria-selected') === 'true' \
             && document.querySelector('input#q').getAttribute('aria-activedescendant') === o.id; }})()"
        ),
    )?;
    let path = page.screenshot(&shots.join("suggestions.png"), false)?;
    eprintln!("screenshot: {}", path.display());

    page.press_key("Enter", 13)?;
    let article = page.wait_for(
        "the article page",
        &format!(
            "location.pathname === '/articles/{SLUG}' && document.readyState === 'complete' \
             && document.querySelector('article')?.innerText"
        ),
    )?;
    let text = article.as_str().context("the article's text")?;
    if !text.contains(TITLE) || !text.contains(SENTENCE) {
        bail!("the article page lacks {TITLE:?} or {SENTENCE:?}; its text is:\n{text}");
    }
    let path = page.screenshot(&shots.join("article.png"), true)?;
    eprintln!("screenshot: {}", path.display());
    Ok(())
}

/// `target/browser-screenshots`, in `CARGO_TARGET_DIR` when it is set.
pub(crate) fn screenshot_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(target)
        .join("browser-screenshots")
}

/// Chromium for a browser test, or `None` to skip it: `DEFLECT_SKIP_BROWSER=1` skips the
/// browser tests on a machine without Chromium, except under `DEFLECT_REQUIRE_ALL=1`
/// (`scripts/test`, CI), where nothing may be skipped. Panics, saying what to install, when
/// Chromium is missing.
pub(crate) fn chromium_for(test: &str) -> Option<PathBuf> {
    let set = |var: &str| std::env::var(var).as_deref() == Ok("1");
    if set("DEFLECT_SKIP_BROWSER") {
        assert!(
            !set("DEFLECT_REQUIRE_ALL"),
            "DEFLECT_SKIP_BROWSER=1 and DEFLECT_REQUIRE_ALL=1: no test may be skipped here"
        );
        eprintln!("DEFLECT_SKIP_BROWSER=1: skipping {test} in headless Chromium");
        return None;
    }
    Some(find_chromium().unwrap_or_else(|| {
        panic!(
            "Chromium not found (/usr/bin/chromium, or `chromium` on PATH): {test} needs it. \
             Install it with `apt-get install -y chromium` (scripts/test does), or set \
             DEFLECT_SKIP_BROWSER=1 to skip the browser tests outside scripts/test and CI."
        )
    }))
}

fn find_chromium() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// A headless Chromium with a throwaway profile, killed when dropped (also on panic).
pub(crate) struct Browser {
    child: Child,
    /// The DevTools HTTP endpoint, `127.0.0.1:PORT`.
    devtools: String,
    /// The last lines Chromium wrote to stderr, for failure messages.
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// Deleted after the process is killed: fields drop after `Drop::drop` runs.
    _profile: TempDir,
}

impl Browser {
    pub(crate) fn launch(chromium: &Path) -> Result<Self> {
        let profile = tempfile::tempdir().context("create a Chromium profile directory")?;
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // Small /dev/shm in containers crashes Chromium; /tmp has room.
                "--disable-dev-shm-usage",
                "--window-size=1024,768",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {}", chromium.display()))?;

        // Chromium says where DevTools listens on stderr; keep draining it afterwards so a
        // full pipe never blocks the browser.
        let pipe = child.stderr.take().context("Chromium's stderr")?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let (found, address) = mpsc::channel();
        let tail = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = found.send(url.trim().to_string());
                }
                if let Ok(mut tail) = tail.lock() {
                    if tail.len() == 30 {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        });
        let mut browser = Self {
            child,
            devtools: String::new(),
            stderr,
            _profile: profile,
        };
        let url = match address.recv_timeout(LAUNCH_TIMEOUT) {
            Ok(url) => url,
            Err(_) => {
                browser.print_stderr();
                let status = browser.child.try_wait().ok().flatten();
                bail!(
                    "Chromium printed no DevTools address within {LAUNCH_TIMEOUT:?} \
                     (exit status: {status:?})"
                );
            }
        };
        // ws://127.0.0.1:PORT/devtools/browser/ID
        browser.devtools = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .with_context(|| format!("unexpected DevTools address {url}"))?
            .to_string();
        Ok(browser)
    }

    /// Connects to the page Chromium opened at start.
    pub(crate) fn page(&self) -> Result<Cdp> {
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        loop {
            let targets = http_get_json(&self.devtools, "/json/list")?;
            let page = targets.as_array().and_then(|ts| {
                ts.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            });
            if let Some(ws) = page {
                return Cdp::connect(ws);
            }
            if Instant::now() >= deadline {
                bail!("Chromium lists no page target: {targets}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Prints Chromium's last stderr lines, leaving out its complaints about the missing D-Bus.
    pub(crate) fn print_stderr(&self) {
        let tail = self.stderr.lock().map(|t| t.clone()).unwrap_or_default();
        eprintln!("--- Chromium's last stderr lines ---");
        for line in tail.iter().filter(|l| !l.contains(":ERROR:dbus/")) {
            eprintln!("{line}");
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET http://{host}{path}` as JSON, over a plain socket. Chromium keeps the connection
/// open, so the body is read by its `Content-Length`.
fn http_get_json(host: &str, path: &str) -> Result<Value> {
    let mut s =
        TcpStream::connect(host).with_context(|| format!("connect to DevTools at {host}"))?;
    s.set_read_timeout(Some(CALL_TIMEOUT))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n")?;
    let mut reader = BufReader::new(s);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    if !status.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {status}");
    }
    let mut length = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<usize>()?);
        }
    }
    let length = length.with_context(|| format!("GET {path}: no Content-Length"))?;
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .with_context(|| format!("read the body of http://{host}{path}"))?;
    serde_json::from_slice(&body).with_context(|| format!("GET {path} is not JSON"))
}

/// A minimal Chrome DevTools Protocol client for one page target.
pub(crate) struct Cdp {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Every event received while waiting for answers, in order.
    events: Vec<Value>,
}

impl Cdp {
    fn connect(url: &str) -> Result<Self> {
        let host = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .with_context(|| format!("not a ws:// address: {url}"))?;
        let stream = TcpStream::connect(host).with_context(|| format!("connect to {url}"))?;
        stream.set_read_timeout(Some(CALL_TIMEOUT))?;
        stream.set_write_timeout(Some(CALL_TIMEOUT))?;
        let (ws, _) = tungstenite::client(url, stream)
            .map_err(|e| anyhow!("WebSocket handshake with {url}: {e}"))?;
        // From now on, short reads let `call` check its deadline; tungstenite keeps partial
        // frames across them.
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Self {
            ws,
            next_id: 0,
            events: Vec::new(),
        })
    }

    /// Sends one command and returns its `result`, keeping the events that arrive meanwhile.
    /// Turns on the events the tests read (page, console, log) and focus as in a person's
    /// browser (headless windows are never "focused": focus and blur would not behave), then
    /// opens `url`.
    pub(crate) fn open(&mut self, url: &str) -> Result<()> {
        self.call("Page.enable", json!({}))?;
        self.call("Runtime.enable", json!({}))?;
        self.call("Log.enable", json!({}))?;
        self.call(
            "Emulation.setFocusEmulationEnabled",
            json!({"enabled": true}),
        )?;
        let nav = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(err) = nav.get("errorText") {
            bail!("navigating to {url} failed: {err}");
        }
        Ok(())
    }

    pub(crate) fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method});
        command["params"] = params;
        self.ws
            .send(Message::text(command.to_string()))
            .with_context(|| format!("send {method}"))?;
        let deadline = Instant::now() + CALL_TIMEOUT;
        loop {
            if Instant::now() >= deadline {
                bail!("no answer to {method} within {CALL_TIMEOUT:?}");
            }
            let text = match self.ws.read() {
                Ok(Message::Text(text)) => text,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(e).with_context(|| format!("waiting for {method}")),
            };
            let mut message: Value = serde_json::from_str(text.as_str())
                .with_context(|| format!("CDP sent something that is not JSON: {text}"))?;
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    bail!("{method} failed: {error}");
                }
                return Ok(message["result"].take());
            }
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    pub(crate) fn evaluate(&mut self, expression: &str) -> Result<Value> {
        let mut r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            bail!("`{expression}` threw: {e}");
        }
        Ok(r["result"]["value"].take())
    }

    /// Polls `expression` until it is truthy, returning that value. Errors while the page
    /// navigates (no context yet) count as "not yet".
    pub(crate) fn wait_for(&mut self, what: &str, expression: &str) -> Result<Value> {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let last = match self.evaluate(expression) {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(v) => format!("last value: {v}"),
                Err(e) => format!("last error: {e:#}"),
            };
            if Instant::now() >= deadline {
                let url = self
                    .evaluate("location.href")
                    .unwrap_or_else(|e| json!(format!("unknown ({e})")));
                bail!("waited {WAIT_TIMEOUT:?} for {what} at {url}; {last}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` into the focused element one key at a time, at a brisk typing pace.
    pub(crate) fn type_text(&mut self, text: &str) -> Result<()> {
        for c in text.chars() {
            let key = c.to_string();
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "key": key, "text": key, "unmodifiedText": key}),
            )?;
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyUp", "key": key}),
            )?;
            std::thread::sleep(Duration::from_millis(40));
        }
        Ok(())
    }

    /// Presses and releases a named key such as `ArrowDown` or `Enter`.
    fn press_key(&mut self, key: &str, key_code: u32) -> Result<()> {
        let down = json!({
            "type": if key == "Enter" { "keyDown" } else { "rawKeyDown" },
            "key": key,
            "code": key,
            "windowsVirtualKeyCode": key_code,
            "text": if key == "Enter" { "\r" } else { "" },
        });
        self.call("Input.dispatchKeyEvent", down)?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": key_code}),
        )?;
        Ok(())
    }

    /// Saves a PNG of the viewport, or of the whole page, and returns its path.
    pub(crate) fn screenshot(&mut self, path: &Path, whole_page: bool) -> Result<PathBuf> {
        let mut params = json!({"format": "png"});
        if whole_page {
            let metrics = self.call("Page.getLayoutMetrics", json!({}))?;
            let size = &metrics["cssContentSize"];
            params["captureBeyondViewport"] = json!(true);
            params["clip"] = json!({
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1
            });
        }
        let shot = self.call("Page.captureScreenshot", params)?;
        let data = shot["data"].as_str().context("screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .context("screenshot is not base64")?;
        std::fs::write(path, png).with_context(|| format!("write {}", path.display()))?;
        Ok(path.to_path_buf())
    }

    /// Console errors, uncaught exceptions and browser-logged errors (CSP violations, failed
    /// loads) seen so far.
    pub(crate) fn console_problems(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => {
                        Some(format!("exception: {}", p["exceptionDetails"]))
                    }
                    "Runtime.consoleAPICalled" if p["type"] == "error" => {
                        Some(format!("console.error: {}", p["args"]))
                    }
                    // The site has no favicon; the browser asks for one on every page.
                    "Log.entryAdded"
                        if p["entry"]["source"] == "network"
                            && p["entry"]["url"]
                                .as_str()
                                .is_some_and(|u| u.ends_with("/favicon.ico")) =>
                    {
                        None
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => Some(format!(
                        "{} error: {} ({})",
                        p["entry"]["source"], p["entry"]["text"], p["entry"]["url"]
                    )),
                    _ => None,
                }
            })
            .collect()
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The contact page in a real browser: typing the subject shows matching articles (the
/// pre-ticket search, logged under the visitor's session), then the ticket is filed and the
/// confirmation shows its id; the ticket's trail holds the pre-ticket search.
#[tokio::test]
async fn the_contact_page_suggests_articles_while_typing_in_a_real_browser() {
    let Some(chromium) = chromium_for("the contact page test") else {
        return;
    };
    let f = help_center();
    let app = TestApp::with_sqlite(&f, Config::default()).await;
    let store = app.store().clone();
    let server = app.serve().await;
    let base = server.base();
    let journey = tokio::task::spawn_blocking(move || -> Result<String> {
        let browser = Browser::launch(&chromium)?;
        let mut page = browser.page().inspect_err(|_| browser.print_stderr())?;
        page.open(&format!("{base}/contact"))?;
        page.wait_for(
            "the contact form",
            "document.readyState === 'complete' && document.querySelector('#subject') !== null",
        )?;
        page.evaluate("document.querySelector('#subject').focus()")?;
        page.type_text("card hasnt arrived")?;
        let title = serde_json::to_string(TITLE)?;
        page.wait_for(
            "matching articles under the form",
            &format!(
                "(() => {{ const b = document.querySelector('#live-suggestions'); \
                 if (!b || b.hidden) return null; \
                 const t = Array.from(b.querySelectorAll('li a'), a => a.textContent); \
                 return t.includes({title}) && \
                 b.querySelector('button').textContent === 'This answered my question'; }})()"
            ),
        )?;
        page.evaluate(
            "document.querySelector('#email').value = 'kim@acme.test'; \
             document.querySelector('#description').value = 'Ordered three weeks ago, still nothing.'; \
             document.querySelector('#contact-form').requestSubmit(); true",
        )?;
        let id = page.wait_for(
            "the confirmation with the ticket id",
            "document.readyState === 'complete' && document.querySelector('.ticket-id')?.textContent",
        )?;
        let problems = page.console_problems();
        if !problems.is_empty() {
            bail!("the pages logged errors:\n  {}", problems.join("\n  "));
        }
        id.as_str()
            .map(String::from)
            .context("the ticket id is text")
    })
    .await;
    let _ = server.stop().await;
    let id = match journey {
        Ok(r) => r.expect("the contact journey"),
        Err(e) => panic!("browser task: {e}"),
    };
    assert!(id.starts_with("T-"), "{id}");
    let ticket = store.ticket(&id).await.expect("read").expect("stored");
    let session = ticket.session_id.expect("the visitor's session");
    // The pre-ticket search is written in the background: wait for it in the trail.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let trail = store.trail(&session).await.expect("trail");
        if trail.iter().any(|e| e.kind == "search") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no pre-ticket search in the trail: {trail:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
