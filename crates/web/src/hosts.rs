//! Which host names the console answers to and which origins may post to it: an allow-list
//! checked before anything else, so that a page of another site whose name was re-bound to this
//! machine (DNS rebinding) reaches nothing, and the same-site check of posts compares exact
//! origins (scheme, host and port) against this list rather than against the `Host` the request
//! itself claims.

use axum::http::{header, HeaderMap, Uri};
use std::net::{IpAddr, SocketAddr};

/// One allowed host: a lower-case name (an IPv6 address in brackets) and its port, if pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    host: String,
    /// `None`: as a `Host`, any port (a name given without one, e.g. behind a proxy on 443);
    /// as an origin, only the scheme's default port.
    port: Option<u16>,
    /// The scheme its origins have (`None`: http or https, for a name given without one).
    scheme: Option<String>,
}

/// The host names the console answers to.
#[derive(Debug, Clone)]
pub struct Hosts {
    allowed: Vec<Allowed>,
}

/// Splits `host[:port]` (or `[v6][:port]`) into a lower-case host and its port.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let a = authority.trim();
    if a.is_empty() || a.contains(['/', '@', ' ', '\\']) || a.chars().any(|c| c.is_control()) {
        return None;
    }
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{}]", h.to_ascii_lowercase()), port)
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (a.to_ascii_lowercase(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    ((!host.is_empty() && !host.contains(':')) || host.starts_with('[')).then_some((host, port))
}

fn ip_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// An `--allowed-host` or `--public-url` that names no host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostsError {
    #[error("--allowed-host {0:?}: give a host name, optionally with :PORT")]
    AllowedHost(String),
    #[error("--public-url {0:?}: give the console's address as http(s)://NAME[:PORT]")]
    PublicUrl(String),
}

impl Hosts {
    /// The default list for a console listening on `bound`: `localhost`, `127.0.0.1`, `[::1]`
    /// and the bound address (unless it is 0.0.0.0 or ::), all with the bound port; then each
    /// `--allowed-host` (a name, or `name:port`) and the host of `--public-url`.
    pub fn new(
        bound: SocketAddr,
        extra: &[String],
        public_url: Option<&str>,
    ) -> Result<Hosts, HostsError> {
        let port = Some(bound.port());
        // The console itself speaks plain HTTP on its bound port.
        let local = |host: String| Allowed {
            host,
            port,
            scheme: Some("http".into()),
        };
        let mut allowed: Vec<Allowed> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|h| local(h.to_string()))
            .collect();
        if !bound.ip().is_unspecified() {
            allowed.push(local(ip_host(bound.ip())));
        }
        for name in extra {
            let (host, port) =
                split_authority(name).ok_or_else(|| HostsError::AllowedHost(name.clone()))?;
            allowed.push(Allowed {
                host,
                port,
                scheme: None,
            });
        }
        if let Some(u) = public_url {
            let bad = || HostsError::PublicUrl(u.to_string());
            let (scheme, authority) = origin_authority(u).ok_or_else(bad)?;
            let (host, port) = split_authority(&authority).ok_or_else(bad)?;
            allowed.push(Allowed {
                host,
                port,
                scheme: Some(scheme),
            });
        }
        Ok(Hosts { allowed })
    }

    /// Whether `authority` (a `Host` header) names this console.
    pub fn allows(&self, authority: &str) -> bool {
        let Some((host, port)) = split_authority(authority) else {
            return false;
        };
        // A `Host` without a port means the scheme's default (80, or 443 behind TLS).
        let port_ok = |a: &Allowed| match (a.port, port) {
            (None, _) => true,
            (Some(p), None) => p == 80 || p == 443,
            (Some(p), Some(q)) => p == q,
        };
        self.allowed.iter().any(|a| a.host == host && port_ok(a))
    }

    /// Whether `origin` (an `Origin` header, or the start of a `Referer`) is this console:
    /// the same scheme, host and port as an allowed host (one given without a port: the
    /// scheme's default port only, 80 for http and 443 for https).
    pub fn allows_origin(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin_authority(origin) else {
            return false;
        };
        let Some((host, port)) = split_authority(&authority) else {
            return false;
        };
        let default = if scheme == "https" { 443 } else { 80 };
        let port = port.unwrap_or(default);
        self.allowed.iter().any(|a| {
            a.host == host
                && a.scheme.as_deref().is_none_or(|s| s == scheme)
                && a.port.unwrap_or(default) == port
        })
    }

    /// The host a request was sent to (`Host`, or the authority of an absolute request URI),
    /// when it is one this console answers to.
    pub fn request_allowed(&self, headers: &HeaderMap, uri: &Uri) -> bool {
        match headers.get(header::HOST) {
            Some(h) => h.to_str().is_ok_and(|h| self.allows(h)),
            None => uri.authority().is_some_and(|a| self.allows(a.as_str())),
        }
    }

    /// Whether a request that changes something comes from this console's own pages: its
    /// `Origin` (or, without one, its `Referer`) must be an allowed host. A request with
    /// neither is not from a browser's cross-site form (browsers send `Origin` with every
    /// POST), and still needs its CSRF token.
    pub fn same_site(&self, headers: &HeaderMap) -> bool {
        let text = |k: header::HeaderName| headers.get(k).map(|v| v.to_str().unwrap_or(""));
        match (text(header::ORIGIN), text(header::REFERER)) {
            (Some(origin), _) => self.allows_origin(origin),
            (None, Some(referer)) => self.allows_origin(referer),
            (None, None) => true,
        }
    }
}

