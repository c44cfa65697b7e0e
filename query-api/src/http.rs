//! GraphQL over HTTP (POST and GET /graphql, following the GraphQL over HTTP
//! spec's media types and status codes), and the GraphiQL page and its
//! assets, served from this origin.

// Helpers return the finished `Response` as their error: it is the answer.
#![allow(clippy::result_large_err)]

use std::path::Path;

use async_graphql::{BatchResponse, Request as GqlRequest, Response as GqlResponse, Variables};
use axum::body::Body;
use axum::extract::{Path as UrlPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use platform::auth::authenticate::{self, AuthError};
use platform::http::static_files::{content_type_of, safe_relative, with_page_headers};
use platform::http::ApiError;
use platform::position::Position;
use serde_json::{json, Value};

use crate::consistency::MinPosition;
use crate::viewer::Viewer;
use crate::QueryApi;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const MIN_POSITION_HEADER: &str = "x-min-position";

/// The response media type the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `application/json`: 200 for every well-formed request.
    Json,
    /// `application/graphql-response+json`: 4xx when nothing executed.
    GraphqlResponse,
}

impl Mode {
    fn content_type(self) -> &'static str {
        match self {
            Mode::Json => "application/json; charset=utf-8",
            Mode::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// Picks the media type from `Accept` (highest q, earliest on ties); `None`
/// when neither JSON type is acceptable.
pub fn negotiate(accept: Option<&str>) -> Option<Mode> {
    let accept = match accept.map(str::trim) {
        None | Some("") => return Some(Mode::Json),
        Some(a) => a,
    };
    let mut best: Option<(f32, Mode)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let mode = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => Mode::GraphqlResponse,
            "application/json" | "application/*" | "*/*" => Mode::Json,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, mode));
        }
    }
    best.map(|(_, m)| m)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

fn problem(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Response {
    ApiError::new(status, code, detail).into_response()
}

/// A request-level failure (nothing executed) as a GraphQL error body.
fn request_error(mode: Mode, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]});
    let status = match mode {
        Mode::Json => StatusCode::OK,
        Mode::GraphqlResponse => StatusCode::BAD_REQUEST,
    };
    json_response(status, mode, &body)
}

/// A body that is no GraphQL-over-HTTP request at all (not JSON, or JSON
/// that is neither a request object nor an array of them): 400 in either
/// media type, as the spec asks ("JSON parsing failure" SHOULD be 400 also
/// for `application/json`), with a GraphQL-style error body. Only requests
/// that did parse get `application/json`'s 200.
fn unreadable_body(mode: Mode, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]});
    json_response(StatusCode::BAD_REQUEST, mode, &body)
}

fn json_response(status: StatusCode, mode: Mode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mode.content_type()),
    );
    res
}

/// Whether nothing executed: no data and only errors without a path (parse,
/// validation, limits, variables).
pub fn is_request_error(resp: &GqlResponse) -> bool {
    resp.data == async_graphql::Value::Null
        && !resp.errors.is_empty()
        && resp.errors.iter().all(|e| e.path.is_empty())
}

/// The response body: without `data` when nothing executed.
#[derive(serde::Serialize)]
struct ResponseBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

fn body_of(resp: &GqlResponse) -> ResponseBody<'_> {
    ResponseBody {
        data: (!is_request_error(resp)).then_some(&resp.data),
        errors: &resp.errors,
        extensions: &resp.extensions,
    }
}

/// The response body as JSON.
pub fn render(resp: &GqlResponse) -> Value {
    serde_json::to_value(body_of(resp)).unwrap_or(Value::Null)
}

fn graphql_response(status: StatusCode, mode: Mode, resp: &GqlResponse) -> Response {
    let bytes = serde_json::to_vec(&body_of(resp)).unwrap_or_default();
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mode.content_type()),
    );
    res
}

