-- The events' journal (src/store/journal.rs): per server run, the last sequence number whose
-- events are stored, written in the same transaction as the events, so the journal a killed
-- run left is replayed exactly once.
CREATE TABLE event_journal_marks (
    run TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
