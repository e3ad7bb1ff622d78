//! The recording registry: random ids mapped to the files the engine writes, each opened by its
//! own random token. A request path never reaches the filesystem: the id is looked up here.
//!
//! The registry is kept beside the recordings ([`crate::recording_index`]): notifications
//! outlive a restart (the spool), so the links they carry must too, and so must the deletion
//! that retention owes every recording.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::auth::sha256;
use crate::engine::{CallId, RecordingId};
use crate::error::Error;
use crate::recording_index::{self, Index};
use crate::store::RecordingLink;

/// Token entropy; the contract asks for at least 128 bits.
const TOKEN_BYTES: usize = 32;

struct Entry {
    call: CallId,
    path: PathBuf,
    token_sha256: [u8; 32],
    /// The link handed out at start; `None` once restored, when only the token's digest is known.
    link: Option<RecordingLink>,
    /// What is on disk; `None` for a file outside the recordings directory, which is not kept.
    index: Option<Index>,
    finished: watch::Sender<bool>,
}

/// A recording opened for download.
pub struct Opened {
    pub path: PathBuf,
    /// Becomes true when the engine has finished writing the file.
    pub finished: watch::Receiver<bool>,
}

pub struct Recordings {
    public_url: String,
    dir: PathBuf,
    entries: Mutex<HashMap<RecordingId, Entry>>,
}

/// A restored recording and how long until [`Recordings::expire`] is due for it.
pub type Due = (RecordingId, Duration);

