//! The on-disk notification spool: one JSON file per pending notification, named by a
//! monotonically increasing sequence, written and fsynced before the first delivery attempt and
//! removed once delivered or given up, so pending notifications survive a restart.
//! Blocking I/O: callers run these from `spawn_blocking`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// One notification waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub seq: u64,
    /// The Graph call id: notifications of one call are delivered in `seq` order.
    pub call: String,
    pub url: String,
    pub created_unix: u64,
    /// The exact body to POST (and sign).
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

const EXT: &str = "json";

impl Spool {
    /// Opens (creating) the directory and loads every pending notification in `seq` order.
    /// Unreadable files are skipped and left in place for an operator to inspect.
    pub fn open(dir: &Path) -> io::Result<(Spool, Vec<Pending>)> {
        fs::create_dir_all(dir)?;
        let mut pending = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("tmp") {
                // A write that never reached its rename: never attempted, safe to drop.
                let _ = fs::remove_file(&path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some(EXT) {
                continue;
            }
            match fs::read(&path).map(|b| serde_json::from_slice::<Pending>(&b)) {
                Ok(Ok(p)) => pending.push(p),
                _ => tracing::warn!(path = %path.display(), "unreadable spool file skipped"),
            }
        }
        pending.sort_by_key(|p| p.seq);
        Ok((
            Spool {
                dir: dir.to_path_buf(),
            },
            pending,
        ))
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}.{EXT}"))
    }

    /// Writes atomically (temp file, fsync, rename, fsync of the directory).
    pub fn write(&self, p: &Pending) -> io::Result<()> {
        let final_path = self.path(p.seq);
        let tmp = final_path.with_extension("tmp");
        let bytes = serde_json::to_vec(p).map_err(io::Error::other)?;
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &final_path)?;
        fs::File::open(&self.dir)?.sync_all()
    }

    pub fn remove(&self, seq: u64) -> io::Result<()> {
        match fs::remove_file(self.path(seq)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn written_entries_load_in_sequence_order_and_remove_is_idempotent() {
        let dir = std::env::temp_dir().join(format!("callclip-spool-{}", uuid::Uuid::new_v4()));
        let (spool, loaded) = Spool::open(&dir).unwrap();
        assert!(loaded.is_empty());
        for seq in [11, 2, 10] {
            let p = Pending {
                seq,
                call: "c".into(),
                url: "http://x".into(),
                created_unix: 1,
                body: "{}".into(),
            };
            spool.write(&p).unwrap();
        }
        fs::write(dir.join("junk.json"), b"nope").unwrap();
        let (_, loaded) = Spool::open(&dir).unwrap();
        assert_eq!(
            loaded.iter().map(|p| p.seq).collect::<Vec<_>>(),
            [2, 10, 11]
        );
        spool.remove(2).unwrap();
        spool.remove(2).unwrap();
        let (_, loaded) = Spool::open(&dir).unwrap();
        assert_eq!(loaded.len(), 2);
        fs::remove_dir_all(dir).unwrap();
    }
}
