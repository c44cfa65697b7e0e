//! `POST /api/v1/integrations/webhook`: FortiSIEM incidents as XML or JSON
//! (README.md, "HTTP"; docs/ingest.md). Bearer token of a role that may raise alerts; optional
//! Standard Webhooks signature (HMAC-SHA256 over `id.timestamp.body`, secret
//! `whsec_<base64>`) with a replay window, in which each `webhook-id` is
//! taken once (a replay is `409 replayed_webhook`); body limit; XML with a
//! DTD is refused before anything is expanded. Answers `202` with the outcome.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use domain::Action;
use hmac::{Hmac, Mac};
use platform::event_store::Channel;
use platform::housekeeping::Expiring;
use platform::http::ApiError;
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::correlate::{Outcome, OutcomeKind};
use crate::dead_letters::sanitize_reason;
use crate::metrics::metrics;
use crate::parse::{clean, fortisiem, RAW_MAX_CHARS};
use crate::rules::Decision;
use crate::{Ingest, Transport};
use platform::http::body::{media_type, read_limited};
use platform::http::Principal;

/// How long a webhook call waits for its alert to reach a ticket.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest `webhook-id` taken (Standard Webhooks ids are `msg_` and a few
/// dozen characters); each is a row for the replay window.
const WEBHOOK_ID_MAX: usize = 256;

/// Latest `webhook-timestamp` that is a time at all (9999-12-31T23:59:59Z);
/// with it and 0 as bounds no arithmetic on a timestamp can overflow.
const TIMESTAMP_MAX: i64 = 253_402_300_799;

/// Takes a signed call's id for its window: a row, unless one is there and
/// not expired yet (then no row comes back: a replay). Several instances
/// behind a load balancer share it.
const TAKE_ID: &str = "INSERT INTO webhook_ids (id, expires_at) VALUES ($1, to_timestamp($2))
ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at
  WHERE webhook_ids.expires_at < now()
RETURNING id";

/// Gives an id back when its call was not taken after all (the sender
/// retries with the same id).
const GIVE_BACK_ID: &str = "DELETE FROM webhook_ids WHERE id = $1";

/// The ids of signed calls, each kept until its timestamp leaves the
/// window (after which a replay is stale anyway).
pub const SEEN_IDS: Expiring = Expiring {
    table: "webhook_ids",
    delete: "DELETE FROM webhook_ids WHERE expires_at < now()",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Xml,
    Json,
}

fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    match media_type(headers).as_deref() {
        Some("application/xml" | "text/xml") => Ok(BodyKind::Xml),
        Some(m) if m.starts_with("application/") && m.ends_with("+xml") => Ok(BodyKind::Xml),
        Some("application/json") => Ok(BodyKind::Json),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/xml (FortiSIEM incident XML) or application/json",
        )),
    }
}

fn unauthorized(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, detail.to_string())
}

/// The key of a `whsec_<base64>` secret (a secret without the prefix or
/// not in base64 is used as its bytes).
pub fn secret_key(secret: &str) -> Vec<u8> {
    let s = secret.trim();
    let b64 = s.strip_prefix("whsec_").unwrap_or(s);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_else(|_| s.as_bytes().to_vec())
}

/// `v1,<base64>` of HMAC-SHA256(key, `id.timestamp.body`).
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// A call whose signature holds: its id, and until when (seconds since the
/// epoch) a replay of it would still be in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCall {
    pub id: String,
    pub replayable_until: i64,
}

/// Checks the Standard Webhooks headers against the secret.
pub fn verify_signature(
    key: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    tolerance_secs: i64,
    now: i64,
) -> Result<SignedCall, ApiError> {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (Some(id), Some(ts), Some(sigs)) = (
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
    ) else {
        return Err(unauthorized(
            "signature_required",
            "webhook-id, webhook-timestamp and webhook-signature are required",
        ));
    };
    if id.len() > WEBHOOK_ID_MAX {
        return Err(ApiError::bad_request(
            "invalid_webhook_id",
            format!("webhook-id is longer than {WEBHOOK_ID_MAX} bytes"),
        ));
    }
    let ts = ts
        .parse::<i64>()
        .ok()
        .filter(|ts| (0..=TIMESTAMP_MAX).contains(ts))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_timestamp",
                "webhook-timestamp must be whole seconds since the epoch (0 to 253402300799)",
            )
        })?;
    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now.abs_diff(ts) > tolerance {
        return Err(unauthorized(
            "stale_timestamp",
            "webhook-timestamp is outside the accepted window",
        ));
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Err(ApiError::internal("webhook secret unusable"));
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let ok = sigs
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .is_ok_and(|sig| mac.clone().verify_slice(&sig).is_ok())
        });
    if ok {
        Ok(SignedCall {
            id: id.to_string(),
            replayable_until: ts.saturating_add(tolerance_secs.max(0)),
        })
    } else {
        Err(unauthorized(
            "invalid_signature",
            "the webhook signature does not match",
        ))
    }
}