/// Reads the GraphQL request parameters of one operation.
fn params(
    query: Option<&Value>,
    operation_name: Option<&Value>,
    variables: Option<&Value>,
) -> Result<GqlRequest, &'static str> {
    let query = match query {
        None | Some(Value::Null) => return Err("the request has no query"),
        Some(Value::String(q)) => q,
        Some(_) => return Err("query must be a string"),
    };
    let mut req = GqlRequest::new(query.clone());
    match operation_name {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => req = req.operation_name(name.clone()),
        Some(_) => return Err("operationName must be a string"),
    }
    match variables {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => req = req.variables(Variables::from_json(v.clone())),
        Some(_) => return Err("variables must be an object"),
    }
    Ok(req)
}

fn body_params(v: &Value) -> Result<GqlRequest, &'static str> {
    let obj = v
        .as_object()
        .ok_or("a GraphQL request must be a JSON object")?;
    match obj.get("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("extensions must be an object"),
    }
    params(
        obj.get("query"),
        obj.get("operationName"),
        obj.get("variables"),
    )
}

/// Authentication: the token's signature and claims now; its liveness
/// (revocation) alongside execution, whose answer is withheld unless live.
async fn verify(api: &QueryApi, headers: &HeaderMap) -> Result<platform::auth::Claims, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(authenticate::bearer_token)
        .ok_or_else(|| ApiError::unauthorized().into_response())?;
    authenticate::verify(&api.inner.keys, token)
        .await
        .map_err(auth_failure)
}

fn auth_failure(e: AuthError) -> Response {
    match e {
        AuthError::Refused(_) => ApiError::unauthorized().into_response(),
        AuthError::Unavailable(detail) => ApiError::unavailable(detail).into_response(),
    }
}

fn min_position(headers: &HeaderMap) -> Result<Option<MinPosition>, Response> {
    match headers.get(MIN_POSITION_HEADER) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<Position>().ok())
            .map(|p| Some(MinPosition(p)))
            .ok_or_else(|| {
                problem(
                    StatusCode::BAD_REQUEST,
                    "invalid_min_position",
                    "x-min-position must be a position cursor",
                )
            }),
    }
}

enum Operations {
    Single(Box<GqlRequest>),
    Batch(Vec<Result<GqlRequest, &'static str>>),
}

/// Runs the operations with the caller's data, checking the token's liveness
/// concurrently; renders the answer.
async fn execute(
    api: &QueryApi,
    claims: platform::auth::Claims,
    min: Option<MinPosition>,
    mode: Mode,
    ops: Operations,
) -> Response {
    let operations = match &ops {
        Operations::Single(_) => 1,
        Operations::Batch(reqs) => u32::try_from(reqs.len()).unwrap_or(u32::MAX),
    };
    if let Err(wait) = api.inner.rate.take(&principal_key(&claims), operations) {
        metrics::counter!("ticketera_graphql_rate_limited_total").increment(1);
        return rate_limited(wait);
    }
    let viewer = Viewer::from_claims(&claims);
    let with_data = |mut req: GqlRequest| {
        api.inner.documents.prepare(&mut req);
        let primary = api
            .inner
            .primary_read
            .as_ref()
            .filter(|_| min.is_some() || asks_min_position(&req));
        let req = req.data(viewer.clone());
        // Request data comes before the schema's: every field of this
        // request reads the primary, where the wait's checkpoint is.
        let req = match primary {
            Some(read) => req.data(read.clone()),
            None => req,
        };
        match min {
            Some(m) => req.data(m),
            None => req,
        }
    };
    let schema = &api.inner.schema;
    let live = authenticate::check_live(&api.inner.identity, &claims);
    match ops {
        Operations::Single(req) => {
            let op = crate::cost::Measurable::of(&req);
            let (live, mut resp) = tokio::join!(live, schema.execute(with_data(*req)));
            if let Err(e) = live {
                return auth_failure(e);
            }
            let budget = api.inner.limits.max_complexity;
            crate::cost::explain_refusal(&mut resp, op, &api.inner.streams, budget).await;
            let status = if mode == Mode::GraphqlResponse && is_request_error(&resp) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            graphql_response(status, mode, &resp)
        }
        Operations::Batch(reqs) => {
            // One budget for the whole batch, checked before any operation
            // runs: either all of them run or none.
            let budget = api.inner.limits.max_complexity;
            let mut valid: Vec<&GqlRequest> = Vec::with_capacity(reqs.len());
            for req in reqs.iter().flatten() {
                valid.push(req);
            }
            let cost = crate::cost::measure_batch(&api.inner.streams, &valid).await;
            if cost > budget {
                metrics::counter!("ticketera_graphql_cost_refused_total").increment(1);
                let error = crate::cost::too_costly(cost, budget);
                let body = json!({"errors": [error]});
                return json_response(StatusCode::BAD_REQUEST, mode, &body);
            }
            let run = futures::future::join_all(reqs.into_iter().map(|r| async {
                match r {
                    Ok(req) => render(&schema.execute(with_data(req)).await),
                    Err(message) => {
                        json!({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]})
                    }
                }
            }));
            let (live, bodies) = tokio::join!(live, run);
            if let Err(e) = live {
                return auth_failure(e);
            }
            json_response(StatusCode::OK, mode, &Value::Array(bodies))
        }
    }
}

