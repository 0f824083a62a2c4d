//! Events (searches, article views, suggestion replies) are written in batches off the
//! request path: a request only queues its event.
//! Under overload the queue is full and the event is dropped — and counted, never silently lost.
//! Closing flushes what is queued.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Event, Store};

const BATCH: usize = 1024;
const LINGER: Duration = Duration::from_millis(200);

/// The queue of events waiting to be written.
#[derive(Debug)]
pub struct EventLog {
    tx: Mutex<Option<mpsc::Sender<Event>>>,
    dropped: Counter,
}

impl EventLog {
    /// Starts the writer task; `dropped` counts events lost to a full queue or a failed write.
    pub fn start(store: Store, capacity: usize, dropped: Counter) -> (Self, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Event>(capacity.max(1));
        let lost = dropped.clone();
        let writer = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                let deadline = tokio::time::Instant::now() + LINGER;
                while batch.len() < BATCH {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(e)) => batch.push(e),
                        Ok(None) | Err(_) => break,
                    }
                }
                if let Err(e) = store.record_events(&batch).await {
                    tracing::error!(events = batch.len(), "writing events failed: {e}");
                    lost.inc_by(batch.len() as u64);
                }
                batch.clear();
            }
        });
        (
            Self {
                tx: Mutex::new(Some(tx)),
                dropped,
            },
            writer,
        )
    }

    /// Queues an event without waiting; false when it had to be dropped.
    pub fn record(&self, event: impl Into<Event>) -> bool {
        let event = event.into().storable();
        let guard = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let queued = guard.as_ref().is_some_and(|tx| tx.try_send(event).is_ok());
        if !queued {
            self.dropped.inc();
        }
        queued
    }

    /// Stops accepting events; the writer task then flushes the queue and ends.
    pub fn close(&self) {
        self.tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }
}

impl From<super::SearchEvent> for Event {
    fn from(e: super::SearchEvent) -> Self {
        Event::Search(e)
    }
}

impl From<super::ArticleView> for Event {
    fn from(e: super::ArticleView) -> Self {
        Event::View(e)
    }
}

impl From<super::SuggestEvent> for Event {
    fn from(e: super::SuggestEvent) -> Self {
        Event::Suggest(e)
    }
}

impl From<super::Click> for Event {
    fn from(e: super::Click) -> Self {
        Event::Click(e)
    }
}
