//! The browser session: the SPA's refresh token travels only in an
//! `HttpOnly; SameSite=Strict` cookie scoped to `/api/v1/auth`, never in a
//! body a script can read (docs/auth.md).
//!
//! A request opts in with `X-Ticketera-Session: cookie`. That header is the
//! CSRF guard: a cross-site form or image cannot set it, and a cross-site
//! `fetch` that sets it needs a CORS preflight our strict CORS refuses. On
//! top, a request that carries an `Origin` must come from this host (or a
//! configured CORS origin). API clients that send no such header keep the
//! refresh token in the body, as RFC 6749 has it.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;

pub const SESSION_HEADER: &str = "x-ticketera-session";
pub const REFRESH_COOKIE: &str = "ticketera_refresh";
pub const COOKIE_PATH: &str = "/api/v1/auth";

/// Whether the request asked for the cookie session.
pub fn wants_cookie(headers: &HeaderMap) -> bool {
    headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("cookie"))
}

/// Whether the request's `Origin`, when it has one, is this host or one of
/// `allowed` (the configured CORS origins).
pub fn same_origin(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Same-origin GETs and non-browser clients send none.
        return true;
    };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Whether the browser reached us over HTTPS (directly or through the
/// gateway, which sets `X-Forwarded-Proto`): the cookie is then `Secure`.
fn over_https(headers: &HeaderMap) -> bool {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| o.starts_with("https://"));
    forwarded || origin
}

/// The refresh token from the request's cookie.
pub fn refresh_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn cookie(value: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{REFRESH_COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// Sets the refresh cookie on `res`.
pub fn set(res: &mut Response, request: &HeaderMap, token: &str, ttl_secs: i64) {
    if let Some(v) = cookie(token, ttl_secs, over_https(request)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Expires the refresh cookie on `res`.
pub fn clear(res: &mut Response, request: &HeaderMap) {
    if let Some(v) = cookie("", 0, over_https(request)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_refresh_token_is_read_from_its_own_cookie_only() {
        let h = headers(&[("cookie", "a=1; ticketera_refresh=abc.def ; b=2")]);
        assert_eq!(refresh_token(&h).as_deref(), Some("abc.def"));
        assert_eq!(
            refresh_token(&headers(&[("cookie", "x_ticketera_refresh=1")])),
            None
        );
        assert_eq!(
            refresh_token(&headers(&[("cookie", "ticketera_refresh=")])),
            None
        );
        assert_eq!(refresh_token(&HeaderMap::new()), None);
    }

    #[test]
    fn a_foreign_origin_is_refused_and_same_host_or_configured_ones_pass() {
        let host = ("host", "soc.example:8080");
        assert!(same_origin(&headers(&[host]), &[]));
        assert!(same_origin(
            &headers(&[host, ("origin", "http://soc.example:8080")]),
            &[]
        ));
        assert!(!same_origin(
            &headers(&[host, ("origin", "https://evil.example")]),
            &[]
        ));
        assert!(same_origin(
            &headers(&[host, ("origin", "https://ui.example")]),
            &["https://ui.example".into()]
        ));
        assert!(!same_origin(&headers(&[host, ("origin", "null")]), &[]));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_secure_over_https() {
        let plain = cookie("t", 60, false).unwrap();
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(plain.contains("Path=/api/v1/auth") && !plain.contains("Secure"));
        assert!(over_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(!over_https(&headers(&[("x-forwarded-proto", "http")])));
        assert!(wants_cookie(&headers(&[(SESSION_HEADER, "cookie")])));
        assert!(!wants_cookie(&headers(&[(SESSION_HEADER, "body")])));
    }
}
