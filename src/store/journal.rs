//! The events' journal: what the event log accepted survives the process being killed.
//!
//! Every event queued is first appended to a file in `DATA_DIR/journal/` — one JSON line,
//! handed to the kernel before the request is answered, so a `kill -9` loses nothing (a power
//! cut can lose what the kernel had not yet written: there is no fsync per event). The writer
//! stores a mark — this run's id and the last sequence number written — in the same
//! transaction as each batch, and empties the journal once everything in it is in the
//! database. At start, what earlier runs left is read, the part past their mark is written,
//! and the count is logged and exported (`deflect_events_recovered_total`): exactly once, on
//! either backend.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::Event;

/// A journal file is sealed and a new one started past this size; sealed files are deleted
/// once their events are in the database.
const SEGMENT_BYTES: u64 = 8 << 20;

/// One journal line.
#[derive(Serialize, Deserialize)]
struct Line<E> {
    seq: u64,
    event: E,
}

/// What a killed run left: its id, its files and their events in order.
#[derive(Debug)]
pub struct Leftover {
    pub run: String,
    pub files: Vec<PathBuf>,
    pub events: Vec<(u64, Event)>,
    /// Lines that could not be read (a write cut short by a full disk).
    pub unreadable: usize,
}

/// This run's journal (one per data directory, held with a file lock).
#[derive(Debug)]
pub struct Journal {
    run: String,
    dir: PathBuf,
    inner: Mutex<Segments>,
    /// Held for the journal's life: a second server on the same data directory gets none.
    _lock: File,
}

#[derive(Debug)]
struct Segments {
    current: File,
    current_path: PathBuf,
    current_bytes: u64,
    number: u32,
    /// Sealed files and the last sequence number in each.
    sealed: Vec<(PathBuf, u64)>,
    next_seq: u64,
}

impl Journal {
    /// Opens the journal in `dir` for a new run, returning what earlier runs left there.
    pub fn open(dir: &Path) -> std::io::Result<(Self, Vec<Leftover>)> {
        std::fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))?;
        lock.try_lock().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "{} is used by another running server; give each its own --data-dir",
                    dir.display()
                ),
            )
        })?;
        let leftovers = read_leftovers(dir)?;
        let run = uuid::Uuid::new_v4().simple().to_string();
        let current_path = segment_path(dir, &run, 0);
        let current = open_append(&current_path)?;
        Ok((
            Self {
                run,
                dir: dir.to_path_buf(),
                inner: Mutex::new(Segments {
                    current,
                    current_path,
                    current_bytes: 0,
                    number: 0,
                    sealed: Vec::new(),
                    next_seq: 1,
                }),
                _lock: lock,
            },
            leftovers,
        ))
    }

    /// This run's id, the key of its mark in the database.
    pub fn run(&self) -> &str {
        &self.run
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Segments> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Gives `event` the next sequence number and, if `queue` takes it, appends it. A journal
    /// that cannot be written (disk full) is logged; the event is still queued.
    pub fn append(&self, event: Event, queue: impl FnOnce(u64, Event) -> bool) -> bool {
        let mut s = self.lock();
        let seq = s.next_seq;
        let line = serde_json::to_string(&Line { seq, event: &event });
        if !queue(seq, event) {
            return false;
        }
        s.next_seq += 1;
        match line {
            Ok(mut line) => {
                line.push('\n');
                if let Err(e) = s.current.write_all(line.as_bytes()) {
                    tracing::error!("writing the events' journal failed: {e}");
                } else {
                    s.current_bytes += line.len() as u64;
                }
            }
            Err(e) => tracing::error!("encoding an event for the journal failed: {e}"),
        }
        true
    }

    /// Everything up to `seq` is in the database: drops what the journal no longer needs.
    pub fn written(&self, seq: u64) {
        let mut s = self.lock();
        let last = s.next_seq - 1;
        let keep_from = s.sealed.partition_point(|(_, l)| *l <= seq);
        for (path, _) in s.sealed.drain(..keep_from) {
            remove(&path);
        }
        if seq >= last {
            // All written: start the current file over.
            if let Err(e) = s.current.set_len(0) {
                tracing::error!("emptying the events' journal failed: {e}");
            } else {
                s.current_bytes = 0;
            }
        } else if s.current_bytes > SEGMENT_BYTES {
            // Busy for long: seal this file and start another.
            s.number += 1;
            let path = segment_path(&self.dir, &self.run, s.number);
            match open_append(&path) {
                Ok(file) => {
                    let old = std::mem::replace(&mut s.current_path, path);
                    s.current = file;
                    s.current_bytes = 0;
                    s.sealed.push((old, last));
                }
                Err(e) => tracing::error!("starting a new events' journal file failed: {e}"),
            }
        }
    }

    /// The run ended with everything written: its files go.
    pub fn finish(&self) {
        let mut s = self.lock();
        for (path, _) in s.sealed.drain(..) {
            remove(&path);
        }
        remove(&s.current_path);
    }
}

