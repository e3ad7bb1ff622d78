//! The demo's bot: it reacts to the gateway's notifications over the Graph API exactly as a bot
//! backend would — answers the incoming call, asks for a recording with a beep and the stop
//! tone `#`, and hangs up once the recording has completed.

use std::net::SocketAddr;

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// The API the bot talks to and the callback it hands out.
pub struct Bot {
    pub api: SocketAddr,
    pub token: String,
    pub callback: String,
}

/// Every notification received, in order, and the record operation's completion among them.
pub struct BotLog {
    pub notifications: Vec<Value>,
    pub completion: Option<Value>,
}

/// What one notification is about.
enum Seen<'a> {
    Incoming { call: &'a str },
    Established { call: &'a str },
    RecordFinished { call: &'a str },
    CallDeleted,
    Other,
}

impl Bot {
    /// Handles notifications until the call is gone or `give_up` resolves.
    pub async fn run(
        &self,
        bodies: &mut mpsc::UnboundedReceiver<String>,
        give_up: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<BotLog> {
        let mut log = BotLog {
            notifications: Vec::new(),
            completion: None,
        };
        tokio::pin!(give_up);
        loop {
            let body = tokio::select! {
                body = bodies.recv() => body,
                _ = &mut give_up => None,
            };
            let Some(body) = body else {
                return Ok(log);
            };
            let value: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            match seen(&value) {
                Seen::Incoming { call } => self.answer(call).await?,
                Seen::Established { call } => self.record(call).await?,
                Seen::RecordFinished { call } => {
                    log.completion = Some(value.clone());
                    self.hang_up(call).await?;
                }
                Seen::CallDeleted => {
                    log.notifications.push(value);
                    return Ok(log);
                }
                Seen::Other => {}
            }
            log.notifications.push(value);
        }
    }

    async fn answer(&self, call: &str) -> anyhow::Result<()> {
        let body = json!({
            "callbackUri": self.callback,
            "acceptedModalities": ["audio"],
            "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
        });
        self.expect(
            202,
            "POST",
            &format!("{}/answer", call_path(call)),
            Some(body),
        )
        .await
    }

    async fn record(&self, call: &str) -> anyhow::Result<()> {
        let body = json!({
            "playBeep": true,
            "stopTones": ["#"],
            "initialSilenceTimeoutInSeconds": 5,
            "maxSilenceTimeoutInSeconds": 3,
            "maxRecordDurationInSeconds": 30,
            "clientContext": "callclip-demo",
        });
        self.expect(
            200,
            "POST",
            &format!("{}/record", call_path(call)),
            Some(body),
        )
        .await
    }

    async fn hang_up(&self, call: &str) -> anyhow::Result<()> {
        self.expect(204, "DELETE", &call_path(call), None).await
    }

    async fn expect(
        &self,
        status: u16,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<()> {
        let (got, text) = self.request(method, path, body).await?;
        // DELETE may answer 200 or 204 depending on the body; both mean done.
        let ok = got == status || (method == "DELETE" && (200..300).contains(&got));
        if !ok {
            bail!("{method} {path}: HTTP {got} {text}");
        }
        Ok(())
    }

    /// One HTTP/1.1 request on its own connection; returns the status and the body.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, String)> {
        let mut stream = TcpStream::connect(self.api)
            .await
            .with_context(|| format!("connecting to the API at {}", self.api))?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.api,
            self.token,
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await?;
        let text = String::from_utf8_lossy(&reply);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("{method} {path}: no HTTP status in the reply"))?;
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        Ok((status, body))
    }
}

fn call_path(call: &str) -> String {
    format!("/communications/calls/{call}")
}

fn seen(body: &Value) -> Seen<'_> {
    let Some(n) = body.pointer("/value/0") else {
        return Seen::Other;
    };
    let field = |p: &str| n.pointer(p).and_then(Value::as_str).unwrap_or("");
    let change = field("/changeType");
    let kind = field("/resourceData/@odata.type");
    let call = field("/resourceUrl")
        .strip_prefix("/communications/calls/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    match (change, kind) {
        ("created", "#microsoft.graph.call") if field("/resourceData/state") == "incoming" => {
            Seen::Incoming { call }
        }
        ("updated", "#microsoft.graph.call") if field("/resourceData/state") == "established" => {
            Seen::Established { call }
        }
        ("deleted", "#microsoft.graph.recordOperation") => Seen::RecordFinished { call },
        ("deleted", "#microsoft.graph.call") => Seen::CallDeleted,
        _ => Seen::Other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn notifications_are_told_apart_by_change_type_resource_and_state() {
        let n = |change: &str, url: &str, data: Value| json!({"value": [{"changeType": change, "resourceUrl": url, "resourceData": data}]});
        let call = |state: &str| json!({"@odata.type": "#microsoft.graph.call", "state": state});
        let created = n("created", "/communications/calls/c1", call("incoming"));
        assert!(matches!(seen(&created), Seen::Incoming { call: "c1" }));
        let up = n("updated", "/communications/calls/c1", call("established"));
        assert!(matches!(seen(&up), Seen::Established { call: "c1" }));
        let op = n(
            "deleted",
            "/communications/calls/c1/operations/o1",
            json!({"@odata.type": "#microsoft.graph.recordOperation", "status": "completed"}),
        );
        assert!(matches!(seen(&op), Seen::RecordFinished { call: "c1" }));
        let gone = n("deleted", "/communications/calls/c1", call("terminated"));
        assert!(matches!(seen(&gone), Seen::CallDeleted));
        let other = n("updated", "/communications/calls/c1", call("establishing"));
        assert!(matches!(seen(&other), Seen::Other));
    }
}
