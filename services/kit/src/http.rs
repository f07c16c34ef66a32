//! HTTP conventions shared by every service: the error body, the JSON extractor, the Origin
//! guard, client addresses.

use crate::db::DbError;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gochat_proto::error::{ErrorBody, ErrorCode, ErrorDetail};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Every failure a handler can answer with. The message of `Internal` is never shown: the
/// client gets a generic text and the cause chain is logged once.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong email, username or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// What is too large, and the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("too many attempts; try again later")]
    RateLimited { retry_after: Duration },
    #[error("this route does not take that method")]
    MethodNotAllowed,
    /// The storage failed (a full, failing or read-only disk; see
    /// [`crate::db::storage_unavailable`]): the request may work later. The cause is logged.
    #[error("the server cannot store anything right now (its storage is full or failing); try again later")]
    Unavailable(anyhow::Error),
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// When a client is told to try again after the storage failed.
const RETRY_UNAVAILABLE: Duration = Duration::from_secs(30);

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        if crate::db::storage_unavailable(&e) {
            Self::Unavailable(e)
        } else {
            Self::Internal(e)
        }
    }
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The body the client sees.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            Self::Internal(_) => "something went wrong on our side".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
            },
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        anyhow::Error::from(e).into()
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        anyhow::Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(error = format!("{cause:#}"), "request failed"),
            Self::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "request failed: storage unavailable")
            }
            _ => {}
        }
        let status = StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body())).into_response();
        let retry_after = match self {
            Self::RateLimited { retry_after } => Some(retry_after),
            Self::Unavailable(_) => Some(RETRY_UNAVAILABLE),
            _ => None,
        };
        if let Some(retry_after) = retry_after {
            let secs = retry_after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Makes `router`'s routes answer a method they do not take with the contract's JSON error body
/// (405 `method_not_allowed`; axum adds `Allow`). Applied before the router's layers, so that
/// the answer passes through them (the Origin guard, the request metrics) like any other:
/// applied after, it would replace each route's layered fallback with a bare one.
pub fn json_method_not_allowed<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router.method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// A list route's `limit`: the default when absent, else 1 to `MAX_PAGE`.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    use gochat_proto::limits::{DEFAULT_PAGE, MAX_PAGE};
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid(format!("limit must be 1 to {MAX_PAGE}")))
    }
}

/// A page's cursor as clients get it: opaque, the base64 of its JSON (URL-safe, unpadded).
pub fn encode_cursor<T: Serialize>(cursor: &T) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("a cursor serializes"))
}

/// The cursor [`encode_cursor`] wrote, or `None` for text it did not write.
pub fn decode_cursor<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    use base64::Engine;
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?).ok()
}

/// `axum::Json`, but a bad body gets the contract's error body instead of plain text.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge("the request body is too large".into()))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::invalid(
                "expected a JSON body (Content-Type: application/json)",
            )),
            Err(rejection) => Err(ApiError::invalid(without_type_names(&rejection.body_text()))),
        }
    }
}

/// [`Json`] for a body whose every field is optional: a request with no body at all (what
/// `fetch(url, {method: "POST"})` and most HTTP tools send when given none) means `{}`, so the
/// defaults apply. A body that is there is read exactly as [`Json`] reads it.
pub struct JsonOrEmpty<T>(pub T);

impl<T, S> FromRequest<S> for JsonOrEmpty<T>
where
    T: Default,
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        // The `Bytes` extractor keeps to the router's body limit (`DefaultBodyLimit`).
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the request body is too large".into()),
                _ => ApiError::invalid(rejection.body_text()),
            })?;
        if bytes.is_empty() {
            return Ok(Self(T::default()));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        Json::<T>::from_request(req, state).await.map(|Json(value)| Self(value))
    }
}

/// serde's message without the server's own type names ("expected struct SigninRequest"): the
/// client is told a JSON object was expected, not what the code calls it.
fn without_type_names(message: &str) -> String {
    const STRUCT: &str = "expected struct ";
    match message.find(STRUCT) {
        Some(at) => {
            let rest = &message[at + STRUCT.len()..];
            let name_end = rest
                .find(|c: char| !c.is_alphanumeric() && c != '_')
                .unwrap_or(rest.len());
            format!("{}expected a JSON object{}", &message[..at], &rest[name_end..])
        }
        None => message.to_owned(),
    }
}

