//! The recording registry: random ids mapped to the files the engine writes, each opened by its
//! own random token. A request path never reaches the filesystem: the id is looked up here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine as _;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::engine::{CallId, RecordingId};
use crate::error::Error;
use crate::store::RecordingLink;

/// Token entropy; the contract asks for at least 128 bits.
const TOKEN_BYTES: usize = 32;

struct Entry {
    call: CallId,
    path: PathBuf,
    link: RecordingLink,
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
    entries: Mutex<HashMap<RecordingId, Entry>>,
}

impl Recordings {
    pub fn new(public_url: &str) -> Recordings {
        Recordings {
            public_url: public_url.to_string(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Registers a file the engine is about to write.
    pub fn start(&self, call: &CallId, path: PathBuf) -> RecordingLink {
        let id = RecordingId(uuid::Uuid::new_v4());
        let mut raw = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut raw);
        let link = RecordingLink {
            id,
            location: format!("{}/recordings/{id}", self.public_url),
            token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
        };
        if let Ok(mut m) = self.entries.lock() {
            m.insert(
                id,
                Entry {
                    call: call.clone(),
                    path,
                    link: link.clone(),
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
        self.entries.lock().ok()?.get(&id).map(|e| e.link.clone())
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
        if !bool::from(e.link.token.as_bytes().ct_eq(token.as_bytes())) {
            return Err(Error::Unauthenticated);
        }
        Ok(Opened {
            path: e.path.clone(),
            finished: e.finished.subscribe(),
        })
    }

    /// Deletes one recording after checking its token.
    pub fn delete(&self, id: &str, token: Option<&str>) -> Result<(), Error> {
        self.open(id, token)?;
        let id = uuid::Uuid::parse_str(id)
            .map(RecordingId)
            .map_err(|_| Error::RecordingNotFound)?;
        self.remove(|rid, _| *rid == id);
        Ok(())
    }

    /// Deletes every recording of a call (retention expiry).
    pub fn delete_call(&self, call: &CallId) {
        self.remove(|_, e| &e.call == call);
    }

    fn remove(&self, pick: impl Fn(&RecordingId, &Entry) -> bool) {
        let removed: Vec<Entry> = match self.entries.lock() {
            Ok(mut m) => {
                let ids: Vec<RecordingId> = m
                    .iter()
                    .filter(|(k, v)| pick(k, v))
                    .map(|(k, _)| *k)
                    .collect();
                ids.iter().filter_map(|k| m.remove(k)).collect()
            }
            Err(_) => return,
        };
        for e in removed {
            // A download in progress ends: the entry is gone and the writer is told it is over.
            e.finished.send_replace(true);
            if let Err(err) = std::fs::remove_file(&e.path) {
                if err.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %e.path.display(), %err, "recording not deleted");
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_its_own_recording() {
        let r = Recordings::new("http://h");
        let call = CallId("c".into());
        let a = r.start(&call, PathBuf::from("/nonexistent/a.wav"));
        let b = r.start(&call, PathBuf::from("/nonexistent/b.wav"));
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
        r.delete_call(&call);
        assert!(r.link(b.id).is_none());
    }
}
