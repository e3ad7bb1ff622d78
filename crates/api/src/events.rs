//! Notifications without a callback URL: kept in a ring and streamed at `GET /events` as
//! Server-Sent Events, so `curl -N` shows what a bot would have received.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;

use crate::auth::Caller;
use crate::state::AppState;

#[derive(Debug)]
pub struct EventRing {
    capacity: usize,
    inner: Mutex<Ring>,
    live: broadcast::Sender<(u64, String)>,
}

#[derive(Debug, Default)]
struct Ring {
    next_id: u64,
    items: VecDeque<(u64, String)>,
}

impl EventRing {
    pub fn new(capacity: usize) -> EventRing {
        let (live, _) = broadcast::channel(capacity.max(16));
        EventRing {
            capacity: capacity.max(1),
            inner: Mutex::new(Ring {
                next_id: 1,
                items: VecDeque::new(),
            }),
            live,
        }
    }

    pub fn publish(&self, body: String) {
        let Ok(mut ring) = self.inner.lock() else {
            return;
        };
        let id = ring.next_id;
        ring.next_id = ring.next_id.saturating_add(1);
        if ring.items.len() >= self.capacity {
            ring.items.pop_front();
        }
        ring.items.push_back((id, body.clone()));
        // No subscriber is not an error: the ring still holds it.
        let _ = self.live.send((id, body));
    }

    /// Ring entries after `after`, then everything published later, without gap or repeat.
    pub fn subscribe(&self, after: u64) -> impl Stream<Item = (u64, String)> + Send + 'static {
        let (backlog, rx) = match self.inner.lock() {
            Ok(ring) => (
                ring.items
                    .iter()
                    .filter(|(id, _)| *id > after)
                    .cloned()
                    .collect::<Vec<_>>(),
                self.live.subscribe(),
            ),
            Err(_) => (Vec::new(), self.live.subscribe()),
        };
        let last = backlog.last().map(|(id, _)| *id).unwrap_or(after);
        let live = stream::unfold((rx, last), |(mut rx, last)| async move {
            loop {
                match rx.recv().await {
                    Ok((id, body)) if id > last => return Some(((id, body), (rx, id))),
                    Ok(_) => continue,
                    // A slow reader skips what the channel dropped; the ids show the gap.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        stream::iter(backlog).chain(live)
    }
}

/// `GET /events`; honours `Last-Event-ID` so a reconnecting client misses nothing in the ring.
pub async fn sse(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> impl IntoResponse {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let events = state.events().subscribe(after).map(|(id, body)| {
        Ok::<_, Infallible>(
            Event::default()
                .id(id.to_string())
                .event("notification")
                .data(body),
        )
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[tokio::test]
    async fn late_subscriber_gets_backlog_then_live() {
        let ring = EventRing::new(2);
        ring.publish("a".into());
        ring.publish("b".into());
        ring.publish("c".into());
        let s = ring.subscribe(0);
        ring.publish("d".into());
        let got: Vec<_> = s.take(3).collect().await;
        assert_eq!(got, vec![(2, "b".into()), (3, "c".into()), (4, "d".into())]);
        let resumed: Vec<_> = ring.subscribe(3).take(1).collect().await;
        assert_eq!(resumed, vec![(4, "d".to_string())]);
    }
}
