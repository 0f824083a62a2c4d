//! The one integration-test binary: each module builds its own small knowledge base.

/// Two tests from one async check of a `&Store`: on SQLite (in a temporary directory) and
/// on a fresh database of a real PostgreSQL (`postgres.rs`).
macro_rules! on_both_backends {
    ($check:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = deflect::store::Store::open_dir(dir.path())
                .await
                .expect("open");
            $check(&store).await;
        }

        #[tokio::test]
        async fn $postgres() {
            let (db, store) = crate::postgres::PgDatabase::create().await;
            $check(&store).await;
            db.drop_now(store).await;
        }
    };
}

mod admin;
mod app;
mod browser;
mod cli;
mod connections;
mod content;
mod durability;
mod events;
mod fixture;
mod fuzz;
mod http;
mod import;
mod import_corpus;
mod import_hostile;
mod index;
mod layers;
mod learning;
mod openapi;
mod redirects;
mod postgres;
mod reports;
mod scale_out;
mod search;
mod store;
mod suggest;
mod tickets;