/// The scheme and `host[:port]` of an http(s) URL, with the port only when it is not the
/// scheme's default.
fn origin_authority(url: &str) -> Option<(String, String)> {
    let u = url::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = match u.host()? {
        url::Host::Ipv6(v6) => format!("[{v6}]"),
        h => h.to_string(),
    };
    let authority = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    Some((u.scheme().to_string(), authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(extra: &[&str], public: Option<&str>) -> Hosts {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Hosts::new("127.0.0.1:8080".parse().unwrap(), &extra, public).unwrap()
    }

    #[test]
    fn only_the_listed_hosts_and_ports() {
        let h = hosts(&["ferry.lan"], Some("https://ferry.example.org"));
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "ferry.lan",
            "ferry.lan:9000",
            "ferry.example.org",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1",
            "localhost",
            "localhost.:8080",
            "ferry.lan.evil.example",
            "user@127.0.0.1:8080",
            "",
            "127.0.0.1:8080/x",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
        assert!(h.allows_origin("http://127.0.0.1:8080"));
        assert!(h.allows_origin("https://ferry.example.org"));
        assert!(h.allows_origin("https://ferry.example.org:443"));
        assert!(h.allows_origin("http://localhost:8080/signin?next=/"));
        assert!(h.allows_origin("http://ferry.lan"));
        assert!(h.allows_origin("https://ferry.lan"));
        assert!(!h.allows_origin("null"));
        assert!(!h.allows_origin("http://evil.example:8080"));
        assert!(!h.allows_origin("file:///etc/passwd"));
        // Exact origins: the scheme and the port count.
        assert!(!h.allows_origin("https://127.0.0.1:8080"));
        assert!(!h.allows_origin("http://ferry.example.org"));
        assert!(!h.allows_origin("https://ferry.example.org:8443"));
        assert!(!h.allows_origin("http://ferry.lan:9000"));
        assert!(!h.allows_origin("https://ferry.lan:8443"));
        let pinned = hosts(&["ferry.lan:9000"], None);
        assert!(pinned.allows_origin("http://ferry.lan:9000"));
        assert!(pinned.allows_origin("https://ferry.lan:9000"));
        assert!(!pinned.allows_origin("http://ferry.lan"));
    }

    #[test]
    fn a_specific_bind_address_is_allowed_and_bad_flags_are_refused() {
        let h = Hosts::new("192.0.2.7:80".parse().unwrap(), &[], None).unwrap();
        assert!(h.allows("192.0.2.7:80"));
        assert!(h.allows_origin("http://192.0.2.7"));
        let any = Hosts::new("0.0.0.0:80".parse().unwrap(), &[], None).unwrap();
        assert!(!any.allows("0.0.0.0:80"));
        assert!(Hosts::new(
            "127.0.0.1:1".parse().unwrap(),
            &["http://x/".to_string()],
            None
        )
        .is_err());
        assert!(Hosts::new("127.0.0.1:1".parse().unwrap(), &[], Some("ftp://x")).is_err());
    }
}
