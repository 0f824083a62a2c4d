//! Content conventions authors bring from elsewhere, through the router: `slug:` and
//! `description:` keys, old paths (`aliases`, `redirect_from`, `redirects.txt`) answered with a
//! 301, deleted articles with a 410 and a search for their title, and the suggestion endpoint
//! answering from an article without a Quick answer.

use axum::http::{StatusCode, header};
use serde_json::json;

use crate::app::TestApp;
use crate::fixture::{ArticleSrc, Fixture};

fn help_center() -> Fixture {
    let f = Fixture::new();
    f.ticket_types(&["card_arrival", "change_pin"]);
    f.article(
        "cards/01-delivery.md",
        &ArticleSrc::new("My card hasn't arrived yet")
            .unset("summary")
            .set("description", "How long card delivery takes.")
            .set("slug", "card-arrival")
            .set(
                "aliases",
                "[/hc/en-us/articles/360001234-Where-is-my-card, /old/card-delivery.html]",
            )
            .set("sidebar_position", "1")
            .ticket_types(&["card_arrival"])
            .quick_answer("Cards arrive within 3-5 working days."),
    );
    f.article(
        "cards/change-pin.md",
        &ArticleSrc::new("How do I change my PIN?")
            .set("redirect_from", "[/help/pin/]")
            .ticket_types(&["change_pin"])
            .intro("You can change your PIN at any cash machine of your bank in a few seconds.")
            .steps("Insert the card, choose PIN services, enter the new PIN twice.")
            .without_quick_answer(),
    );
    f.file(
        "redirects.txt",
        "# old help center\n/hc/en-us/sections/200-Cards   /categories/cards\n/articles/pin-reset   change-pin\n/articles/summer-promo   gone   Change my PIN in summer\n",
    );
    f
}

#[tokio::test]
async fn old_paths_answer_301_to_the_article() {
    let f = help_center();
    let loaded = f.load();
    assert_eq!(loaded.errors(), 0, "{:?}", f.report(&loaded));
    let app = TestApp::new(&f);
    for (old, new) in [
        (
            "/hc/en-us/articles/360001234-Where-is-my-card",
            "/articles/card-arrival",
        ),
        // Zendesk answers any locale and title for one number; so does the redirect.
        (
            "/hc/de/articles/360001234-Wo-ist-meine-Karte",
            "/articles/card-arrival",
        ),
        ("/hc/en-us/articles/360001234", "/articles/card-arrival"),
        ("/old/card-delivery.html", "/articles/card-arrival"),
        ("/help/pin", "/articles/change-pin"),
        ("/help/pin/", "/articles/change-pin"),
        ("/articles/pin-reset", "/articles/change-pin"),
        ("/hc/en-us/sections/200-Cards", "/categories/cards"),
    ] {
        let res = app.get(old).await;
        assert_eq!(res.status, StatusCode::MOVED_PERMANENTLY, "{old}");
        assert_eq!(res.headers[header::LOCATION], new, "{old}");
    }
    // The slug from the front matter, not the file name, is the article's address.
    assert_eq!(
        app.get("/articles/card-arrival").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/articles/01-delivery").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/hc/en-us/articles/999999-Other").await.status,
        StatusCode::NOT_FOUND
    );
    let api = app.get("/api/v1/articles/card-arrival").await.json();
    assert_eq!(api["summary"], "How long card delivery takes.", "{api}");
}

#[tokio::test]
async fn a_deleted_article_answers_410_with_a_search_for_its_title() {
    let f = help_center();
    let app = TestApp::new(&f);
    let (status, body) = app.get("/articles/summer-promo").await.status_body();
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("This article has been removed"), "{body}");
    assert!(body.contains("Change my PIN in summer"), "{body}");
    assert!(
        body.contains("articles&#x2f;change-pin\">How do I change my PIN?</a>"),
        "the search for the title finds the PIN article: {body}"
    );
}

#[tokio::test]
async fn without_a_quick_answer_suggest_answers_from_the_first_paragraph() {
    let f = help_center();
    let app = TestApp::new(&f);
    let found = app.get("/api/v1/search?q=change+pin").await.json();
    assert_eq!(found["results"][0]["slug"], "change-pin", "{found}");
    let v = app
        .post_json(
            "/api/v1/suggest",
            &json!({"message": "how do I change my PIN at a cash machine"}),
        )
        .await
        .json();
    let first = if v["action"] == "answer" {
        &v["answer"]
    } else {
        &v["articles"][0]
    };
    assert_eq!(first["slug"], "change-pin", "{v:#}");
    if v["action"] == "answer" {
        assert_eq!(
            v["answer"]["text"],
            "You can change your PIN at any cash machine of your bank in a few seconds.",
            "{v:#}"
        );
    }
}