fn segment_path(dir: &Path, run: &str, number: u32) -> PathBuf {
    dir.join(format!("{run}-{number:06}.jsonl"))
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("removing {} failed: {e}", path.display());
    }
}

/// The journal files in `dir`, grouped by run, events in sequence order.
fn read_leftovers(dir: &Path) -> std::io::Result<Vec<Leftover>> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".jsonl")
            && let Some((run, _)) = stem.rsplit_once('-')
        {
            files.push((run.to_string(), path.clone()));
        }
    }
    files.sort();
    let mut out: Vec<Leftover> = Vec::new();
    for (run, path) in files {
        if out.last().is_none_or(|l| l.run != run) {
            out.push(Leftover {
                run: run.clone(),
                files: Vec::new(),
                events: Vec::new(),
                unreadable: 0,
            });
        }
        let Some(left) = out.last_mut() else { continue };
        for line in BufReader::new(File::open(&path)?).lines() {
            let line = line.unwrap_or_default();
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Line<Event>>(&line) {
                Ok(l) => left.events.push((l.seq, l.event)),
                Err(_) => left.unreadable += 1,
            }
        }
        left.files.push(path);
    }
    for left in &mut out {
        left.events.sort_by_key(|(seq, _)| *seq);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ArticleView;

    fn view(n: u64) -> Event {
        Event::View(ArticleView {
            session_id: format!("s{n}"),
            slug: "a".into(),
            search_id: None,
            at: chrono::Utc::now(),
        })
    }

    #[test]
    fn what_a_run_left_is_read_back_in_order_and_a_written_journal_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (j, left) = Journal::open(dir.path()).expect("open");
        assert!(left.is_empty());
        for n in 0..5 {
            assert!(j.append(view(n), |_, _| true));
        }
        // Refused by the queue: not journaled, no sequence number used.
        assert!(!j.append(view(99), |_, _| false));
        j.written(2);
        let run = j.run().to_string();
        drop(j); // killed: nothing more happens
        let (j2, left) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].run, run);
        let seqs: Vec<u64> = left[0].events.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            seqs,
            vec![1, 2, 3, 4, 5],
            "the mark, not the file, says what is written"
        );
        assert_eq!(left[0].unreadable, 0);
        assert!(j2.append(view(7), |_, _| true));
        j2.written(1);
        j2.finish();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(j2.run()))
            .collect();
        assert!(names.is_empty(), "finished runs leave no file: {names:?}");
    }

    #[test]
    fn a_second_server_on_the_same_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_j, _) = Journal::open(dir.path()).expect("open");
        let e = Journal::open(dir.path()).expect_err("locked");
        assert!(e.to_string().contains("another running server"), "{e}");
    }

    #[test]
    fn a_torn_line_is_counted_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("abc-000000.jsonl"),
            "{\"seq\":1,\"event\":{\"View\":{\"session_id\":\"s\",\"slug\":\"a\",\"search_id\":null,\"at\":\"2026-01-01T00:00:00Z\"}}}\n{\"seq\":2,\"ev",
        )
        .expect("write");
        let (_j, left) = Journal::open(dir.path()).expect("open");
        assert_eq!(left[0].events.len(), 1);
        assert_eq!(left[0].unreadable, 1);
    }
}