/// Whose bucket a request takes from: users and OAuth2 clients apart.
fn principal_key(claims: &platform::auth::Claims) -> String {
    format!("{:?}:{}", claims.kind, claims.sub)
}

/// 429 with `Retry-After` (whole seconds, at least 1) and a problem body.
fn rate_limited(wait: std::time::Duration) -> Response {
    let secs = i64::try_from(wait.as_secs())
        .unwrap_or(i64::MAX)
        .saturating_add(1);
    let body = platform::http::Problem {
        type_: "https://ticketera.invalid/problems/rate_limited".into(),
        title: "Too Many Requests".into(),
        status: 429,
        code: "rate_limited".into(),
        detail: Some(format!(
            "too many GraphQL operations for this principal; retry after {secs} s"
        )),
        field: None,
    };
    platform::http::error::problem_response(StatusCode::TOO_MANY_REQUESTS, &body, Some(secs))
}

/// The operation names a `minPosition` argument (inline or through a
/// variable, the name is in the document). A false positive only costs the
/// standby a request it could have served.
pub(crate) fn asks_min_position(req: &GqlRequest) -> bool {
    req.query.contains("minPosition")
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// POST /graphql: one operation, or a batch (a JSON array).
pub async fn post(State(api): State<QueryApi>, req: Request) -> Response {
    let headers = req.headers().clone();
    let claims = match verify(&api, &headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(mode) = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())) else {
        return problem(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "answers are application/graphql-response+json or application/json",
        );
    };
    if !is_json_content_type(&headers) {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the GraphQL request as application/json",
        );
    }
    let min = match min_position(&headers) {
        Ok(m) => m,
        Err(res) => return res,
    };
    let bytes = match axum::body::to_bytes(req.into_body(), api.inner.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body exceeds {} bytes", api.inner.body_limit),
            )
        }
    };
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => return unreadable_body(mode, "the body is not valid JSON"),
    };
    let ops = match body {
        Value::Array(items) if !items.iter().all(Value::is_object) => {
            return unreadable_body(mode, "a batch must be an array of JSON objects");
        }
        Value::Array(items) => {
            let max = api.inner.limits.max_batch;
            if items.is_empty() {
                return request_error(mode, "an empty batch");
            }
            if items.len() > max {
                let message = format!(
                    "a batch holds at most {max} operations, this one {}",
                    items.len()
                );
                let body = json!({"errors": [{"message": message, "extensions": {"code": "BATCH_TOO_LARGE"}}]});
                return json_response(StatusCode::BAD_REQUEST, mode, &body);
            }
            Operations::Batch(items.iter().map(body_params).collect())
        }
        Value::Object(_) => match body_params(&body) {
            Ok(req) => Operations::Single(Box::new(req)),
            Err(message) => return request_error(mode, message),
        },
        _ => {
            return unreadable_body(
                mode,
                "the body must be a GraphQL request (a JSON object) or a batch of them (an array)",
            )
        }
    };
    execute(&api, claims, min, mode, ops).await
}

