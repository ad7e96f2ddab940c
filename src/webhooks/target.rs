//! Where a webhook's URL leads: its host resolved and every address
//! checked against [`crate::domain::net`], once at registration and again
//! at each delivery. At delivery the checked addresses are the only ones
//! the HTTP client is given ([`CheckedResolver`]), so a name that resolves
//! to a public address for the check and to an inside one a moment later
//! (DNS rebinding) cannot steer the connection.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::domain::net::{check_addresses, check_name, percent_decode, AllowList, Host, Refused};

/// The longest a name lookup may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The most addresses a connection tries (the HTTP client's own limit).
const MAX_ADDRESSES: usize = 16;

/// A webhook URL's host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: Host,
    pub port: u16,
    pub https: bool,
}

impl Target {
    /// Reads an absolute `http` or `https` URL, saying what is wrong with
    /// it when it is none.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|_| "is not a URL".to_owned())?;
        Self::from_uri(&uri)
    }

    /// Reads the target of a parsed URI.
    pub fn from_uri(uri: &Uri) -> Result<Self, String> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("must start with http:// or https://".into()),
        };
        let authority = uri
            .authority()
            .filter(|authority| !authority.host().is_empty())
            .ok_or("must name a host")?;
        let host = Host::parse(authority.host()).map_err(|why| format!("has a bad host: {why}"))?;
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        Ok(Self { host, port, https })
    }
}

/// The host of a URL that writes its host with %-escapes, decoded. The
/// HTTP client takes no such URL, but a reader that decodes hosts (as
/// browsers do) would go to this one, so it is checked all the same.
pub fn escaped_host(url: &str) -> Option<Host> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_and_port = authority.rsplit('@').next()?;
    if !host_and_port.contains('%') {
        return None;
    }
    let decoded = percent_decode(host_and_port).ok()?;
    let host = match decoded.find(']') {
        Some(end) if decoded.starts_with('[') => &decoded[..=end],
        _ => decoded
            .rsplit_once(':')
            .map_or(decoded.as_str(), |(host, _)| host),
    };
    Host::parse(host).ok()
}

