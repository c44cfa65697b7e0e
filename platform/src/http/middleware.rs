//! Request ids, the client's address and HTTP metrics.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ipnetwork::IpNetwork;
use tracing::Instrument;
use uuid::Uuid;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of the current request, available to handlers.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Takes `x-request-id` from the client (when sane) or makes one; puts it in
/// the tracing span, the handlers' extensions and the response.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let client = ClientAddr::of(&req);
    let span = tracing::info_span!("request", request_id = %id, client = %client, method = %req.method(), path = %req.uri().path());
    let mut res = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    res
}

/// The networks whose `X-Forwarded-For` is believed
/// (`TICKETERA_TRUSTED_PROXIES`): the gateways in front of the service.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNetwork>);

impl TrustedProxies {
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted proxy;
    /// then the right-most `X-Forwarded-For` entry that is not a trusted
    /// proxy (entries left of it were written by the client and prove
    /// nothing). An unreadable entry stops the walk at the hop that wrote it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let entries: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .flat_map(|v| v.to_str().map(|s| s.split(',')).into_iter().flatten())
            .collect();
        for entry in entries.iter().rev() {
            let Some(ip) = forwarded_ip(entry) else {
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    e.parse::<IpAddr>()
        .ok()
        .or_else(|| e.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The client's address, computed once at the HTTP edge by [`client_addr`]
/// (trusted proxies applied); `None` when the transport has no peer.
/// Used for throttling, logs and dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    fn of(req: &Request) -> ClientAddr {
        req.extensions()
            .get::<ClientAddr>()
            .copied()
            .unwrap_or_else(|| {
                ClientAddr(
                    req.extensions()
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip().to_canonical()),
                )
            })
    }
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("unknown"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or_else(|| {
                ClientAddr(
                    parts
                        .extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip().to_canonical()),
                )
            }))
    }
}

/// Puts the [`ClientAddr`] in the request's extensions; runs before
/// [`request_id`], which adds it to the request span.
pub async fn client_addr(
    State(proxies): State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = ClientAddr(peer.map(|p| proxies.client(p, req.headers())));
    req.extensions_mut().insert(client);
    next.run(req).await
}

/// Latency histogram and counts by route template (low cardinality: never the raw path).
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let elapsed = start.elapsed().as_secs_f64();
    metrics::counter!("ticketera_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.clone())
        .increment(1);
    metrics::histogram!("ticketera_http_request_duration_seconds", "method" => method, "route" => route, "status" => status)
        .record(elapsed);
    if res.status().is_server_error() {
        tracing::warn!(status = %res.status(), "server error answered");
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies(nets.iter().map(|n| n.parse().expect("cidr")).collect())
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(&X_FORWARDED_FOR, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        let peer = ip("127.0.0.1");
        // The client wrote a forged entry on the left; the gateway appended the real one.
        let h = xff(&["198.51.100.7, 203.0.113.9, 10.1.2.3"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
        // Several headers are one list, in order.
        let h = xff(&["198.51.100.7", "203.0.113.9:4711", "10.1.2.3"]);
        assert_eq!(p.client(peer, &h), ip("203.0.113.9"));
        let h = xff(&["[2001:db8::5]:443"]);
        assert_eq!(p.client(peer, &h), ip("2001:db8::5"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = xff(&["203.0.113.9"]);
        assert_eq!(p.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &h),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn garbage_or_nothing_stops_at_the_last_trusted_hop() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(p.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        let h = xff(&["203.0.113.9, not-an-ip, 10.0.0.2"]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("10.0.0.2"));
        // Every hop trusted: the left-most.
        let h = xff(&["10.0.0.3, 10.0.0.2"]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("10.0.0.3"));
        // An IPv4-mapped peer is its IPv4 address.
        let h = xff(&["203.0.113.9"]);
        assert_eq!(p.client(ip("::ffff:10.0.0.1"), &h), ip("203.0.113.9"));
    }
}