/// `axum::extract::Path`, but a path whose parameters cannot be decoded (not UTF-8 once
/// percent-decoded, not of the expected type) names nothing that exists: 404 with the
/// contract's body, as any unknown id, instead of axum's plain-text 400.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    axum::extract::Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            // A route that asks for parameters it does not declare: our bug, not the client's.
            Err(rejection @ PathRejection::MissingPathParams(_)) => Err(ApiError::Internal(rejection.into())),
            Err(_) => Err(ApiError::NotFound),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Which origins may change state and open sockets. Same-origin requests always may.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    allowed: Arc<Vec<String>>,
    proxies: TrustedProxies,
}

impl Origins {
    pub fn new(allowed: Vec<String>, proxies: TrustedProxies) -> Self {
        let allowed = allowed
            .into_iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .collect();
        Self {
            allowed: Arc::new(allowed),
            proxies,
        }
    }

    /// True when the request carries an `Origin` that is neither this site nor configured.
    pub fn is_foreign(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            None => false,
            Some(origin) => !self.is_allowed(origin, headers),
        }
    }

    /// True when the request carries an allowed `Origin` (WebSocket upgrades require one).
    pub fn is_present_and_allowed(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::ORIGIN)
            .is_some_and(|origin| self.is_allowed(origin, headers))
    }

    fn is_allowed(&self, origin: &HeaderValue, headers: &HeaderMap) -> bool {
        let Ok(origin) = origin.to_str() else { return false };
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.allowed.contains(&origin) {
            return true;
        }
        // Same origin: the Origin's scheme and host:port are those the request was sent to.
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        let host = self
            .behind_proxy()
            .then(|| headers.get("x-forwarded-host"))
            .flatten()
            .or_else(|| headers.get(header::HOST))
            .and_then(|h| h.to_str().ok());
        let Some(host) = host else { return false };
        self.may_be_the_scheme_used(scheme, headers)
            && without_default_port(authority, scheme).eq_ignore_ascii_case(without_default_port(host, scheme))
    }

    /// Whether the client may have used `scheme`: the one a trusted proxy names, when it names
    /// one. Otherwise GoChat cannot tell: it serves plain HTTP, but a TLS proxy nobody declared
    /// (`GOCHAT_TRUST_PROXY` unset), or a trusted one that says nothing of the scheme (nginx
    /// unless told to), may stand before it, and refusing its https pages would break that
    /// deployment for nothing (only the TLS end of this very host and port serves an https page
    /// of it), so either is taken.
    fn may_be_the_scheme_used(&self, scheme: &str, headers: &HeaderMap) -> bool {
        match self.forwarded_scheme(headers) {
            Some(named) => scheme == named,
            None => matches!(scheme, "http" | "https"),
        }
    }

    /// The scheme the client used: GoChat serves plain HTTP only (TLS is a proxy's), so https
    /// is what a trusted proxy says, else http.
    pub fn scheme(&self, headers: &HeaderMap) -> &'static str {
        if self.is_https(headers) { "https" } else { "http" }
    }

    /// Whether the deployment has a reverse proxy, so `X-Forwarded-Proto/-Host` and `Forwarded`
    /// are its words.
    /// (A client that forges them gains nothing: a browser cannot set them, and they only decide
    /// the cookie's `Secure` flag and the same-origin comparison.)
    fn behind_proxy(&self) -> bool {
        !self.proxies.is_empty()
    }

    /// True when the client reached us over HTTPS (directly or through a trusted proxy), as
    /// the proxy says it (see [`Origins::forwarded_scheme`]).
    pub fn is_https(&self, headers: &HeaderMap) -> bool {
        self.forwarded_scheme(headers) == Some("https")
    }

    /// The scheme a trusted proxy says the client used, `https` or `http`: the de facto
    /// `X-Forwarded-Proto`, else RFC 7239's `Forwarded`. The first wins: proxies set it (the
    /// repository's nginx.conf does), while many pass a client's `Forwarded` on as it came. A
    /// WebSocket upgrade's is its page's: Traefik names it `wss` over TLS, `ws` without.
    fn forwarded_scheme(&self, headers: &HeaderMap) -> Option<&'static str> {
        const NAMES: [(&str, &str); 4] = [("https", "https"), ("wss", "https"), ("http", "http"), ("ws", "http")];
        if !self.behind_proxy() {
            return None;
        }
        let x_forwarded_proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
        let proto = x_forwarded_proto.or_else(|| forwarded_proto(headers))?;
        NAMES
            .iter()
            .find(|(name, _)| proto.eq_ignore_ascii_case(name))
            .map(|(_, scheme)| *scheme)
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the rightmost
    /// address of `X-Forwarded-For` that is not a trusted proxy (see [`TrustedProxies`]).
    pub fn client_ip(&self, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
        self.proxies.client_ip(headers, peer.ip())
    }
}

