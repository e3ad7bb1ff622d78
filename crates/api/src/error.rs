//! Every way an API request can fail, and the one mapping to the Graph error envelope.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use recorder::params::ParamError;

use crate::clock;
use crate::engine::{CallState, EngineError};

/// Seconds a client should wait before retrying a `503`.
pub const RETRY_AFTER_SECONDS: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The body is not JSON at all, or not an object.
    #[error("request body is not valid JSON: {reason}")]
    MalformedJson { reason: String },
    /// A field has the wrong type, is missing, or is out of range; `field` is its JSON path.
    #[error("{field} {problem}")]
    InvalidField { field: String, problem: String },
    #[error("{0}")]
    Param(#[from] ParamError),
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    #[error("the token lacks the {role} role")]
    AccessDenied { role: &'static str },
    #[error("Call not found.")]
    CallNotFound,
    #[error("operation not found")]
    OperationNotFound,
    #[error("recording not found")]
    RecordingNotFound,
    #[error("no resource at this path")]
    RouteNotFound,
    #[error("method not allowed on this resource")]
    MethodNotAllowed,
    #[error("action not allowed while the call is {state}")]
    NotAllowed { state: CallState },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("range not satisfiable")]
    RangeNotSatisfiable { len: u64 },
    #[error("service unavailable, retry later")]
    Unavailable,
    /// Too many requests in flight; refused before anything was started.
    #[error("too many requests, retry later")]
    TooManyRequests,
    #[error("internal error: {reason}")]
    Internal { reason: &'static str },
    /// Start-up only: a configured value cannot be used.
    #[error("invalid configuration: {what}")]
    InvalidConfig { what: &'static str },
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound => Error::CallNotFound,
            EngineError::NotAllowed { state } => Error::NotAllowed { state },
            EngineError::Unavailable => Error::Unavailable,
            EngineError::BadTarget { reason } => Error::field("targets", reason),
            EngineError::Internal { reason } => Error::Internal { reason },
        }
    }
}

impl Error {
    pub fn field(field: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::InvalidField {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Status and Graph error code: the one place errors meet the wire.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::MalformedJson { .. } | Error::InvalidField { .. } | Error::Param(_) => {
                (StatusCode::BAD_REQUEST, "invalidRequest")
            }
            Error::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Error::AccessDenied { .. } => (StatusCode::FORBIDDEN, "accessDenied"),
            // Graph answers an unknown call with code "8522".
            Error::CallNotFound => (StatusCode::NOT_FOUND, "8522"),
            Error::OperationNotFound | Error::RecordingNotFound | Error::RouteNotFound => {
                (StatusCode::NOT_FOUND, "itemNotFound")
            }
            Error::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "methodNotAllowed"),
            Error::NotAllowed { .. } => (StatusCode::CONFLICT, "notAllowed"),
            Error::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "requestEntityTooLarge"),
            Error::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupportedMediaType")
            }
            Error::RangeNotSatisfiable { .. } => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                "requestedRangeNotSatisfiable",
            ),
            Error::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable"),
            Error::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "tooManyRequests"),
            Error::Internal { .. } | Error::InvalidConfig { .. } => {
                (StatusCode::INTERNAL_SERVER_ERROR, "generalException")
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        let body = serde_json::json!({
            "error": {
                "code": code,
                "message": self.to_string(),
                "innerError": {
                    "request-id": uuid::Uuid::new_v4().to_string(),
                    "date": clock::rfc3339(clock::unix_seconds()),
                }
            }
        });
        let mut resp = (status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        match &self {
            Error::Unavailable | Error::TooManyRequests => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            Error::Unauthenticated => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::RangeNotSatisfiable { len } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[tokio::test]
    async fn unavailable_carries_retry_after_and_envelope() {
        let resp = Error::Unavailable.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "serviceNotAvailable");
        assert!(v["error"]["innerError"]["request-id"].is_string());
        assert!(v["error"]["innerError"]["date"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
    }
}