impl Recordings {
    /// Restores the registry kept in `dir` (which must exist). Restored recordings are finished.
    /// Those due by `now_unix` are deleted, file and index; those whose call never recorded an
    /// end (the process stopped mid-call) become due `retention` after `now_unix`; an index whose
    /// file is gone is dropped. Blocking I/O, for start-up.
    pub fn load(
        public_url: &str,
        dir: &Path,
        retention: Duration,
        now_unix: u64,
    ) -> io::Result<(Recordings, Vec<Due>)> {
        let mut entries = HashMap::new();
        let mut due = Vec::new();
        for stored in recording_index::load(dir)? {
            let (id, mut index) = (stored.id, stored.index);
            let path = dir.join(&index.file);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    tracing::info!(%id, file = %index.file, "recording index without its file dropped");
                    remove_files(dir, id, None);
                    continue;
                }
                _ => {
                    tracing::warn!(%id, file = %index.file, "recording index refused: not a regular file");
                    continue;
                }
            }
            let delete_at = match index.delete_at_unix {
                Some(t) => t,
                None => {
                    let t = now_unix.saturating_add(retention.as_secs());
                    index.delete_at_unix = Some(t);
                    write_index(dir, id, &index);
                    t
                }
            };
            if delete_at <= now_unix {
                remove_files(dir, id, Some(&path));
                continue;
            }
            due.push((id, Duration::from_secs(delete_at - now_unix)));
            entries.insert(
                id,
                Entry {
                    call: CallId(index.call.clone()),
                    path,
                    token_sha256: stored.token_sha256,
                    link: None,
                    index: Some(index),
                    finished: watch::channel(true).0,
                },
            );
        }
        let recordings = Recordings {
            public_url: public_url.to_string(),
            dir: dir.to_path_buf(),
            entries: Mutex::new(entries),
        };
        Ok((recordings, due))
    }

    /// Registers a file the engine is about to write. A file inside the recordings directory
    /// is kept across restarts; its index is a few hundred bytes written without fsync, as
    /// cheap as creating the WAV beside it, which the caller has just done on the same thread.
    pub fn start(&self, call: &CallId, path: PathBuf) -> RecordingLink {
        let id = RecordingId(uuid::Uuid::new_v4());
        let mut raw = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut raw);
        let link = RecordingLink {
            id,
            location: format!("{}/recordings/{id}", self.public_url),
            token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
        };
        let token_sha256 = sha256(link.token.as_bytes());
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| recording_index::is_plain_file_name(n));
        let index = match file {
            Some(file) if path.parent() == Some(self.dir.as_path()) => Some(Index {
                id: id.to_string(),
                call: call.0.clone(),
                file: file.to_string(),
                token_sha256: recording_index::hex(&token_sha256),
                created_unix: crate::clock::unix_seconds(),
                delete_at_unix: None,
            }),
            _ => {
                tracing::warn!(path = %path.display(), "recording outside the recordings directory: not kept across a restart");
                None
            }
        };
        if let Some(index) = &index {
            write_index(&self.dir, id, index);
        }
        if let Ok(mut m) = self.entries.lock() {
            m.insert(
                id,
                Entry {
                    call: call.clone(),
                    path,
                    token_sha256,
                    link: Some(link.clone()),
                    index,
                    finished: watch::channel(false).0,
                },
            );
        }
        link
    }

    pub fn finish(&self, id: RecordingId) {
        if let Ok(m) = self.entries.lock() {
            if let Some(e) = m.get(&id) {
                e.finished.send_replace(true);
            }
        }
    }

    pub fn link(&self, id: RecordingId) -> Option<RecordingLink> {
        self.entries.lock().ok()?.get(&id)?.link.clone()
    }

    /// `404` for an unknown id, `401` for a token that is not this recording's.
    pub fn open(&self, id: &str, token: Option<&str>) -> Result<Opened, Error> {
        let id = uuid::Uuid::parse_str(id)
            .map(RecordingId)
            .map_err(|_| Error::RecordingNotFound)?;
        let m = self.entries.lock().map_err(|_| Error::Internal {
            reason: "recording registry poisoned",
        })?;
        let e = m.get(&id).ok_or(Error::RecordingNotFound)?;
        let token = token.ok_or(Error::Unauthenticated)?;
        if !bool::from(sha256(token.as_bytes()).ct_eq(&e.token_sha256)) {
            return Err(Error::Unauthenticated);
        }
        Ok(Opened {
            path: e.path.clone(),
            finished: e.finished.subscribe(),
        })
    }

    /// Deletes one recording after checking its token. Blocking I/O.
    pub fn delete(&self, id: &str, token: Option<&str>) -> Result<(), Error> {
        self.open(id, token)?;
        let id = uuid::Uuid::parse_str(id)
            .map(RecordingId)
            .map_err(|_| Error::RecordingNotFound)?;
        self.remove(|rid, _| *rid == id);
        Ok(())
    }

    /// The call is over: its recordings are due for deletion at `delete_at_unix`, which their
    /// indexes keep for the next start. Blocking I/O, under the registry lock so a concurrent
    /// deletion cannot be followed by a rewrite of the index it removed.
    pub fn call_ended(&self, call: &CallId, delete_at_unix: u64) {
        let Ok(mut m) = self.entries.lock() else {
            return;
        };
        for (id, e) in m.iter_mut().filter(|(_, e)| &e.call == call) {
            if let Some(index) = &mut e.index {
                index.delete_at_unix = Some(delete_at_unix);
                write_index(&self.dir, *id, index);
            }
        }
    }

    /// Deletes every recording of a call (retention expiry). Blocking I/O.
    pub fn delete_call(&self, call: &CallId) {
        self.remove(|_, e| &e.call == call);
    }

    /// Deletes one recording (retention expiry of a restored recording). Blocking I/O.
    pub fn expire(&self, id: RecordingId) {
        self.remove(|rid, _| *rid == id);
    }

    fn remove(&self, pick: impl Fn(&RecordingId, &Entry) -> bool) {
        let removed: Vec<(RecordingId, Entry)> = match self.entries.lock() {
            Ok(mut m) => {
                let ids: Vec<RecordingId> = m
                    .iter()
                    .filter(|(k, v)| pick(k, v))
                    .map(|(k, _)| *k)
                    .collect();
                ids.into_iter()
                    .filter_map(|k| m.remove(&k).map(|e| (k, e)))
                    .collect()
            }
            Err(_) => return,
        };
        for (id, e) in removed {
            // A download in progress ends: the entry is gone and the writer is told it is over.
            e.finished.send_replace(true);
            if e.index.is_some() {
                remove_files(&self.dir, id, Some(&e.path));
            } else {
                remove_file(&e.path);
            }
        }
    }
}

