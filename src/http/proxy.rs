//! Who the client is when proxies stand in front of arkiv.
//!
//! Without `ARKIV_TRUST_PROXY` the client is the peer of the TCP
//! connection, and `Forwarded` / `X-Forwarded-For` are ignored: any client
//! can send them. With it, arkiv believes the proxies it was told about
//! (`ARKIV_TRUST_PROXY_HOPS`, one by default), and only them: each proxy
//! appends the address it saw to the right of the list, so the client is
//! the entry that many hops from the right. Entries further left were
//! written by the client or by proxies nobody vouches for.
//!
//! RFC 7239 `Forwarded` wins over `X-Forwarded-For` when a request carries
//! both. An entry that is malformed, obfuscated (`_hidden`) or `unknown`,
//! or a list shorter than the hop count, names nobody: the request counts
//! under its peer address.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::{HeaderMap, HeaderName, FORWARDED};

/// The most proxies that may be configured in front of arkiv.
pub const MAX_HOPS: u8 = 16;

/// Which proxies in front are trusted to say who the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrustedProxies {
    /// How many proxies of the archive's own stand in front, each
    /// appending the address it saw; 0 trusts no header at all.
    hops: u8,
}

impl TrustedProxies {
    /// Trusts no forwarding header: the client is the connection's peer.
    pub const NONE: TrustedProxies = TrustedProxies { hops: 0 };

    /// Trusts `hops` proxies in front (1 to [`MAX_HOPS`]).
    pub fn hops(hops: u8) -> Result<Self, String> {
        if (1..=MAX_HOPS).contains(&hops) {
            Ok(Self { hops })
        } else {
            Err(format!(
                "ARKIV_TRUST_PROXY_HOPS must be from 1 to {MAX_HOPS}, not {hops}"
            ))
        }
    }

    /// Whether any proxy is trusted.
    pub fn any(self) -> bool {
        self.hops > 0
    }

    /// The client's address: the one the trusted proxies recorded, else the
    /// peer's.
    pub fn client(self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        if self.hops == 0 {
            return peer;
        }
        let hops = usize::from(self.hops);
        let forwarded = if headers.contains_key(FORWARDED) {
            from_forwarded(headers, hops)
        } else if headers.contains_key(X_FORWARDED_FOR) {
            from_x_forwarded_for(headers, hops)
        } else {
            None
        };
        forwarded.or(peer)
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Every value of a header joined into one list, or None when one of them
/// is not visible ASCII (a proxy never writes such a value).
fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut list = String::new();
    for value in headers.get_all(name) {
        if !list.is_empty() {
            list.push(',');
        }
        list.push_str(value.to_str().ok()?);
    }
    Some(list)
}

/// The entry `hops` from the right of a list.
fn from_right<T>(entries: &[T], hops: usize) -> Option<&T> {
    entries.len().checked_sub(hops).and_then(|i| entries.get(i))
}

fn from_x_forwarded_for(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let list = joined(headers, &X_FORWARDED_FOR)?;
    let entries: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    node_address(from_right(&entries, hops)?)
}

fn from_forwarded(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let list = joined(headers, &FORWARDED)?;
    let elements = forwarded_elements(&list)?;
    let element = from_right(&elements, hops)?;
    let (_, node) = element
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("for"))?;
    node_address(node)
}

/// The elements of a `Forwarded` list, each a list of (name, value) pairs
/// with quoted values unquoted; None when the list does not follow the
/// RFC 7239 grammar (a quote left open, a pair without `=`, …).
fn forwarded_elements(list: &str) -> Option<Vec<Vec<(String, String)>>> {
    let is_token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let mut elements = Vec::new();
    let mut element: Vec<(String, String)> = Vec::new();
    let mut chars = list.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        match chars.peek() {
            None => break,
            Some(',') => {
                chars.next();
                if !element.is_empty() {
                    elements.push(std::mem::take(&mut element));
                }
                continue;
            }
            Some(';') => {
                chars.next();
                continue;
            }
            Some(_) => {}
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| is_token(*c)) {
            name.push(c);
        }
        if name.is_empty() || chars.next() != Some('=') {
            return None;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) =
                chars.next_if(|c| is_token(*c) || *c == ':' || *c == '[' || *c == ']')
            {
                value.push(c);
            }
        }
        element.push((name, value));
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        if !matches!(chars.peek(), None | Some(',') | Some(';')) {
            return None;
        }
    }
    if !element.is_empty() {
        elements.push(element);
    }
    Some(elements)
}

