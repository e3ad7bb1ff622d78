//! DTMF carried in SIP INFO bodies: `application/dtmf-relay` (`Signal=5\r\nDuration=160`) and
//! `application/dtmf` (the body is the digit).

/// What an INFO body asks of us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InfoBody {
    Digit {
        digit: char,
        duration_ms: Option<u32>,
    },
    /// An empty INFO (keep-alive probes): 200.
    Empty,
    /// Another package: 415.
    Unsupported,
    /// A DTMF content type with a body we cannot read: 400.
    Malformed,
}

pub(crate) fn classify(content_type: Option<&str>, body: &[u8]) -> InfoBody {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media.as_deref() {
        _ if body.is_empty() => InfoBody::Empty,
        Some("application/dtmf-relay") => relay(body).unwrap_or(InfoBody::Malformed),
        Some("application/dtmf") => std::str::from_utf8(body)
            .ok()
            .and_then(|s| digit(s.trim()))
            .map_or(InfoBody::Malformed, |digit| InfoBody::Digit {
                digit,
                duration_ms: None,
            }),
        _ => InfoBody::Unsupported,
    }
}

fn relay(body: &[u8]) -> Option<InfoBody> {
    let text = std::str::from_utf8(body).ok()?;
    let mut signal = None;
    let mut duration_ms = None;
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "signal" => signal = digit(v.trim()),
            "duration" => duration_ms = v.trim().parse().ok(),
            _ => {}
        }
    }
    Some(InfoBody::Digit {
        digit: signal?,
        duration_ms,
    })
}

/// A digit written as itself or as its RFC 4733 event code (10 = `*`, 11 = `#`, 12–15 = A–D).
fn digit(s: &str) -> Option<char> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => {
            let c = c.to_ascii_uppercase();
            (c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')).then_some(c)
        }
        _ => match s.parse::<u8>().ok()? {
            10 => Some('*'),
            11 => Some('#'),
            code @ 12..=15 => Some(char::from(b'A' + (code - 12))),
            _ => None,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn both_dtmf_body_types_yield_digits() {
        assert_eq!(
            classify(
                Some("application/dtmf-relay"),
                b"Signal=5\r\nDuration=160\r\n"
            ),
            InfoBody::Digit {
                digit: '5',
                duration_ms: Some(160)
            }
        );
        assert_eq!(
            classify(Some("application/dtmf-relay"), b"Signal= 11\r\n"),
            InfoBody::Digit {
                digit: '#',
                duration_ms: None
            }
        );
        assert_eq!(
            classify(Some("Application/DTMF"), b"*"),
            InfoBody::Digit {
                digit: '*',
                duration_ms: None
            }
        );
        assert_eq!(
            classify(Some("application/json"), b"{}"),
            InfoBody::Unsupported
        );
        assert_eq!(
            classify(Some("application/dtmf"), b"xy"),
            InfoBody::Malformed
        );
        assert_eq!(classify(None, b""), InfoBody::Empty);
    }
}
