//! Request bodies at the HTTP edge, one way for every service: the media
//! type checked (415), the size bounded (413), JSON parsed strictly (400
//! malformed, 422 well-formed but invalid, with the field's path).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::ApiError;

/// A JSON body, parsed by us so every failure has the right status and a
/// problem body. Keeps a hash of the raw bytes for `Idempotency-Key`. The
/// size limit is the router's `DefaultBodyLimit`.
pub struct JsonBody<T> {
    pub value: T,
    pub hash: String,
}

/// The media type of a request, lower-case, without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

/// `application/json` or any `application/…+json`.
pub fn is_json(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|m| {
        m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
    })
}

pub fn unsupported_media_type(expected: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("expected Content-Type: {expected}"),
    )
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
}

pub fn body_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// Reads a body of at most `limit` bytes (413 beyond, before reading it
/// all when Content-Length says so).
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("length limit") || text.contains("too large") {
            too_large(limit)
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })
}

/// A JSON body of at most `limit` bytes (for routes with a limit of their own).
pub async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    if !is_json(headers) {
        return Err(unsupported_media_type("application/json"));
    }
    parse_json(&read_limited(headers, body, limit).await?)
}

async fn read_body(req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is too large",
            )
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the body is not valid UTF-8",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::validation(
                if path == "." { "body" } else { &path },
                format!("{path}: {inner}"),
            ),
            _ => ApiError::bad_request("malformed_json", format!("malformed JSON: {inner}")),
        }
    })?;
    // Only whitespace may follow the value: `{..} trailing` or `{..}{..}` is malformed.
    de.end()
        .map_err(|e| ApiError::bad_request("malformed_json", format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// A request body read but not yet judged: a handler checks the caller's
/// role first and parses after ([`DeferredJson::parse`]), so that a caller
/// without the right gets 403 whatever the body holds. Same rules as
/// [`JsonBody`] (which is this, parsed at once).
pub struct DeferredJson {
    bytes: Result<Bytes, ApiError>,
    json: bool,
    method: String,
    path: String,
}

impl DeferredJson {
    pub fn parse<T: DeserializeOwned>(self) -> Result<JsonBody<T>, ApiError> {
        let bytes = self.bytes?;
        // A command without parameters may come with no body at all.
        let value = if bytes.is_empty() {
            parse_json(b"{}")?
        } else if !self.json {
            return Err(unsupported_media_type("application/json"));
        } else {
            parse_json(&bytes)?
        };
        Ok(JsonBody {
            value,
            hash: body_hash(&self.method, &self.path, &bytes),
        })
    }
}

impl<S> FromRequest<S> for DeferredJson
where
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        Ok(DeferredJson {
            bytes: read_body(req).await,
            json,
            method,
            path,
        })
    }
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(deferred) = DeferredJson::from_request(req, state).await;
        deferred.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_type(ct: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        h
    }

    #[test]
    fn json_content_types() {
        assert!(is_json(&with_type("application/json")));
        assert!(is_json(&with_type("application/json; charset=utf-8")));
        assert!(is_json(&with_type("Application/Merge-Patch+JSON")));
        assert!(!is_json(&with_type("text/plain")));
        assert!(!is_json(&with_type("text/json+json")));
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn json_is_parsed_strictly() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: u8,
        }
        assert!(parse_json::<T>(br#"{"n": 1}"#).is_ok());
        assert_eq!(
            parse_json::<T>(br#"{"n": 1} x"#).unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse_json::<T>(br#"{"n": 300}"#).unwrap_err().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            parse_json::<T>(b"\xff").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }
}
