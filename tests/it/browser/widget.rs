//! The widget on a third-party page in a real Chromium: the host page is served from one
//! origin, the API and `widget.js` from another; the customer opens the panel with the
//! keyboard, asks a question, reads the answer, and closes it with Escape.

use super::*;

use axum::response::Html;
use deflect::config::WidgetConfig;

const QUESTION: &str = "my card hasn't arrived yet";
/// Only in the card-arrival article's Quick answer.
const ANSWER: &str = "Cards arrive within 3-5 working days.";

#[tokio::test]
async fn the_widget_answers_on_a_page_from_another_origin() {
    let Some(chromium) = chromium_for("the widget test") else {
        return;
    };
    let f = crate::suggest::help_center();
    let host_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind host");
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind api");
    let host = host_listener.local_addr().expect("host addr");
    let api = api_listener.local_addr().expect("api addr");
    let page = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Acme app</title></head>\
         <body><h1>Acme dashboard</h1><p>Your cards.</p>\
         <script src=\"http://{api}/widget.js\" data-title=\"Acme help\" \
         data-button-label=\"Need help?\" defer></script></body></html>"
    );
    let host_app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { Html(page) }
        }),
    );
    let host_server = tokio::spawn(async move { axum::serve(host_listener, host_app).await });

    let config = Config {
        widget: WidgetConfig {
            allowed_origins: vec![format!("http://{host}")],
            ..WidgetConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::with_config(&f, config);
    let server = app.serve_on(api_listener);

    let url = format!("http://{host}/");
    let journey = tokio::task::spawn_blocking(move || widget_in_browser(&chromium, &url)).await;
    let _ = server.stop().await;
    host_server.abort();
    match journey {
        Ok(result) => result.expect("the widget journey"),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("browser task: {e}"),
    }
}

const SHADOW: &str = "document.querySelector('#deflect-widget')?.shadowRoot";

fn widget_in_browser(chromium: &Path, url: &str) -> Result<()> {
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots)?;
    let browser = Browser::launch(chromium)?;
    let mut page = browser.page().inspect_err(|_| browser.print_stderr())?;
    if let Err(e) = drive_widget(&mut page, url, &shots) {
        browser.print_stderr();
        let _ = page.screenshot(&shots.join("widget-failure.png"), false);
        return Err(e);
    }
    let problems = page.console_problems();
    if !problems.is_empty() {
        bail!(
            "the page logged errors (CORS, exceptions, failed loads):\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(())
}

fn drive_widget(page: &mut Cdp, url: &str, shots: &Path) -> Result<()> {
    page.open(url)?;
    let label = page.wait_for(
        "the widget's help button",
        &format!("document.readyState === 'complete' && {SHADOW}?.querySelector('button.launcher')?.textContent"),
    )?;
    if label != json!("Need help?") {
        bail!("the button label comes from data-button-label, got {label}");
    }
    // Open with the keyboard: focus the button, press Enter.
    page.evaluate(&format!(
        "{SHADOW}.querySelector('button.launcher').focus()"
    ))?;
    page.press_key("Enter", 13)?;
    page.wait_for(
        "the panel open with the question box focused",
        &format!(
            "{SHADOW}.querySelector('.panel').hidden === false \
             && {SHADOW}.activeElement?.id === 'deflect-q' \
             && {SHADOW}.querySelector('h2').textContent === 'Acme help'"
        ),
    )?;
    page.type_text(QUESTION)?;
    page.press_key("Enter", 13)?;
    let answer = page.wait_for(
        "the answer in the panel",
        &format!(
            "(() => {{ const a = {SHADOW}.querySelector('.answer'); return a ? a.innerText : null; }})()"
        ),
    )?;
    let text = answer.as_str().context("answer text")?;
    if !text.contains(ANSWER) || !text.contains("My card hasn't arrived yet") {
        bail!("the panel shows {text:?}, not the card-arrival Quick answer");
    }
    let href = page.evaluate(&format!("{SHADOW}.querySelector('.answer a').href"))?;
    if !href
        .as_str()
        .is_some_and(|h| h.ends_with("/articles/card-arrival"))
    {
        bail!("the answer links to {href}");
    }
    let path = page.screenshot(&shots.join("widget-answer.png"), false)?;
    eprintln!("screenshot: {}", path.display());

    // Small talk: a friendly reply and a prefilled link to a person, no article.
    page.evaluate(&format!(
        "const q = {SHADOW}.querySelector('#deflect-q'); q.value = ''; q.focus()"
    ))?;
    page.type_text("hi")?;
    page.press_key("Enter", 13)?;
    page.wait_for(
        "a hand-off for small talk",
        &format!(
            "{SHADOW}.querySelector('.answer') === null \
             && {SHADOW}.querySelector('.reply')?.textContent.startsWith('Hi!') \
             && {SHADOW}.querySelector('a.human').href.includes('/contact?subject=hi')"
        ),
    )?;

    // Escape closes the panel and gives focus back to the button.
    page.press_key("Escape", 27)?;
    page.wait_for(
        "the panel closed, focus on the button",
        &format!(
            "{SHADOW}.querySelector('.panel').hidden === true \
             && {SHADOW}.activeElement === {SHADOW}.querySelector('button.launcher')"
        ),
    )?;
    Ok(())
}