/// The operation a GET request would run is a mutation.
fn is_mutation(req: &GqlRequest) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(doc) = async_graphql::parser::parse_query(&req.query) else {
        return false;
    };
    let ty = match (&doc.operations, req.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    ty == Some(OperationType::Mutation)
}

/// GET /graphql: GraphiQL for a browser, else a query from the URL.
pub async fn get(
    State(api): State<QueryApi>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> = raw
        .as_deref()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("query").is_none() && wants_html(&headers) {
        return graphiql_page(&api.inner.web_dir).await;
    }
    let claims = match verify(&api, &headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(mode) = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())) else {
        return problem(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "answers are application/graphql-response+json or application/json",
        );
    };
    let min = match min_position(&headers) {
        Ok(m) => m,
        Err(res) => return res,
    };
    let json_param = |name: &str| -> Result<Option<Value>, &'static str> {
        match param(name) {
            None => Ok(None),
            Some(s) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| "variables and extensions must be JSON"),
        }
    };
    let parsed = (|| {
        let variables = json_param("variables")?;
        match json_param("extensions")? {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err("extensions must be an object"),
        }
        params(
            param("query")
                .map(|q| Value::String(q.to_string()))
                .as_ref(),
            param("operationName")
                .map(|q| Value::String(q.to_string()))
                .as_ref(),
            variables.as_ref(),
        )
    })();
    let req = match parsed {
        Ok(r) => r,
        Err(message) => return request_error(mode, message),
    };
    if is_mutation(&req) {
        let mut res = problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "mutations are sent with POST",
        );
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return res;
    }
    execute(&api, claims, min, mode, Operations::Single(Box::new(req))).await
}

fn not_built() -> Response {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "graphiql_not_built",
        "GraphiQL assets are not built: run scripts/run",
    )
}

async fn graphiql_page(web_dir: &Path) -> Response {
    match tokio::fs::read(web_dir.join("graphiql").join("index.html")).await {
        Ok(html) => with_page_headers(
            (StatusCode::OK, Body::from(html)).into_response(),
            "text/html; charset=utf-8",
            "no-cache",
        ),
        Err(_) => not_built(),
    }
}

/// GET /graphql/assets/{*path}: the GraphiQL build's files (hashed names:
/// cached for good).
pub async fn asset(State(api): State<QueryApi>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(rel) = safe_relative(&path) else {
        return ApiError::not_found("asset").into_response();
    };
    let dir = api.inner.web_dir.join("graphiql");
    if tokio::fs::metadata(&dir).await.is_err() {
        return not_built();
    }
    match tokio::fs::read(dir.join("assets").join(&rel)).await {
        Ok(bytes) => with_page_headers(
            (StatusCode::OK, Body::from(bytes)).into_response(),
            content_type_of(&rel),
            "public, max-age=31536000, immutable",
        ),
        Err(_) => ApiError::not_found("asset").into_response(),
    }
}

/// The answer of one batched item, for tests and callers composing batches.
pub fn render_batch(resp: &BatchResponse) -> Value {
    match resp {
        BatchResponse::Single(r) => render(r),
        BatchResponse::Batch(rs) => Value::Array(rs.iter().map(render).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation_follows_q_values_and_defaults_to_json() {
        assert_eq!(negotiate(None), Some(Mode::Json));
        assert_eq!(negotiate(Some("*/*")), Some(Mode::Json));
        assert_eq!(
            negotiate(Some("application/graphql-response+json, application/json")),
            Some(Mode::GraphqlResponse)
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Mode::Json)
        );
        assert_eq!(negotiate(Some("text/plain")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }
}
