//! Events (searches, article views, suggestion replies) are written in batches off the
//! request path: a request only queues its event.
//! Under overload the queue is full and the event is dropped — and counted, never silently lost.
//! Closing flushes what is queued. With a journal (`deflect serve`'s `DATA_DIR/journal`),
//! a queued event also survives the process being killed ([`super::journal`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::journal::{Journal, Leftover};
use super::{Event, Store};

const BATCH: usize = 1024;
const LINGER: Duration = Duration::from_millis(200);

/// The queue of events waiting to be written.
#[derive(Debug)]
pub struct EventLog {
    tx: Mutex<Option<mpsc::Sender<(u64, Event)>>>,
    dropped: Counter,
    journal: Option<Arc<Journal>>,
}

/// The counters an [`EventLog`] keeps.
#[derive(Debug, Clone, Default)]
pub struct EventCounters {
    /// Events lost to a full queue or a failed write.
    pub dropped: Counter,
    /// Events a killed run left in its journal, written at start.
    pub recovered: Counter,
}

impl EventLog {
    /// Starts the writer task. With a journal, every queued event is first appended to it,
    /// and what earlier runs left there is written before anything new.
    pub fn start(
        store: Store,
        capacity: usize,
        counters: EventCounters,
        journal: Option<(Journal, Vec<Leftover>)>,
    ) -> (Self, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<(u64, Event)>(capacity.max(1));
        let (journal, leftovers) = match journal {
            Some((j, left)) => (Some(Arc::new(j)), left),
            None => (None, Vec::new()),
        };
        let lost = counters.dropped.clone();
        let writer_journal = journal.clone();
        let writer = tokio::spawn(async move {
            for left in leftovers {
                replay(&store, left, &counters.recovered).await;
            }
            let run = writer_journal.as_ref().map(|j| j.run().to_string());
            let mut batch = Vec::with_capacity(BATCH);
            while let Some((seq, first)) = rx.recv().await {
                batch.push(first);
                let mut last_seq = seq;
                let deadline = tokio::time::Instant::now() + LINGER;
                while batch.len() < BATCH {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some((seq, e))) => {
                            batch.push(e);
                            last_seq = seq;
                        }
                        Ok(None) | Err(_) => break,
                    }
                }
                let mark = run.as_deref().map(|r| (r, last_seq));
                match store.record_events_marked(&batch, mark).await {
                    Ok(()) => {
                        if let Some(j) = &writer_journal {
                            j.written(last_seq);
                        }
                    }
                    Err(e) => {
                        tracing::error!(events = batch.len(), "writing events failed: {e}");
                        lost.inc_by(batch.len() as u64);
                    }
                }
                batch.clear();
            }
            // Closed and flushed: this run's journal and mark are no longer needed.
            if let (Some(j), Some(run)) = (&writer_journal, &run) {
                j.finish();
                if let Err(e) = store.forget_journal_mark(run).await {
                    tracing::warn!("forgetting the journal's mark failed: {e}");
                }
            }
        });
        (
            Self {
                tx: Mutex::new(Some(tx)),
                dropped: counters.dropped,
                journal,
            },
            writer,
        )
    }

    /// Queues an event without waiting (journaled first, when there is a journal); false
    /// when it had to be dropped.
    pub fn record(&self, event: impl Into<Event>) -> bool {
        let event = event.into().storable();
        let guard = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let queued = guard.as_ref().is_some_and(|tx| match &self.journal {
            Some(j) => j.append(event, |seq, e| tx.try_send((seq, e)).is_ok()),
            None => tx.try_send((0, event)).is_ok(),
        });
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

/// Writes what a killed run left past its mark, exactly once; the files go once written. On
/// failure they stay for the next start.
async fn replay(store: &Store, left: Leftover, recovered: &Counter) {
    let mark = match store.journal_mark(&left.run).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(run = %left.run, "reading the journal's mark failed, replaying at the next start: {e}");
            return;
        }
    };
    let pending: Vec<(u64, Event)> = left.events.into_iter().filter(|(s, _)| *s > mark).collect();
    let mut written = 0u64;
    for chunk in pending.chunks(BATCH) {
        let last = chunk.last().map_or(mark, |(s, _)| *s);
        let events: Vec<Event> = chunk.iter().map(|(_, e)| e.clone()).collect();
        if let Err(e) = store
            .record_events_marked(&events, Some((&left.run, last)))
            .await
        {
            tracing::error!(run = %left.run, "replaying the events' journal failed, trying again at the next start: {e}");
            return;
        }
        written += chunk.len() as u64;
    }
    for path in &left.files {
        let _ = std::fs::remove_file(path);
    }
    let _ = store.forget_journal_mark(&left.run).await;
    recovered.inc_by(written);
    if written > 0 || left.unreadable > 0 {
        tracing::warn!(
            run = %left.run,
            recovered = written,
            unreadable = left.unreadable,
            "a previous run was killed with events not yet stored: written now from its journal"
        );
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