/// Why a target cannot be contacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// The URL or its host is malformed.
    Invalid(String),
    /// The host is, or resolves to, an address webhooks may not reach.
    Forbidden(Refused),
    /// The name has no address.
    NotFound(String),
    /// The name's lookup took longer than allowed.
    LookupTimedOut(String),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Invalid(why) => write!(f, "the URL {why}"),
            TargetError::Forbidden(refused) => refused.fmt(f),
            TargetError::NotFound(name) => write!(f, "the host name {name} does not resolve"),
            TargetError::LookupTimedOut(name) => write!(
                f,
                "the host name {name} did not resolve within {} s",
                LOOKUP_TIMEOUT.as_secs()
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// Resolves a target (a literal address stands for itself) and checks
/// every address; returns them when all may be reached.
pub fn resolve(
    target: &Target,
    allow: &AllowList,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, TargetError> {
    let addresses = match &target.host {
        Host::Address(address) => vec![*address],
        Host::Name(name) => {
            check_name(name, allow).map_err(TargetError::Forbidden)?;
            lookup(name, timeout.min(LOOKUP_TIMEOUT))?
        }
    };
    check_addresses(&target.host, &addresses, allow).map_err(TargetError::Forbidden)?;
    Ok(addresses
        .into_iter()
        .map(|address| SocketAddr::new(address, target.port))
        .collect())
}

/// The addresses of a name, from the system's resolver, within `timeout`
/// (the lookup runs on a thread of its own, which is left behind when it
/// hangs).
fn lookup(name: &str, timeout: Duration) -> Result<Vec<IpAddr>, TargetError> {
    let (sender, receiver) = mpsc::sync_channel(1);
    let query = name.to_owned();
    let spawned = std::thread::Builder::new()
        .name("webhook-lookup".into())
        .spawn(move || {
            let found = (query.as_str(), 0)
                .to_socket_addrs()
                .map(|addresses| addresses.map(|a| a.ip()).collect::<Vec<_>>());
            let _ = sender.send(found);
        });
    if spawned.is_err() {
        // No thread, no lookup: the name counts as unresolved this time.
        return Err(TargetError::NotFound(name.to_owned()));
    }
    match receiver.recv_timeout(timeout) {
        Ok(Ok(mut addresses)) if !addresses.is_empty() => {
            addresses.dedup();
            Ok(addresses)
        }
        Ok(_) => Err(TargetError::NotFound(name.to_owned())),
        Err(_) => Err(TargetError::LookupTimedOut(name.to_owned())),
    }
}

/// The HTTP client's resolver for deliveries: it hands over only addresses
/// that passed the check, so the connection goes where the check looked.
/// A refusal comes back as `ureq::Error::Other` holding a [`TargetError`].
#[derive(Debug)]
pub struct CheckedResolver {
    allow: AllowList,
}

impl CheckedResolver {
    pub fn new(allow: AllowList) -> Self {
        Self { allow }
    }
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let refuse = |error: TargetError| ureq::Error::Other(Box::new(error));
        let target = Target::from_uri(uri).map_err(|why| refuse(TargetError::Invalid(why)))?;
        let found = resolve(&target, &self.allow, *timeout.after).map_err(refuse)?;
        let mut addresses = self.empty();
        for address in found.into_iter().take(MAX_ADDRESSES) {
            addresses.push(address);
        }
        Ok(addresses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(entries: &[&str]) -> AllowList {
        AllowList::parse(entries).expect("allow list")
    }

    #[test]
    fn urls_name_their_host_and_port() {
        for (url, host, port, https) in [
            ("http://example.org/hook", "example.org", 80, false),
            ("https://Example.ORG./hook", "example.org", 443, true),
            (
                "https://user:pw@example.org:8443/",
                "example.org",
                8443,
                true,
            ),
            ("http://2130706433/", "127.0.0.1", 80, false),
            ("http://0x7f.1:8080/", "127.0.0.1", 8080, false),
            ("http://[::1]:9/", "::1", 9, false),
            (
                "http://[::ffff:169.254.169.254]/",
                "::ffff:169.254.169.254",
                80,
                false,
            ),
            ("HTTP://LOCALHOST./", "localhost", 80, false),
        ] {
            let target = Target::parse(url).unwrap_or_else(|why| panic!("{url}: {why}"));
            assert_eq!(target.host.to_string(), host, "{url}");
            assert_eq!((target.port, target.https), (port, https), "{url}");
        }
        for bad in [
            "ftp://example.org/",
            "example.org/hook",
            "http:///hook",
            "http://08.0.0.1/",
            "http://%31%32%37.0.0.1/",
            "http://[fe80::1%25eth0]/",
            "not a url",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn escaped_hosts_are_read_decoded() {
        for (url, host) in [
            ("http://%31%32%37.0.0.1/hook", "127.0.0.1"),
            ("http://%31%32%37.0.0.1:8080/hook", "127.0.0.1"),
            ("http://user%40x:pw@%6c%6fcalhost:80/", "localhost"),
            ("https://%5b::1%5d:8443/", "::1"),
            ("http://%5B%3A%3A1%5D/", "::1"),
            ("http://%65xample.org?q", "example.org"),
        ] {
            assert_eq!(
                escaped_host(url).map(|host| host.to_string()).as_deref(),
                Some(host),
                "{url}"
            );
        }
        for url in [
            "http://example.org/%31",
            "http://127.0.0.1/",
            "http://%zz/",
            "nothing",
        ] {
            assert_eq!(escaped_host(url), None, "{url}");
        }
    }

    #[test]
    fn addresses_are_checked_without_a_lookup() {
        let none = AllowList::default();
        let target = Target::parse("http://0177.0.0.1:8080/").expect("target");
        match resolve(&target, &none, LOOKUP_TIMEOUT) {
            Err(TargetError::Forbidden(refused)) => {
                assert_eq!(
                    refused.to_string(),
                    "127.0.0.1 is a loopback address (127.0.0.0/8)"
                );
            }
            other => panic!("{other:?}"),
        }
        let allowed = resolve(&target, &allow(&["127.0.0.0/8"]), LOOKUP_TIMEOUT);
        assert_eq!(
            allowed,
            Ok(vec!["127.0.0.1:8080".parse().expect("address")])
        );
        let public = Target::parse("https://[2606:4700::1111]/").expect("target");
        assert_eq!(
            resolve(&public, &none, LOOKUP_TIMEOUT),
            Ok(vec!["[2606:4700::1111]:443".parse().expect("address")])
        );
    }

    #[test]
    fn localhost_is_refused_before_any_lookup() {
        let target = Target::parse("http://LocalHost.:8080/").expect("target");
        assert!(matches!(
            resolve(&target, &AllowList::default(), LOOKUP_TIMEOUT),
            Err(TargetError::Forbidden(Refused { address: None, .. }))
        ));
    }

    #[test]
    fn the_resolver_refuses_what_the_check_refuses() {
        let resolver = CheckedResolver::new(AllowList::default());
        let config = ureq::config::Config::default();
        let uri: Uri = "http://169.254.169.254/latest/meta-data/"
            .parse()
            .expect("URI");
        let error = resolver
            .resolve(&uri, &config, NextTimeout::default())
            .expect_err("refused");
        let ureq::Error::Other(inner) = error else {
            panic!("{error:?}")
        };
        assert!(matches!(
            inner.downcast_ref::<TargetError>(),
            Some(TargetError::Forbidden(_))
        ));
        let allowed = CheckedResolver::new(allow(&["169.254.169.254"]))
            .resolve(&uri, &config, NextTimeout::default())
            .expect("allowed");
        assert_eq!(
            allowed.iter().collect::<Vec<_>>(),
            [&"169.254.169.254:80".parse::<SocketAddr>().expect("address")]
        );
    }
}
