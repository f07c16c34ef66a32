//! Which push services GoChat talks to. A subscription names an arbitrary URL, so without rules
//! the server could be made to send requests into its own network: endpoints must be https and
//! reach public addresses, unless their host is listed in `GOCHAT_PUSH_INSECURE_HOSTS` (tests,
//! a push service on the LAN). [`Policy::check`] decides, when a browser subscribes and again
//! before every send: a subscription stored under rules since changed (its host no longer
//! listed) is not sent to, and kept for when the listing allows it again. Names are checked when a browser subscribes, and again by the
//! resolver of every send to a host that is not listed ([`PublicOnly`]), so a name that later
//! resolves to a private address is not reached.

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Longest endpoint URL accepted (real ones are a few hundred bytes).
pub const MAX_ENDPOINT_BYTES: usize = 2048;

/// How long a subscription request waits for its endpoint's name to resolve (a slow resolver
/// must not hold the request).
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// An entry of `GOCHAT_PUSH_INSECURE_HOSTS`: `host` (any port) or `host:port`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InsecureHost {
    host: String,
    port: Option<u16>,
}

impl std::str::FromStr for InsecureHost {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // Parsed as the authority of a URL, so `[::1]:8443` and `Push.Example` mean what they
        // mean in an endpoint.
        let url = Url::parse(&format!("http://{s}/"))
            .ok()
            .filter(|u| u.username().is_empty() && u.password().is_none() && u.path() == "/" && u.query().is_none())
            .ok_or_else(|| format!("{s:?} is not a host or host:port"))?;
        let host = url.host_str().ok_or_else(|| format!("{s:?} names no host"))?;
        // `Url` forgets a port that is the scheme's default; an explicit :80 is still a port.
        let explicit_port = s.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) && !s.ends_with(']');
        Ok(Self {
            host: host.to_owned(),
            port: if explicit_port {
                url.port_or_known_default()
            } else {
                None
            },
        })
    }
}

impl TryFrom<String> for InsecureHost {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<InsecureHost> for String {
    fn from(h: InsecureHost) -> Self {
        // An IPv6 host keeps its brackets, as URLs write it.
        match h.port {
            Some(port) => format!("{}:{port}", h.host),
            None => h.host,
        }
    }
}

/// The rules for endpoints.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    insecure: Arc<Vec<InsecureHost>>,
}

/// An endpoint the rules accept.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub url: Url,
    /// Whether its host and port are listed: then it may be plain http and reach any address,
    /// so it is sent with the system's resolver instead of [`PublicOnly`].
    pub listed: bool,
}

impl Policy {
    pub fn new(insecure: Vec<InsecureHost>) -> Self {
        Self {
            insecure: Arc::new(insecure),
        }
    }

    /// The endpoint, or why it is refused. Addresses behind a name are checked by
    /// [`Policy::check_resolved`] (subscribing) and [`PublicOnly`] (sending).
    pub fn check(&self, endpoint: &str) -> Result<Endpoint, &'static str> {
        if endpoint.len() > MAX_ENDPOINT_BYTES {
            return Err("endpoint is too long");
        }
        let url = Url::parse(endpoint).map_err(|_| "endpoint is not a URL")?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("endpoint must not carry credentials");
        }
        let host = url.host_str().ok_or("endpoint has no host")?;
        let listed = self.listed(host, url.port_or_known_default());
        match url.scheme() {
            "https" => {}
            "http" if listed => {}
            "http" => return Err("endpoint must be https"),
            _ => return Err("endpoint must be an https URL"),
        }
        if let Some(ip) = ip_of(&url)
            && !listed
            && !is_public(ip)
        {
            return Err("endpoint is a private or loopback address");
        }
        Ok(Endpoint { url, listed })
    }

    /// Refuses an endpoint whose name resolves to a private or loopback address. A name that
    /// does not resolve now, or not within [`RESOLVE_TIMEOUT`], is accepted: [`PublicOnly`]
    /// checks it again at every send.
    pub async fn check_resolved(&self, endpoint: &Endpoint) -> Result<(), &'static str> {
        let url = &endpoint.url;
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err("endpoint has no host");
        };
        if ip_of(url).is_some() || endpoint.listed {
            return Ok(());
        }
        match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await {
            Ok(Ok(addrs)) => {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if addrs.iter().all(|a| is_public(a.ip())) {
                    Ok(())
                } else {
                    Err("endpoint resolves to a private or loopback address")
                }
            }
            Ok(Err(_)) | Err(_) => Ok(()),
        }
    }

    /// Whether `host` on `port` is listed (a host listed without a port, on any port).
    fn listed(&self, host: &str, port: Option<u16>) -> bool {
        self.insecure
            .iter()
            .any(|h| h.host.eq_ignore_ascii_case(host) && (h.port.is_none() || h.port == port))
    }
}

