//! Counters served at `/metrics` in the Prometheus text format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use crate::engine::CallState;

#[derive(Debug, Default)]
pub struct Metrics {
    pub calls_outgoing: AtomicU64,
    pub calls_incoming: AtomicU64,
    pub notifications_delivered: AtomicU64,
    pub notification_retries: AtomicU64,
    pub notifications_dropped: AtomicU64,
    pub rtp_packets_received: AtomicU64,
    pub rtp_packets_lost: AtomicU64,
    /// Completed operations by (`@odata.type` short name, completion reason or status).
    operations: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn operation_finished(&self, kind: &'static str, reason: &'static str) {
        if let Ok(mut m) = self.operations.lock() {
            *m.entry((kind, reason)).or_insert(0) += 1;
        }
    }

    /// Renders every counter; `calls_by_state` is the live gauge from the store.
    pub fn render(&self, calls_by_state: &[(CallState, usize)]) -> String {
        let mut out = String::new();
        let counters = [
            (
                "callclip_calls_outgoing_total",
                "Outgoing calls created",
                &self.calls_outgoing,
            ),
            (
                "callclip_calls_incoming_total",
                "Incoming calls offered",
                &self.calls_incoming,
            ),
            (
                "callclip_notifications_delivered_total",
                "Notifications answered with 2xx",
                &self.notifications_delivered,
            ),
            (
                "callclip_notification_retries_total",
                "Notification attempts after a failure",
                &self.notification_retries,
            ),
            (
                "callclip_notifications_dropped_total",
                "Notifications given up after the give-up time",
                &self.notifications_dropped,
            ),
            (
                "callclip_rtp_packets_received_total",
                "RTP packets received",
                &self.rtp_packets_received,
            ),
            (
                "callclip_rtp_packets_lost_total",
                "RTP packets lost",
                &self.rtp_packets_lost,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", c.load(Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP callclip_calls Calls known, by state\n# TYPE callclip_calls gauge"
        );
        for (state, n) in calls_by_state {
            let _ = writeln!(out, "callclip_calls{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP callclip_operations_total Finished media operations\n# TYPE callclip_operations_total counter"
        );
        if let Ok(m) = self.operations.lock() {
            for ((kind, reason), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "callclip_operations_total{{type=\"{kind}\",completion_reason=\"{reason}\"}} {n}"
                );
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_labels() {
        let m = Metrics::default();
        Metrics::add(&m.rtp_packets_lost, 3);
        m.operation_finished("recordOperation", "stopToneDetected");
        let text = m.render(&[(CallState::Established, 2)]);
        assert!(text.contains("callclip_rtp_packets_lost_total 3\n"));
        assert!(text.contains("callclip_calls{state=\"established\"} 2\n"));
        assert!(text.contains(
            "callclip_operations_total{type=\"recordOperation\",completion_reason=\"stopToneDetected\"} 1\n"
        ));
    }
}
