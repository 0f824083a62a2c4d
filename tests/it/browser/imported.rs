//! An imported help center in a real Chromium: an old Zendesk article URL lands on the
//! imported article (301), whose converted table and lists render; an old section URL lands
//! on its category page.

use super::*;

use deflect::import::{Options, System};

#[tokio::test]
async fn an_old_zendesk_url_opens_the_imported_article_in_a_real_browser() {
    let Some(chromium) = chromium_for("the imported article test") else {
        return;
    };
    let f = Fixture::new();
    let notes = tempfile::tempdir().expect("tempdir");
    let options = Options {
        out: f.root().to_path_buf(),
        force: false,
        today: crate::fixture::today(),
        checklist: Some(notes.path().join("checklist.md")),
    };
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/zendesk");
    deflect::import::run(System::Zendesk, &from, &options, &mut |_, _| {}).expect("imports");
    let app = TestApp::new(&f);
    let server = app.serve().await;
    let base = server.base();
    let journey = tokio::task::spawn_blocking(move || -> Result<(Value, Value)> {
        let browser = Browser::launch(&chromium)?;
        let mut page = browser.page().inspect_err(|_| browser.print_stderr())?;
        page.open(&format!("{base}/hc/en-us/articles/360012345-Where-is-my-card"))?;
        let article = page.wait_for(
            "the imported article after the redirect",
            "location.pathname === '/articles/where-is-my-card' && document.readyState === 'complete' \
             && document.querySelector('article')?.innerText",
        )?;
        let shape = page.evaluate(
            "({ h1: document.querySelector('h1')?.textContent, \
                cells: Array.from(document.querySelectorAll('article table td'), td => td.textContent), \
                nested: document.querySelectorAll('article ol li ul li').length, \
                scripts: Array.from(document.scripts).filter(s => s.type !== 'application/ld+json') \
                    .map(s => s.src.replace(location.origin, '')), \
                alert: document.documentElement.innerHTML.includes('alert(') })",
        )?;
        let shots = screenshot_dir();
        std::fs::create_dir_all(&shots)?;
        let shot = page.screenshot(&shots.join("imported-article.png"), true)?;
        eprintln!("screenshot: {}", shot.display());
        page.open(&format!("{base}/hc/en-us/sections/360001001-Card-delivery"))?;
        page.wait_for(
            "the category page after the redirect",
            "location.pathname === '/categories/cards/card-delivery' && document.readyState === 'complete' \
             && document.body.innerText.includes('Where is my card?')",
        )?;
        Ok((article, shape))
    })
    .await;
    let _ = server.stop().await;
    let (article, shape) = match journey {
        Ok(r) => r.expect("the imported journey"),
        Err(e) => panic!("browser task: {e}"),
    };
    let text = article.as_str().unwrap_or_default();
    assert!(
        text.contains("Track your card") && text.contains("3–5 working days"),
        "{text}"
    );
    assert_eq!(shape["h1"], "Where is my card?", "{shape}");
    assert_eq!(
        shape["cells"],
        json!(["UK", "3–5 days", "EU", "5–7 days"]),
        "{shape}"
    );
    assert_eq!(shape["nested"], 2, "{shape}");
    assert_eq!(
        shape["scripts"],
        json!(["/assets/app.js"]),
        "only the help center's own script: {shape}"
    );
    assert_eq!(
        shape["alert"], false,
        "the export's scripts are gone: {shape}"
    );
}
