//! Static pages served from this origin (no CDN): the SPA at `/` with its
//! history routes, and the helpers GraphiQL's page uses too.
//!
//! Files are read from the web directory at request time, so a rebuilt
//! `web/dist` needs no restart. Hashed assets are cached for good;
//! `index.html` never is, so a deploy takes effect on the next load.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::ApiError;

/// The SPA's policy: its own scripts, styles, fonts and API only; no
/// inline script, no framing.
pub const SPA_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; \
object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Paths that belong to the APIs: never answered with the SPA.
const API_PREFIXES: [&str; 5] = ["/api/", "/graphql", "/healthz", "/readyz", "/metrics"];

pub fn with_page_headers(mut res: Response, content_type: &str, cache: &'static str) -> Response {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// A relative path of plain names only (no `..`, no root).
pub fn safe_relative(path: &str) -> Option<PathBuf> {
    if path.is_empty() || path.len() > 256 || path.contains('\\') {
        return None;
    }
    let p = Path::new(path);
    p.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| p.to_path_buf())
}

pub fn content_type_of(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "ttf" => "font/ttf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[derive(Clone)]
struct WebDir(PathBuf);

/// The SPA: `/assets/*` from `<web_dir>/assets`, top-level files of
/// `<web_dir>` (favicon…), and `index.html` for every other GET that is not
/// an API path (history routes such as `/tickets/SOC-12`). Anything else is
/// a problem 404.
pub fn spa(web_dir: PathBuf) -> Router {
    Router::new()
        .route("/assets/{*path}", get(asset))
        .fallback(page)
        .with_state(WebDir(web_dir))
}

fn not_built() -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "spa_not_built",
        "the web app is not built: run scripts/run (or cd web && npm ci && npm run build)",
    )
    .into_response()
}

async fn asset(State(dir): State<WebDir>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(rel) = safe_relative(&path) else {
        return ApiError::not_found("asset").into_response();
    };
    match tokio::fs::read(dir.0.join("assets").join(&rel)).await {
        Ok(bytes) => with_page_headers(
            (StatusCode::OK, Body::from(bytes)).into_response(),
            content_type_of(&rel),
            "public, max-age=31536000, immutable",
        ),
        Err(_) => ApiError::not_found("asset").into_response(),
    }
}

/// Whether `path` is an API path, which the SPA never answers.
fn is_api(path: &str) -> bool {
    API_PREFIXES
        .iter()
        .any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
}

async fn page(State(dir): State<WebDir>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if !(method == Method::GET || method == Method::HEAD) || is_api(path) {
        return ApiError::not_found("resource").into_response();
    }
    // A top-level file of the build (favicon.svg, robots.txt): as it is.
    let name = path.trim_start_matches('/');
    if !name.is_empty() && !name.contains('/') && name != "index.html" {
        if let Some(rel) = safe_relative(name).filter(|r| r.extension().is_some()) {
            if let Ok(bytes) = tokio::fs::read(dir.0.join(&rel)).await {
                return with_page_headers(
                    (StatusCode::OK, Body::from(bytes)).into_response(),
                    content_type_of(&rel),
                    "public, max-age=3600",
                );
            }
            // A missing file with an extension is a 404, not the app.
            return ApiError::not_found("file").into_response();
        }
    }
    match tokio::fs::read(dir.0.join("index.html")).await {
        Ok(html) => {
            let mut res = with_page_headers(
                (StatusCode::OK, Body::from(html)).into_response(),
                "text/html; charset=utf-8",
                "no-cache",
            );
            res.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(SPA_CSP),
            );
            res
        }
        Err(_) => not_built(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_paths_stay_inside_the_directory() {
        assert!(safe_relative("index-abc.js").is_some());
        assert!(safe_relative("sub/x.css").is_some());
        assert!(safe_relative("../secret").is_none());
        assert!(safe_relative("/etc/passwd").is_none());
        assert!(safe_relative("a/../../b").is_none());
        assert!(safe_relative("").is_none());
    }

    #[test]
    fn api_paths_are_never_the_app() {
        for p in [
            "/api/v1/tickets",
            "/graphql",
            "/graphql/ws",
            "/healthz",
            "/metrics",
            "/api/",
        ] {
            assert!(is_api(p), "{p}");
        }
        for p in [
            "/",
            "/tickets",
            "/tickets/SOC-1",
            "/dashboard",
            "/admin/users",
        ] {
            assert!(!is_api(p), "{p}");
        }
    }
}
