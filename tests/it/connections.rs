//! Connection hygiene on a real socket: idle and slow clients are cut off on time, the cap
//! makes room by closing the longest-idle connection, and with every connection busy a
//! newcomer gets a quick 503 while the health checks still answer.

use std::time::{Duration, Instant};

use deflect::config::{Config, ConnectionsConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::app::{Server, TestApp, status_and_body};
use crate::fixture::{ArticleSrc, Fixture};

fn config(max_connections: usize, header_read: u64, idle: u64) -> Config {
    Config {
        connections: ConnectionsConfig {
            max_connections,
            header_read_timeout_secs: header_read,
            idle_timeout_secs: idle,
        },
        ..Config::default()
    }
}

async fn serve(config: Config) -> ((Fixture, TestApp), Server) {
    let f = Fixture::new();
    f.article(
        "cards/card-arrival.md",
        &ArticleSrc::new("My card hasn't arrived").steps("Wait five working days."),
    );
    let app = TestApp::with_config(&f, config);
    let server = app.serve().await;
    ((f, app), server)
}

/// Reads until the server closes the connection (or `limit` passes): what it sent, and
/// when it closed (`None`: still open at the limit).
async fn until_closed(s: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    let mut got = Vec::new();
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), None),
            Ok(Ok(0) | Err(_)) => {
                return (
                    String::from_utf8_lossy(&got).into_owned(),
                    Some(Instant::now()),
                );
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// One request on a fresh connection, `Connection: close`: status and how long it took.
async fn get(server: &Server, path: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let (response, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "no answer to {path} within 5 s");
    let (status, body) = status_and_body(&response);
    (status, body, started.elapsed())
}

#[tokio::test]
async fn a_connection_that_never_sends_is_closed_after_the_idle_timeout() {
    let (_app, server) = serve(config(100, 30, 1)).await;
    let opened = Instant::now();
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let (sent, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
    let closed = closed.expect("closed within 5 s");
    let after = closed - opened;
    assert!(sent.is_empty(), "nothing to say to a silent client: {sent}");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(3),
        "closed after {after:?}, the idle timeout is 1 s"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_when_idle_and_not_before() {
    let (_app, server) = serve(config(100, 30, 2)).await;
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    // Three requests 1 s apart: each within the idle timeout, so the connection lives on.
    for _ in 0..3 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 2048];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("answered")
            .expect("read");
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "kept alive and answered"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let idle_from = Instant::now() - Duration::from_secs(1);
    let (_, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
    let after = closed.expect("closed when idle") - idle_from;
    assert!(
        after >= Duration::from_millis(1800) && after < Duration::from_secs(4),
        "closed {after:?} after its last response; the idle timeout is 2 s"
    );
}

#[tokio::test]
async fn headers_trickled_byte_by_byte_are_cut_off_at_the_header_read_timeout() {
    // A long idle timeout: only the header clock can close this connection.
    let (_app, server) = serve(config(100, 1, 60)).await;
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    let started = Instant::now();
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut cut_off = None;
    for b in request {
        if s.write_all(&[*b]).await.is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        // Each byte well inside any per-read timeout; the whole head far beyond 1 s.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), s.peek(&mut probe)).await
        {
            cut_off = Some(started.elapsed());
            break;
        }
    }
    let cut_off = cut_off.expect("the slow client was cut off before finishing its headers");
    assert!(
        cut_off >= Duration::from_millis(900) && cut_off < Duration::from_secs(3),
        "cut off after {cut_off:?}; the header read timeout is 1 s"
    );
}

#[tokio::test]
async fn at_the_cap_the_longest_idle_connection_makes_room_and_health_checks_answer() {
    let (_app, server) = serve(config(10, 30, 60)).await;
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(TcpStream::connect(server.addr).await.expect("connect"));
        // Distinct idle ages, so "longest idle" means the first.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for path in ["/healthz", "/api/v1/search?q=card"] {
        let (status, _, took) = get(&server, path).await;
        assert_eq!(status, 200, "{path} is served at the cap");
        assert!(took < Duration::from_secs(1), "{path} took {took:?}");
    }
    // The first newcomer closed the longest-idle connection; by the second, the first had
    // left (Connection: close), so there was room.
    let mut closed = Vec::new();
    for (i, s) in idle.iter_mut().enumerate() {
        let (_, at) = until_closed(s, Duration::from_millis(300)).await;
        if at.is_some() {
            closed.push(i);
        }
    }
    assert_eq!(closed, vec![0], "the longest-idle connection made room");
}

#[tokio::test]
async fn with_every_connection_busy_a_newcomer_gets_a_quick_503_but_health_checks_answer() {
    let (_app, server) = serve(config(5, 30, 60)).await;
    // Five connections each in the middle of a request's headers: busy, not idle.
    let mut busy = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(server.addr).await.expect("connect");
        s.write_all(b"GET /api/v1/search?q=card HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        busy.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body, took) = get(&server, "/api/v1/search?q=card").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("over_capacity"), "{body}");
    assert!(took < Duration::from_secs(1), "refused quickly: {took:?}");
    let (status, _, took) = get(&server, "/healthz").await;
    assert_eq!(status, 200, "liveness still answered");
    assert!(took < Duration::from_secs(1), "{took:?}");
    // The busy ones finish their requests and are answered.
    for s in &mut busy {
        s.write_all(b"Connection: close\r\n\r\n")
            .await
            .expect("finish the headers");
        let (response, _) = until_closed(s, Duration::from_secs(5)).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
}

#[tokio::test]
async fn stopping_the_server_closes_idle_connections_and_finishes() {
    let (_app, server) = serve(config(100, 30, 60)).await;
    let mut idle = TcpStream::connect(server.addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let _ = idle.read(&mut buf).await.expect("answered");
    server
        .stop()
        .await
        .expect("stops within 5 s with a kept-alive connection open");
    let (_, closed) = until_closed(&mut idle, Duration::from_secs(2)).await;
    assert!(closed.is_some(), "the kept-alive connection was closed");
}