/// The resolver of sends to endpoints that are not listed: public addresses only. It does not
/// know the port, so listed endpoints are sent with the system's resolver instead (see
/// [`Endpoint::listed`]); reqwest does not ask a resolver about IP literals, which
/// [`Policy::check`] has checked.
#[derive(Clone, Copy, Debug)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let allowed: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The address of an endpoint whose host is an IP literal (`[::1]` included).
fn ip_of(url: &Url) -> Option<IpAddr> {
    url.host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// An address on the public internet. Forms that carry an IPv4 address the connection ends up
/// at (IPv4-mapped, NAT64, 6to4) are judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// Not one of the special-purpose ranges (IANA's registry) that are not the public internet.
fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0 // "this network"
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // shared (carrier-grade NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 198 && (18..20).contains(&b))) // benchmarking
}

/// Global unicast (2000::/3) only, which leaves out loopback, unspecified, the IPv4-compatible
/// and SIIT forms, discard-only, unique and site-local, link-local and multicast addresses;
/// within it, not the IETF's own assignments nor documentation.
fn is_public_v6(v6: Ipv6Addr) -> bool {
    let embedded = |hi: u16, lo: u16| is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    match v6.segments() {
        // IPv4-mapped: a dual-stack socket connects to the IPv4 address.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => embedded(hi, lo),
        // NAT64 (64:ff9b::/96): the gateway connects to the IPv4 address in the last 32 bits.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        // 6to4 (2002::/16): the relay forwards to the IPv4 address in the next 32 bits.
        [0x2002, hi, lo, ..] => embedded(hi, lo),
        // IETF protocol assignments (2001::/23: Teredo, benchmarking, ORCHID…) and
        // documentation (2001:db8::/32).
        [0x2001, second, ..] => second >= 0x0200 && second != 0x0db8,
        // Documentation (3fff::/20).
        [0x3fff, second, ..] => second >= 0x1000,
        [first, ..] => first & 0xe000 == 0x2000,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn policy(hosts: &str) -> Policy {
        Policy::new(
            hosts
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|h| h.parse().unwrap())
                .collect(),
        )
    }

    #[test]
    fn https_to_public_hosts_is_accepted_and_nothing_else_unless_listed() {
        let none = policy("");
        assert!(none.check("https://fcm.googleapis.com/fcm/send/abc").is_ok());
        assert!(none.check("https://203.0.113.9:8443/x").is_err(), "documentation range");
        assert!(none.check("https://8.8.8.8/x").is_ok());
        assert!(
            none.check("https://[64:ff9b::808:808]/x").is_ok(),
            "NAT64 of a public address"
        );
        for refused in [
            "http://push.example.org/x",
            "ftp://push.example.org/x",
            "https://user:pw@push.example.org/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.1.20/x",
            "https://169.254.1.1/x",
            "https://100.64.0.1/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[64:ff9b::a00:1]/x",
            "https://198.18.0.1/x",
            "https://250.1.2.3/x",
            "not a url",
        ] {
            assert!(none.check(refused).is_err(), "{refused}");
        }
        assert!(
            none.check(&format!("https://a.org/{}", "x".repeat(MAX_ENDPOINT_BYTES)))
                .is_err()
        );
    }

    /// Every special-purpose range that is not the public internet, and those that embed an
    /// IPv4 address judged by it.
    #[test]
    fn special_purpose_addresses_are_not_public() {
        let public = |ip: &str| is_public(ip.parse().unwrap());
        for refused in [
            "0.1.2.3",                              // "this network"
            "10.0.0.1",                             // private
            "100.64.0.1",                           // shared, carrier-grade NAT
            "100.127.255.254",                      // the same, its top
            "127.0.0.1",                            // loopback
            "169.254.169.254",                      // link-local (cloud metadata)
            "172.16.0.1",                           // private
            "192.0.0.8",                            // IETF protocol assignments
            "192.0.2.1",                            // documentation
            "192.88.99.1",                          // 6to4 relay anycast
            "192.168.1.1",                          // private
            "198.18.0.1",                           // benchmarking
            "198.19.255.254",                       // the same, its top
            "198.51.100.1",                         // documentation
            "203.0.113.1",                          // documentation
            "224.0.0.1",                            // multicast
            "239.255.255.250",                      // multicast (SSDP)
            "240.0.0.1",                            // reserved
            "255.255.255.255",                      // broadcast
            "::",                                   // unspecified
            "::1",                                  // loopback
            "::127.0.0.1",                          // IPv4-compatible (deprecated)
            "::8.8.8.8",                            // the same, of a public address
            "::ffff:127.0.0.1",                     // IPv4-mapped loopback
            "::ffff:10.0.0.1",                      // IPv4-mapped private
            "::ffff:0:127.0.0.1",                   // SIIT
            "::ffff:0:8.8.8.8",                     // the same, of a public address
            "64:ff9b::7f00:1",                      // NAT64 of loopback
            "64:ff9b::c0a8:101",                    // NAT64 of a private address
            "64:ff9b:1::808:808",                   // local-use NAT64
            "100::1",                               // discard-only
            "2001::1",                              // Teredo
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo, as written in the wild
            "2001:2::1",                            // benchmarking
            "2001:db8::1",                          // documentation
            "2002:7f00:1::1",                       // 6to4 of loopback
            "2002:c0a8:101::1",                     // 6to4 of a private address
            "3fff::1",                              // documentation (2024)
            "fc00::1",                              // unique local
            "fd12:3456::1",                         // unique local
            "fe80::1",                              // link-local
            "fec0::1",                              // site-local (deprecated)
            "ff02::1",                              // multicast
        ] {
            assert!(!public(refused), "{refused}");
        }
        for accepted in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "198.20.0.1",
            "223.255.255.1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
            "2a00:1450:4001:80b::200a",
        ] {
            assert!(public(accepted), "{accepted}");
        }
    }

    #[test]
    fn a_listed_host_may_be_plain_http_and_private_on_any_port_or_the_listed_one() {
        let listed = policy("127.0.0.1:9000,push.lan");
        assert!(listed.check("http://127.0.0.1:9000/x").is_ok());
        assert!(listed.check("http://127.0.0.1:9001/x").is_err(), "another port");
        assert!(
            listed.check("https://127.0.0.1:9001/x").is_err(),
            "private, port not listed"
        );
        assert!(listed.check("http://push.lan/x").is_ok());
        assert!(listed.check("http://PUSH.lan:8080/x").is_ok(), "any port, any case");
        assert!(listed.check("http://push.lan.example/x").is_err());
        let on_port = policy("push.lan:9000");
        assert!(on_port.check("https://push.lan:9000/x").unwrap().listed);
        assert!(
            !on_port.check("https://push.lan:9001/x").unwrap().listed,
            "https on another port: sent as to any host, to public addresses only"
        );
        let v6: InsecureHost = "[::1]:8443".parse().unwrap();
        assert_eq!(String::from(v6.clone()), "[::1]:8443");
        assert!(Policy::new(vec![v6]).check("http://[::1]:8443/x").is_ok());
        assert!("http://x/".parse::<InsecureHost>().is_err());
        assert_eq!("host:80".parse::<InsecureHost>().unwrap().port, Some(80));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_listed() {
        let checked = |p: Policy| async move {
            let endpoint = p.check("https://localhost/x").unwrap();
            p.check_resolved(&endpoint).await
        };
        assert!(checked(policy("")).await.is_err());
        assert!(checked(policy("localhost")).await.is_ok());
        assert!(checked(policy("localhost:8443")).await.is_err(), "another port");
        let sent = PublicOnly.resolve("localhost".parse::<Name>().unwrap()).await;
        assert!(sent.is_err(), "the resolver of sends refuses it too");
    }
}
