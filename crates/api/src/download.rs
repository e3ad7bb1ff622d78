//! `GET` / `DELETE <base>/recordings/{recId}`, authorized by the recording's own token.
//! Range requests per RFC 9110 §14; a recording still being written streams until it ends.

use std::io::SeekFrom;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::watch;

use crate::auth::bearer;
use crate::error::Error;
use crate::state::AppState;

const CHUNK: usize = 64 * 1024;
/// How often a live download looks for new audio.
const POLL: Duration = Duration::from_millis(100);

/// A single byte range, inclusive, resolved against the length. `Ok(None)` serves the whole
/// file: RFC 9110 §14.2 lets a server ignore a Range it does not support (e.g. several ranges).
pub fn parse_range(value: &str, len: u64) -> Result<Option<(u64, u64)>, Error> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let unsatisfiable = Error::RangeNotSatisfiable { len };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        // Suffix range: the last N bytes (RFC 9110 §14.1.1).
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || len == 0 {
            return Err(unsatisfiable);
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let Ok(start) = a.parse::<u64>() else {
            return Ok(None);
        };
        let end = match b {
            "" => u64::MAX,
            b => match b.parse::<u64>() {
                Ok(e) if e >= start => e,
                _ => return Ok(None),
            },
        };
        if start >= len {
            return Err(unsatisfiable);
        }
        (start, end.min(len - 1))
    };
    Ok(Some(range))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let opened = state.recordings().open(&id, bearer(&headers))?;
    let len = tokio::fs::metadata(&opened.path)
        .await
        .map_err(|_| Error::RecordingNotFound)?
        .len();
    let finished = *opened.finished.borrow();
    if !finished {
        // Live (streamWhileRecording): the length is unknown, ranges are not offered.
        let body = file_stream(opened.path, 0, None, opened.finished);
        return Ok(([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response());
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(v) => parse_range(v, len)?,
        None => None,
    };
    let (status, start, end) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    let mut resp = Response::new(file_stream(
        opened.path,
        start,
        Some(count),
        opened.finished,
    ));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        "application/octet-stream".parse().map_err(|_| internal())?,
    );
    h.insert(
        header::ACCEPT_RANGES,
        "bytes".parse().map_err(|_| internal())?,
    );
    h.insert(header::CONTENT_LENGTH, count.into());
    if status == StatusCode::PARTIAL_CONTENT {
        let v = format!("bytes {start}-{end}/{len}");
        h.insert(header::CONTENT_RANGE, v.parse().map_err(|_| internal())?);
    }
    Ok(resp)
}

fn internal() -> Error {
    Error::Internal {
        reason: "header value",
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let token = bearer(&headers).map(str::to_string);
    // Unlinks the file and its index: off the async threads.
    tokio::task::spawn_blocking(move || state.recordings().delete(&id, token.as_deref()))
        .await
        .map_err(|_| Error::Internal {
            reason: "recording delete task",
        })??;
    Ok(StatusCode::NO_CONTENT)
}

struct Cursor {
    path: std::path::PathBuf,
    file: Option<tokio::fs::File>,
    pos: u64,
    remaining: Option<u64>,
    finished: watch::Receiver<bool>,
}

/// Streams `count` bytes from `start`, or, with `count = None`, everything until the
/// registry marks the recording finished and the end of the file is reached.
fn file_stream(
    path: std::path::PathBuf,
    start: u64,
    count: Option<u64>,
    finished: watch::Receiver<bool>,
) -> Body {
    let cursor = Cursor {
        path,
        file: None,
        pos: start,
        remaining: count,
        finished,
    };
    Body::from_stream(stream::unfold(cursor, |mut c| async move {
        match next_chunk(&mut c).await {
            Ok(Some(b)) => Some((Ok::<Bytes, std::io::Error>(b), c)),
            Ok(None) => None,
            Err(e) => Some((Err(e), c)),
        }
    }))
}

async fn next_chunk(c: &mut Cursor) -> std::io::Result<Option<Bytes>> {
    if c.remaining == Some(0) {
        return Ok(None);
    }
    if c.file.is_none() {
        let mut f = tokio::fs::File::open(&c.path).await?;
        f.seek(SeekFrom::Start(c.pos)).await?;
        c.file = Some(f);
    }
    let Some(file) = c.file.as_mut() else {
        return Ok(None);
    };
    loop {
        let want = c
            .remaining
            .map_or(CHUNK, |r| usize::try_from(r).unwrap_or(CHUNK).min(CHUNK));
        let mut buf = vec![0u8; want];
        let n = file.read(&mut buf).await?;
        if n > 0 {
            buf.truncate(n);
            c.pos = c.pos.saturating_add(n as u64);
            c.remaining = c.remaining.map(|r| r.saturating_sub(n as u64));
            return Ok(Some(Bytes::from(buf)));
        }
        // End of what is written so far: done unless the recording is still growing.
        if c.remaining.is_some() || *c.finished.borrow() {
            return Ok(None);
        }
        let _ = tokio::time::timeout(POLL, c.finished.changed()).await;
        if *c.finished.borrow() {
            // One more read picks up the tail written just before the end.
            let n = file.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            buf.truncate(n);
            c.pos = c.pos.saturating_add(n as u64);
            return Ok(Some(Bytes::from(buf)));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_against_the_length() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=95-200", 100).unwrap(), Some((95, 99)));
        assert_eq!(parse_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 100).unwrap(), None);
        assert_eq!(parse_range("bytes=9-2", 100).unwrap(), None);
        assert!(parse_range("bytes=100-", 100).is_err());
        assert!(parse_range("bytes=-0", 100).is_err());
    }
}