/// The address of a node as proxies write it: `192.0.2.7`,
/// `192.0.2.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`. None for
/// `unknown`, an obfuscated identifier (`_hidden`) or anything else.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    // A bracketed IPv6 address with an obfuscated port (`[…]:_p`), or none.
    let rest = node.strip_prefix('[')?;
    let (inner, after) = rest.split_once(']')?;
    if !(after.is_empty() || after.starts_with(':')) {
        return None;
    }
    inner.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    const PEER: &str = "10.0.0.1";

    fn client(hops: u8, pairs: &[(&'static str, &'static str)]) -> Option<IpAddr> {
        let proxies = if hops == 0 {
            TrustedProxies::NONE
        } else {
            TrustedProxies::hops(hops).unwrap()
        };
        proxies.client(&headers(pairs), ip(PEER))
    }

    #[test]
    fn without_trust_the_peer_is_the_client() {
        let sent = [
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.8"),
        ];
        assert_eq!(client(0, &sent), ip(PEER));
    }

    #[test]
    fn the_entry_our_proxies_added_counts_not_what_the_client_sent() {
        let sent = [("x-forwarded-for", "6.6.6.6, 198.51.100.7")];
        assert_eq!(client(1, &sent), ip("198.51.100.7"));
        // A CDN and a load balancer: the CDN recorded the client.
        let sent = [("x-forwarded-for", "6.6.6.6, 198.51.100.7, 203.0.113.9")];
        assert_eq!(client(2, &sent), ip("198.51.100.7"));
        // Several header lines are one list.
        let sent = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
        ];
        assert_eq!(client(1, &sent), ip("198.51.100.7"));
        assert_eq!(client(2, &sent), ip("6.6.6.6"));
        // Fewer entries than hops: the header is not what our proxies write.
        assert_eq!(client(3, &sent), ip(PEER));
        assert_eq!(client(1, &[]), ip(PEER));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for() {
        let sent = [
            ("x-forwarded-for", "198.51.100.1"),
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https;by=_proxy",
            ),
        ];
        assert_eq!(client(1, &sent), ip("2001:db8::1"));
        assert_eq!(client(2, &sent), ip("6.6.6.6"));
        let sent = [("forwarded", "proto=https;for=\"192.0.2.60:47011\"")];
        assert_eq!(client(1, &sent), ip("192.0.2.60"));
        let sent = [("forwarded", "For=192.0.2.61, for=\"[2001:db8::2]\"")];
        assert_eq!(client(1, &sent), ip("2001:db8::2"));
        assert_eq!(client(2, &sent), ip("192.0.2.61"));
    }

    #[test]
    fn unknown_obfuscated_and_malformed_entries_fall_back_to_the_peer() {
        for forwarded in [
            "for=unknown",
            "for=_hidden",
            "for=\"_gazonk\"",
            "by=192.0.2.1",
            "for=\"[2001:db8::1]",
            "for",
            "for=192.0.2.1 junk",
            "for=\"[2001:db8::1]x\"",
            "for=300.1.1.1",
        ] {
            let sent = [
                ("forwarded", forwarded),
                ("x-forwarded-for", "198.51.100.1"),
            ];
            assert_eq!(client(1, &sent), ip(PEER), "{forwarded}");
        }
        for x_forwarded_for in ["unknown", "garbage", ", ,", "198.51.100.1.5"] {
            let sent = [("x-forwarded-for", x_forwarded_for)];
            assert_eq!(client(1, &sent), ip(PEER), "{x_forwarded_for}");
        }
        let mut map = HeaderMap::new();
        map.insert(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"198.51.100.1\xff").unwrap(),
        );
        assert_eq!(
            TrustedProxies::hops(1).unwrap().client(&map, ip(PEER)),
            ip(PEER)
        );
    }

    #[test]
    fn hop_counts_are_bounded() {
        assert!(TrustedProxies::hops(0).is_err());
        assert!(TrustedProxies::hops(1).is_ok());
        assert!(TrustedProxies::hops(MAX_HOPS).is_ok());
        assert!(TrustedProxies::hops(MAX_HOPS + 1).is_err());
    }
}