fn answer(outcome: &Outcome) -> Response {
    let mut body = Map::new();
    body.insert("outcome".into(), json!(outcome.kind.as_str()));
    if let Some(id) = outcome.ticket_id {
        body.insert("ticket_id".into(), json!(id));
    }
    if let Some(n) = &outcome.number {
        body.insert("number".into(), json!(n));
    }
    if let Some(p) = &outcome.position {
        body.insert("position".into(), json!(p));
    }
    (StatusCode::ACCEPTED, Json(Value::Object(body))).into_response()
}

/// What the webhook did with an incident.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookAnswer {
    /// `opened`, `correlated`, `updated`, `suppressed` or `not_alert`.
    pub outcome: String,
    /// The ticket touched, absent when none was.
    pub ticket_id: Option<uuid::Uuid>,
    pub number: Option<String>,
    /// Opaque cursor of the ticket's event, for read-your-writes.
    pub position: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/integrations/webhook", tag = "integrations",
    request_body(description = "A FortiSIEM incident (XML or JSON)", content((String = "application/xml"), (String = "application/json"))),
    params(
        ("webhook-id" = Option<String>, Header, description = "Standard Webhooks id (with a configured secret)"),
        ("webhook-timestamp" = Option<String>, Header, description = "Seconds since the epoch"),
        ("webhook-signature" = Option<String>, Header, description = "v1,<base64 HMAC-SHA256 of id.timestamp.body>"),
    ),
    responses((status = 202, body = WebhookAnswer), (status = 400, description = "Malformed or DTD-carrying XML (dead-lettered), or a webhook-timestamp that is no time (invalid_timestamp)"),
        (status = 401, description = "No valid token, or a wrong or stale signature"), (status = 403),
        (status = 409, description = "A webhook-id already taken within the replay window (replayed_webhook)"), (status = 413), (status = 415)),
    security(("bearer" = [])))]
pub async fn webhook(
    State(ingest): State<Ingest>,
    caller: Principal,
    req: Request,
) -> Result<Response, ApiError> {
    caller.require(Action::RaiseAlert)?;
    // The client behind the gateway, as the HTTP edge computed it.
    let peer = req
        .extensions()
        .get::<platform::http::middleware::ClientAddr>()
        .and_then(|c| c.0)
        .or_else(|| {
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .map(|ip| ip.to_string());
    let (parts, body) = req.into_parts();
    let kind = body_kind(&parts.headers)?;
    let settings = &ingest.settings;
    let bytes = read_limited(&parts.headers, body, settings.webhook_body_limit_bytes).await?;
    let signed = match &settings.webhook_secret {
        Some(secret) => {
            let key = secret_key(secret.expose_secret());
            let call = verify_signature(
                &key,
                &parts.headers,
                &bytes,
                settings.webhook_tolerance_secs,
                chrono::Utc::now().timestamp(),
            )?;
            take_id(&ingest, &call).await?;
            Some(call)
        }
        None => None,
    };
    let answered = take(&ingest, &caller, peer, kind, &bytes).await;
    if let (Err(_), Some(call)) = (&answered, &signed) {
        // Not taken: the sender may retry with the same id.
        if let Err(e) = sqlx::query(GIVE_BACK_ID)
            .bind(&call.id)
            .execute(&ingest.pool)
            .await
        {
            tracing::warn!(error = %e, "webhook id not given back; a retry with it is refused until it expires");
        }
    }
    answered
}

/// Takes the call's id for the replay window, or refuses a replay.
async fn take_id(ingest: &Ingest, call: &SignedCall) -> Result<(), ApiError> {
    let taken: Option<String> = sqlx::query_scalar(TAKE_ID)
        .bind(&call.id)
        .bind(call.replayable_until as f64)
        .fetch_optional(&ingest.pool)
        .await
        .map_err(ApiError::internal)?;
    if taken.is_none() {
        // Refused before it is received, as a bad signature is: the
        // accounting identity of /metrics does not see it.
        ::metrics::counter!("ticketera_ingest_webhook_replays_total").increment(1);
        tracing::info!(webhook_id = ?call.id, "webhook replay refused");
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "replayed_webhook",
            "this webhook-id was already taken within the replay window",
        ));
    }
    Ok(())
}

