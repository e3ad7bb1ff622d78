//! The recording registry on disk: one `<recording-id>.json` beside the WAVs, so a recording's
//! token keeps opening it after a restart and its deletion stays due.
//!
//! Only the token's SHA-256 is kept. The WAV is named relative to the directory, and a name read
//! back that is not a plain file name is refused: an index file can never point a download or a
//! deletion outside the directory.
//!
//! Blocking I/O, no fsync: an index lost to a power cut costs one recording's download (and
//! leaves its WAV to the operator), which is not worth a disk flush on the call's path.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use crate::engine::RecordingId;

/// One recording as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub id: String,
    pub call: String,
    /// The WAV's file name inside the recordings directory.
    pub file: String,
    /// Hex SHA-256 of the `recordingAccessToken`.
    pub token_sha256: String,
    pub created_unix: u64,
    /// Set when the call ends; absent while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_at_unix: Option<u64>,
}

/// An index read back and checked.
#[derive(Debug)]
pub struct Stored {
    pub id: RecordingId,
    pub token_sha256: [u8; 32],
    pub index: Index,
}

const EXT: &str = "json";
const TMP_EXT: &str = "tmp";

fn path(dir: &Path, id: RecordingId, ext: &str) -> PathBuf {
    dir.join(format!("{id}.{ext}"))
}

/// Writes atomically (temp file, rename) so a reader sees the old or the new index, never half.
pub fn write(dir: &Path, id: RecordingId, index: &Index) -> io::Result<()> {
    let tmp = path(dir, id, TMP_EXT);
    let bytes = serde_json::to_vec(index).map_err(io::Error::other)?;
    fs::File::create(&tmp)?.write_all(&bytes)?;
    fs::rename(&tmp, path(dir, id, EXT))
}

pub fn remove(dir: &Path, id: RecordingId) -> io::Result<()> {
    match fs::remove_file(path(dir, id, EXT)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// True for a single normal path component: no separator, no `..`, no root, not empty.
pub fn is_plain_file_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(n)), None) if n == name
    ) && !name.contains(['/', '\\', '\0'])
}

/// Lowercase hex, the form `StaticToken::from_hex` reads back.
pub fn hex(digest: &[u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every readable, well-formed index in `dir` with its id. Files that cannot be read or that
/// fail the checks are logged and left in place for an operator to inspect; temp files of
/// writes that never reached their rename are removed (the previous index, if any, stands).
pub fn load(dir: &Path) -> io::Result<Vec<Stored>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let (Some(stem), Some(ext)) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        let Ok(id) = uuid::Uuid::parse_str(stem).map(RecordingId) else {
            continue;
        };
        if ext == TMP_EXT {
            let _ = fs::remove_file(&path);
            continue;
        }
        if ext != EXT {
            continue;
        }
        let parsed = fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Index>(&b).map_err(|e| e.to_string()));
        let index = match parsed {
            Ok(i) => i,
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "unreadable recording index skipped");
                continue;
            }
        };
        let token_sha256 = crate::config::StaticToken::from_hex(&index.token_sha256);
        match token_sha256 {
            Some(t) if index.id == id.to_string() && is_plain_file_name(&index.file) => {
                out.push(Stored {
                    id,
                    token_sha256: t.sha256,
                    index,
                })
            }
            _ => tracing::warn!(
                path = %path.display(),
                "recording index refused: its id, file name or token digest is malformed"
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_pass() {
        for ok in ["a.wav", "0f3c-1.wav", "..wav", "a b.wav"] {
            assert!(is_plain_file_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b.wav",
            "/etc/passwd",
            "a\\b",
            "x/",
            "./a.wav",
            "a\0b",
        ] {
            assert!(!is_plain_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn hex_reads_back_as_a_static_token_digest() {
        let d = crate::auth::sha256(b"t");
        assert_eq!(
            crate::config::StaticToken::from_hex(&hex(&d))
                .unwrap()
                .sha256,
            d
        );
    }
}