fn write_index(dir: &Path, id: RecordingId, index: &Index) {
    if let Err(err) = recording_index::write(dir, id, index) {
        tracing::warn!(%id, %err, "recording index not written: the recording will not survive a restart");
    }
}

/// True when the file is gone.
fn remove_file(path: &Path) -> bool {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), %err, "recording not deleted");
            false
        }
        _ => true,
    }
}

/// The index goes only once the file is gone, so the next start retries a failed deletion.
fn remove_files(dir: &Path, id: RecordingId, file: Option<&Path>) {
    if !file.is_none_or(remove_file) {
        return;
    }
    if let Err(err) = recording_index::remove(dir, id) {
        tracing::warn!(%id, %err, "recording index not deleted");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const RETENTION: Duration = Duration::from_secs(600);

    /// A fresh recordings directory, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new() -> Dir {
            let d = std::env::temp_dir().join(format!("callclip-rec-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&d).unwrap();
            Dir(d)
        }

        fn wav(&self, name: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, b"RIFF").unwrap();
            p
        }

        fn index(&self, id: RecordingId) -> PathBuf {
            self.0.join(format!("{id}.json"))
        }

        fn load(&self, now: u64) -> (Recordings, Vec<Due>) {
            Recordings::load("http://h", &self.0, RETENTION, now).unwrap()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_token_opens_only_its_own_recording() {
        let dir = Dir::new();
        let (r, _) = dir.load(NOW);
        let call = CallId("c".into());
        let a = r.start(&call, dir.wav("a.wav"));
        let b = r.start(&call, dir.wav("b.wav"));
        assert!(a.location.starts_with("http://h/recordings/"));
        assert!(a.token.len() >= 22, "at least 128 bits");
        let a_id = a.id.to_string();
        assert!(r.open(&a_id, Some(&a.token)).is_ok());
        assert!(matches!(
            r.open(&a_id, Some(&b.token)),
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(r.open(&a_id, None), Err(Error::Unauthenticated)));
        assert!(matches!(
            r.open("../etc/passwd", Some(&a.token)),
            Err(Error::RecordingNotFound)
        ));
        r.delete(&a_id, Some(&a.token)).unwrap();
        assert!(matches!(
            r.open(&a_id, Some(&a.token)),
            Err(Error::RecordingNotFound)
        ));
        assert!(!dir.0.join("a.wav").exists() && !dir.index(a.id).exists());
        r.delete_call(&call);
        assert!(r.link(b.id).is_none());
        assert!(!dir.0.join("b.wav").exists() && !dir.index(b.id).exists());
    }

    #[test]
    fn after_a_restart_the_old_token_still_opens_its_recording_and_no_other() {
        let dir = Dir::new();
        let (first, due) = dir.load(NOW);
        assert!(due.is_empty());
        let call = CallId("c".into());
        let path = dir.wav("a.wav");
        let a = first.start(&call, path.clone());
        let b = first.start(&call, dir.wav("b.wav"));
        first.finish(a.id);
        let stored = std::fs::read_to_string(dir.index(a.id)).unwrap();
        assert!(!stored.contains(&a.token), "only the digest is kept");
        drop(first);

        let (second, due) = dir.load(NOW + 5);
        let opened = second.open(&a.id.to_string(), Some(&a.token)).unwrap();
        assert_eq!(opened.path, path);
        assert!(
            *opened.finished.borrow(),
            "a restored recording is complete"
        );
        assert!(matches!(
            second.open(&a.id.to_string(), Some(&b.token)),
            Err(Error::Unauthenticated)
        ));
        assert!(second.link(a.id).is_none(), "the plain token is not kept");
        // The call never recorded an end: due a retention after the restart, and that sticks.
        assert!(due.contains(&(a.id, RETENTION)), "{due:?}");
        second.expire(b.id);
        assert!(!dir.0.join("b.wav").exists() && !dir.index(b.id).exists());
        drop(second);
        let (third, due) = dir.load(NOW + 105);
        assert_eq!(due, [(a.id, RETENTION - Duration::from_secs(100))]);
        drop(third);
        let (fourth, due) = dir.load(NOW + 5 + RETENTION.as_secs());
        assert!(due.is_empty());
        assert!(fourth.open(&a.id.to_string(), Some(&a.token)).is_err());
        assert!(
            !path.exists() && !dir.index(a.id).exists(),
            "deleted at load"
        );
    }

    #[test]
    fn recordings_of_an_ended_call_are_deleted_at_load_once_due() {
        let dir = Dir::new();
        let (first, _) = dir.load(NOW);
        let (ended, running) = (CallId("ended".into()), CallId("running".into()));
        let old = first.start(&ended, dir.wav("old.wav"));
        let live = first.start(&running, dir.wav("live.wav"));
        first.call_ended(&ended, NOW + 60);
        drop(first);

        let (second, due) = dir.load(NOW + 59);
        assert!(due.contains(&(old.id, Duration::from_secs(1))), "{due:?}");
        drop(second);
        let (third, due) = dir.load(NOW + 60);
        // Due a retention after the first restart (NOW + 59), as that one wrote down.
        assert_eq!(due, [(live.id, RETENTION - Duration::from_secs(1))]);
        assert!(third.open(&old.id.to_string(), Some(&old.token)).is_err());
        assert!(!dir.0.join("old.wav").exists() && !dir.index(old.id).exists());
        assert!(third.open(&live.id.to_string(), Some(&live.token)).is_ok());
    }

    #[test]
    fn a_tampered_or_orphaned_index_is_refused() {
        let dir = Dir::new();
        let (first, _) = dir.load(NOW);
        let call = CallId("c".into());
        let a = first.start(&call, dir.wav("a.wav"));
        let gone = first.start(&call, dir.wav("gone.wav"));
        first.call_ended(&call, NOW + 1);
        drop(first);
        std::fs::remove_file(dir.0.join("gone.wav")).unwrap();
        let outside = dir.0.join("x");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep.wav"), b"RIFF").unwrap();
        let tampered = std::fs::read_to_string(dir.index(a.id))
            .unwrap()
            .replace("\"a.wav\"", "\"../x/keep.wav\"");
        std::fs::write(dir.index(a.id), tampered).unwrap();
        std::fs::write(dir.0.join(format!("{}.json", uuid::Uuid::new_v4())), b"{").unwrap();

        // Past the deletion time: a trusted index would have its file deleted now.
        let (second, due) = dir.load(NOW + 10);
        assert!(due.is_empty());
        assert!(matches!(
            second.open(&a.id.to_string(), Some(&a.token)),
            Err(Error::RecordingNotFound)
        ));
        assert!(
            outside.join("keep.wav").exists(),
            "nothing outside is touched"
        );
        assert!(dir.index(a.id).exists(), "left for an operator");
        assert!(
            !dir.index(gone.id).exists(),
            "an index without its file is dropped"
        );
    }

    #[test]
    fn a_file_outside_the_directory_is_served_but_not_kept() {
        let dir = Dir::new();
        let elsewhere = Dir::new();
        let (r, _) = dir.load(NOW);
        let a = r.start(&CallId("c".into()), elsewhere.wav("a.wav"));
        assert!(r.open(&a.id.to_string(), Some(&a.token)).is_ok());
        assert!(!dir.index(a.id).exists());
    }
}