/// Parses, decides and correlates one incident; the answer of the call.
async fn take(
    ingest: &Ingest,
    caller: &Principal,
    peer: Option<String>,
    kind: BodyKind,
    bytes: &[u8],
) -> Result<Response, ApiError> {
    let m = metrics();
    m.received(Transport::Webhook, 1);
    let parsed = match kind {
        BodyKind::Xml => fortisiem::parse_xml(bytes),
        BodyKind::Json => fortisiem::parse_json(bytes),
    };
    let mut event = match parsed {
        Ok(e) => e,
        Err(e) => {
            m.dead_lettered(Transport::Webhook, 1);
            // The reason quotes the body (an element name, say): sanitized
            // once, the same text is stored, logged and answered, and
            // none of them can carry a NUL.
            let reason = sanitize_reason(&e.to_string());
            if let Err(err) = ingest
                .dead_letters
                .store(Transport::Webhook, peer, &reason, bytes)
                .await
            {
                tracing::error!(error = %err, "webhook dead letter not stored");
            }
            tracing::info!(principal = %caller.name, ?reason, "webhook body refused");
            return Err(ApiError::bad_request("malformed_body", reason));
        }
    };
    m.parsed(1);
    if event.raw.is_empty() {
        event.raw = clean(&String::from_utf8_lossy(bytes))
            .chars()
            .take(RAW_MAX_CHARS)
            .collect();
    }
    let alert = match ingest.rules.current().decide(&event) {
        Decision::NotAlert { .. } => {
            m.not_alert(1);
            return Ok(answer(&Outcome::without_ticket(OutcomeKind::NotAlert)));
        }
        Decision::Suppressed { .. } => {
            m.suppressed(1);
            return Ok(answer(&Outcome::without_ticket(OutcomeKind::Suppressed)));
        }
        Decision::Alert(a) => a,
    };
    m.alerts(1);
    let (tx, rx) = tokio::sync::oneshot::channel();
    ingest.correlator.submit(alert, Channel::Webhook, Some(tx));
    match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
        Ok(Ok(Ok(outcome))) => Ok(answer(&outcome)),
        Ok(Ok(Err(e))) => Err(ApiError::unavailable(e)),
        Ok(Err(_)) | Err(_) => Err(ApiError::unavailable(
            "the alert was accepted but its ticket is not confirmed yet",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_signature_round_trip() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let key = secret_key(secret);
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        // The Standard Webhooks reference vector.
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let mut headers = HeaderMap::new();
        headers.insert(
            "webhook-id",
            "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().expect("h"),
        );
        headers.insert("webhook-timestamp", "1614265330".parse().expect("h"));
        headers.insert(
            "webhook-signature",
            format!("v1,bm90IGl0 {sig}").parse().expect("h"),
        );
        assert!(verify_signature(&key, &headers, body, 300, 1614265330 + 10).is_ok());
        assert_eq!(
            verify_signature(&key, &headers, body, 300, 1614265330 + 301)
                .err()
                .map(|e| e.status()),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert!(verify_signature(&key, &headers, b"{}", 300, 1614265330).is_err());
        let call = verify_signature(&key, &headers, body, 300, 1614265330).expect("signed");
        assert_eq!(call.id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
        assert_eq!(call.replayable_until, 1614265330 + 300);
    }

    #[test]
    fn timestamps_at_the_ends_of_i64_are_refused_without_overflow() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        for ts in [i64::MIN, -1, i64::MAX, TIMESTAMP_MAX + 1] {
            let mut headers = HeaderMap::new();
            headers.insert("webhook-id", "msg_1".parse().expect("h"));
            headers.insert("webhook-timestamp", ts.to_string().parse().expect("h"));
            headers.insert(
                "webhook-signature",
                sign(&key, "msg_1", ts, b"{}").parse().expect("h"),
            );
            for now in [0, 1_614_265_330, i64::MAX, i64::MIN] {
                let e = verify_signature(&key, &headers, b"{}", i64::MAX, now).err();
                assert_eq!(
                    e.map(|e| e.status()),
                    Some(StatusCode::BAD_REQUEST),
                    "{ts} at {now}"
                );
            }
        }
    }
}