/// `authority` without the scheme's default port: a browser never writes `:80` (`:443`) in an
/// `Origin`, while a `Host` may carry it.
fn without_default_port<'a>(authority: &'a str, scheme: &str) -> &'a str {
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return authority,
    };
    authority.strip_suffix(default_port).unwrap_or(authority)
}

/// The `proto` of the first element of `Forwarded` (RFC 7239): the scheme the client used to
/// reach the first proxy, e.g. `for=192.0.2.60;proto=https, for=10.0.0.2`. Parameter names
/// are case-insensitive and values may be quoted; the first header line holds the first element.
fn forwarded_proto(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::FORWARDED)?.to_str().ok()?;
    let first = split_unquoted(value, ',').next()?;
    split_unquoted(first, ';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("proto")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// `text` split at each `separator` outside double quotes (a quoted value may hold `,` or `;`).
fn split_unquoted(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    text.split(move |c| {
        if c == '"' {
            quoted = !quoted;
        }
        c == separator && !quoted
    })
}

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses and networks.
///
/// Each proxy appends the address it received the request from, so the header reads
/// `<what the client claims>, …, <client as the first proxy saw it>, <next proxy>…`. Only the
/// entries added by our own proxies are facts; everything left of them was written by the client.
/// Walking from the right, the first address that is not one of our proxies is the client.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

/// Most `X-Forwarded-For` entries looked at: a longer chain of our own proxies does not exist.
const MAX_FORWARDED_HOPS: usize = 16;

impl TrustedProxies {
    pub fn new(networks: impl IntoIterator<Item = ProxyNet>) -> Self {
        Self(Arc::new(networks.into_iter().map(|n| n.0).collect()))
    }

    /// What `GOCHAT_TRUST_PROXY=true` has always meant for a homelab: the proxy runs on this
    /// machine or on the local network (loopback, RFC 1918, IPv6 unique-local and link-local).
    pub fn local_networks() -> Self {
        let nets = [
            "127.0.0.0/8",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "169.254.0.0/16",
            "::1/128",
            "fc00::/7",
            "fe80::/10",
        ];
        Self::new(
            nets.iter()
                .map(|n| n.parse().expect("the local networks are valid CIDRs")),
        )
    }

    /// `trusted_proxies` when given; the local networks when only `trust_proxy = true` is;
    /// otherwise nobody.
    pub fn from_settings(settings: &crate::config::CommonSettings) -> Self {
        match &settings.trusted_proxies {
            Some(list) => Self::new(list.iter().cloned()),
            None if settings.trust_proxy() => Self::local_networks(),
            None => Self::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request that came from `peer`.
    pub fn client_ip(&self, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.iter().rev().take(MAX_FORWARDED_HOPS) {
            // Something that is not an address was written by the client (or a proxy we do not
            // know); the last hop we trust is the best we know.
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// A trusted proxy's address (`192.168.1.2`, `::1`) or network (`10.0.0.0/8`, `fd00::/8`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProxyNet(IpNet);

impl std::str::FromStr for ProxyNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        s.parse::<IpNet>()
            .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
            .map(|net| Self(net.trunc()))
            .map_err(|_| format!("{s:?} is not an IP address or a network such as 10.0.0.0/8"))
    }
}

impl TryFrom<String> for ProxyNet {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ProxyNet> for String {
    fn from(net: ProxyNet) -> Self {
        net.0.to_string()
    }
}

/// Middleware: a state-changing request from a foreign origin gets 403 before any handler runs.
pub async fn origin_guard(
    axum::extract::State(origins): axum::extract::State<Origins>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && origins.is_foreign(request.headers()) {
        return ApiError::Forbidden("requests from this origin are not allowed").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        // nginx appended the real client (203.0.113.7); the client wrote the rest itself.
        let headers = forwarded("6.6.6.6, 203.0.113.7");
        assert_eq!(trusted.client_ip(&headers, ip("127.0.0.1")), ip("203.0.113.7"));
        // Two proxies of ours in a row are skipped.
        let headers = forwarded("6.6.6.6, 203.0.113.7, 10.1.2.3");
        assert_eq!(trusted.client_ip(&headers, ip("127.0.0.1")), ip("203.0.113.7"));
        // Several headers are one list, in order.
        let mut headers = forwarded("6.6.6.6");
        headers.append("x-forwarded-for", HeaderValue::from_static("203.0.113.8"));
        assert_eq!(trusted.client_ip(&headers, ip("127.0.0.1")), ip("203.0.113.8"));
    }

    #[test]
    fn forwarding_headers_from_anyone_else_are_ignored() {
        let trusted = proxies(&["127.0.0.1"]);
        let headers = forwarded("1.2.3.4");
        assert_eq!(trusted.client_ip(&headers, ip("198.51.100.9")), ip("198.51.100.9"));
        assert_eq!(
            TrustedProxies::default().client_ip(&headers, ip("127.0.0.1")),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn garbage_and_missing_hops_leave_the_last_trusted_address() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(trusted.client_ip(&HeaderMap::new(), ip("127.0.0.1")), ip("127.0.0.1"));
        let headers = forwarded("203.0.113.7, unknown, 10.0.0.2");
        assert_eq!(trusted.client_ip(&headers, ip("127.0.0.1")), ip("10.0.0.2"));
        let headers = forwarded("[2001:db8::1]:443, 10.0.0.2:80");
        assert_eq!(trusted.client_ip(&headers, ip("127.0.0.1")), ip("2001:db8::1"));
    }

    /// HTTPS as a trusted proxy reports it: `X-Forwarded-Proto`, or the `proto` of the first
    /// element of RFC 7239's `Forwarded` (the scheme the client used to reach the first proxy).
    #[test]
    fn https_is_read_from_x_forwarded_proto_else_the_first_forwarded_element() {
        let behind_proxy = Origins::new(Vec::new(), proxies(&["127.0.0.1"]));
        let headers = |name: &'static str, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            headers
        };
        for https in [
            headers("x-forwarded-proto", "HTTPS"),
            headers("forwarded", "proto=https"),
            headers("forwarded", "for=192.0.2.60;Proto=\"HTTPS\";by=203.0.113.43"),
            headers(
                "forwarded",
                "for=\"[2001:db8::1]:4711\"; proto=https, for=10.0.0.2;proto=http",
            ),
        ] {
            assert!(behind_proxy.is_https(&https), "{https:?}");
            assert!(
                !Origins::default().is_https(&https),
                "no proxy, no word of it: {https:?}"
            );
        }
        for plain in [
            HeaderMap::new(),
            headers("x-forwarded-proto", "http"),
            headers("forwarded", "for=192.0.2.60;proto=http"),
            headers("forwarded", "for=192.0.2.60, for=10.0.0.2;proto=https"),
            headers("forwarded", "for=\"a;proto=https\""),
            headers("forwarded", "xproto=https"),
        ] {
            assert!(!behind_proxy.is_https(&plain), "{plain:?}");
        }
        // The proxy's X-Forwarded-Proto is believed over a Forwarded the client may have sent.
        let mut both = headers("x-forwarded-proto", "http");
        both.insert("forwarded", HeaderValue::from_static("proto=https"));
        assert!(!behind_proxy.is_https(&both));
    }

    fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    /// Same origin is the same host and port, over http or https when no trusted proxy says
    /// which (an https page can only come through a TLS proxy nobody declared).
    #[test]
    fn same_origin_is_the_same_scheme_host_and_port() {
        let direct = Origins::default();
        let host = [("host", "chat.lan:8080")];
        for same in ["http://chat.lan:8080", "https://chat.lan:8080"] {
            let mut headers = request(&host);
            headers.insert("origin", HeaderValue::from_static(same));
            assert!(!direct.is_foreign(&headers), "{same}");
            assert!(direct.is_present_and_allowed(&headers), "{same}");
        }
        for other in [
            "ftp://chat.lan:8080",
            "http://chat.lan",
            "http://chat.lan:8081",
            "http://other.lan:8080",
            "chat.lan:8080",
            "null",
        ] {
            let mut headers = request(&host);
            headers.insert("origin", HeaderValue::from_static(other));
            assert!(direct.is_foreign(&headers), "{other}");
            assert!(!direct.is_present_and_allowed(&headers), "{other}");
        }
        // A client's word on the scheme is not taken: it makes no page foreign.
        let claimed = request(&[
            host[0],
            ("x-forwarded-proto", "http"),
            ("origin", "https://chat.lan:8080"),
        ]);
        assert!(!direct.is_foreign(&claimed));
    }

    /// Behind a TLS proxy the page is https: an http Origin of the same host is another site.
    #[test]
    fn behind_a_tls_proxy_only_the_https_origin_is_the_same() {
        let behind_proxy = Origins::new(Vec::new(), proxies(&["127.0.0.1"]));
        let proxied = |proto: &'static str, origin: &'static str| {
            request(&[
                ("host", "gochat-auth:8081"),
                ("x-forwarded-host", "chat.example.org"),
                ("x-forwarded-proto", proto),
                ("origin", origin),
            ])
        };
        assert!(!behind_proxy.is_foreign(&proxied("https", "https://chat.example.org")));
        assert!(behind_proxy.is_foreign(&proxied("https", "http://chat.example.org")));
        assert!(!behind_proxy.is_foreign(&proxied("http", "http://chat.example.org")));
        assert!(behind_proxy.is_foreign(&proxied("http", "https://chat.example.org")));
        let forwarded = request(&[
            ("host", "chat.example.org"),
            ("forwarded", "for=192.0.2.60;proto=https"),
            ("origin", "http://chat.example.org"),
        ]);
        assert!(behind_proxy.is_foreign(&forwarded));
    }

    /// Traefik names the scheme of a WebSocket upgrade `wss` over TLS (`ws` without): the
    /// socket of an https page behind it is opened by that page, as its requests are.
    #[test]
    fn a_proxy_naming_a_sockets_scheme_wss_or_ws_names_https_or_http() {
        let behind_proxy = Origins::new(Vec::new(), proxies(&["127.0.0.1"]));
        let upgrade = |proto: &'static str, origin: &'static str| {
            request(&[
                ("host", "chat.example.org"),
                ("x-forwarded-proto", proto),
                ("upgrade", "websocket"),
                ("origin", origin),
            ])
        };
        assert!(behind_proxy.is_present_and_allowed(&upgrade("wss", "https://chat.example.org")));
        assert!(!behind_proxy.is_present_and_allowed(&upgrade("wss", "http://chat.example.org")));
        assert!(behind_proxy.is_present_and_allowed(&upgrade("ws", "http://chat.example.org")));
        assert!(!behind_proxy.is_present_and_allowed(&upgrade("ws", "https://chat.example.org")));
        assert!(behind_proxy.is_https(&upgrade("WSS", "https://chat.example.org")));
    }

    /// A trusted proxy that names no scheme (nginx, unless told to send `X-Forwarded-Proto`), or
    /// one it does not know, leaves it unknown, as having no proxy does: either is taken. Its
    /// cookies are not `Secure` either.
    #[test]
    fn a_proxy_naming_no_scheme_leaves_either_taken() {
        let behind_proxy = Origins::new(Vec::new(), proxies(&["127.0.0.1"]));
        for proto in [None, Some("https, http"), Some("h2")] {
            for origin in ["https://chat.example.org", "http://chat.example.org"] {
                let mut headers = request(&[("host", "chat.example.org"), ("x-forwarded-for", "192.0.2.7")]);
                headers.insert("origin", HeaderValue::from_static(origin));
                if let Some(proto) = proto {
                    headers.insert("x-forwarded-proto", HeaderValue::from_static(proto));
                }
                assert!(!behind_proxy.is_foreign(&headers), "{proto:?} {origin}");
                assert!(!behind_proxy.is_https(&headers), "{proto:?} {origin}");
            }
        }
    }

    /// An `Origin` never names its scheme's default port; a `Host` may.
    #[test]
    fn the_default_port_of_the_scheme_may_be_written_or_not() {
        let behind_proxy = Origins::new(Vec::new(), proxies(&["127.0.0.1"]));
        for (host, origin) in [
            ("chat.lan", "http://chat.lan"),
            ("chat.lan:80", "http://chat.lan"),
            ("chat.lan", "http://chat.lan:80"),
            ("[fd00::1]:80", "http://[fd00::1]"),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("host", HeaderValue::from_static(host));
            headers.insert("origin", HeaderValue::from_static(origin));
            assert!(!Origins::default().is_foreign(&headers), "{host} {origin}");
        }
        let tls = request(&[
            ("host", "chat.example.org:443"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://chat.example.org"),
        ]);
        assert!(!behind_proxy.is_foreign(&tls));
        // The other scheme's default port is a port like any other.
        let wrong_default = request(&[("host", "chat.lan:443"), ("origin", "http://chat.lan")]);
        assert!(Origins::default().is_foreign(&wrong_default));
    }

    /// Configured origins are compared whole, whatever the request's own scheme.
    #[test]
    fn a_configured_origin_is_allowed_as_written() {
        let origins = Origins::new(vec!["https://chat.example.org/".into()], TrustedProxies::default());
        let headers = request(&[("host", "10.0.0.5:8080"), ("origin", "https://chat.example.org")]);
        assert!(origins.is_present_and_allowed(&headers));
        let other_scheme = request(&[("host", "10.0.0.5:8080"), ("origin", "http://chat.example.org")]);
        assert!(origins.is_foreign(&other_scheme));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let trusted = proxies(&["127.0.0.1"]);
        let headers = forwarded("203.0.113.7");
        assert_eq!(trusted.client_ip(&headers, ip("::ffff:127.0.0.1")), ip("203.0.113.7"));
    }

    #[test]
    fn proxy_networks_parse_addresses_and_cidrs_and_refuse_the_rest() {
        for ok in ["10.0.0.0/8", "192.168.1.2", "::1", "fd00::/8", " 10.1.2.3/8 "] {
            assert!(ok.parse::<ProxyNet>().is_ok(), "{ok}");
        }
        for bad in ["", "10.0.0.0/33", "example.org", "10.0.0"] {
            assert!(bad.parse::<ProxyNet>().is_err(), "{bad}");
        }
        // A host address inside a network spelled with host bits still means the network.
        assert!(proxies(&["10.1.2.3/8"]).contains(ip("10.200.0.1")));
    }

    #[test]
    fn trust_proxy_true_means_the_local_networks() {
        let local = TrustedProxies::local_networks();
        for inside in ["127.0.0.1", "10.0.0.1", "172.20.0.1", "192.168.1.1", "::1", "fd12::1"] {
            assert!(local.contains(ip(inside)), "{inside}");
        }
        for outside in ["203.0.113.7", "172.32.0.1", "2001:db8::1"] {
            assert!(!local.contains(ip(outside)), "{outside}");
        }
    }

    /// A request whose storage failed is answered `unavailable` (503, to be tried again in
    /// 30 s), whether the failure is the database's (here SQLite's own "disk full", or a write
    /// dropped with its failed group) or a file's (a full or read-only disk), and wrapped in
    /// context or not; anything else stays `internal` (500).
    #[test]
    fn a_failing_storage_is_answered_unavailable_and_anything_else_internal() {
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        let io_full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let read_only = std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem);
        for error in [
            ApiError::from(DbError::Sqlite(full)),
            ApiError::from(anyhow::Error::from(io_full).context("storing an upload")),
            ApiError::from(anyhow::Error::from(read_only)),
            ApiError::from(DbError::RolledBack),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[header::RETRY_AFTER], "30");
        }
        let body = ApiError::from(DbError::RolledBack).body();
        assert_eq!(body.error.code, ErrorCode::Unavailable);
        assert!(body.error.message.contains("try again later"), "{}", body.error.message);

        let constraint = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            Some("UNIQUE constraint failed".into()),
        );
        for error in [
            ApiError::from(DbError::Sqlite(constraint)),
            ApiError::from(DbError::Panicked),
            // Its thread is gone: a bug, not the storage.
            ApiError::from(DbError::Closed("messages".into())),
            ApiError::from(anyhow::anyhow!("a bug")),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(response.headers().get(header::RETRY_AFTER).is_none());
        }
    }

    #[test]
    fn a_bad_body_is_described_without_the_servers_type_names() {
        let message = "Failed to deserialize the JSON body into the target type: invalid type: \
                       integer `1`, expected struct CreateConversationRequest at line 1 column 1";
        assert_eq!(
            without_type_names(message),
            "Failed to deserialize the JSON body into the target type: invalid type: integer `1`, \
             expected a JSON object at line 1 column 1"
        );
        let missing = "Failed to deserialize the JSON body into the target type: missing field `peerId`";
        assert_eq!(without_type_names(missing), missing);
    }
}
