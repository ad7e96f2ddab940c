//! Which addresses a webhook may reach, decided without I/O: the host of a
//! URL in any spelling resolvers accept, the address ranges that are not
//! the public internet, and the operator's allow list.
//!
//! Resolvers take more than dotted quads: `inet_aton`, which getaddrinfo
//! uses for numeric hosts, reads `2130706433`, `0177.0.0.1`, `0x7f.1` and
//! `127.1` as 127.0.0.1. [`Host::parse`] reads a host the same way (as the
//! WHATWG URL standard does), so a number is never mistaken for a name; a
//! host that ends in a number but is no address is refused as malformed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The host of a webhook's URL, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A literal address, however it was written.
    Address(IpAddr),
    /// A DNS name: lowercase ASCII, without a trailing dot.
    Name(String),
}

impl Host {
    /// Parses the host part of a URL (`example.org`, `0x7f.1`, `[::1]`,
    /// `%31%32%37.0.0.1`, `Example.ORG.`), saying what is wrong with it
    /// when it is none.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let decoded = percent_decode(raw)?.to_ascii_lowercase();
        if let Some(inner) = decoded.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| format!("{raw:?} opens a bracket it does not close"))?;
            return inner
                .parse::<Ipv6Addr>()
                .map(|address| Host::Address(IpAddr::V6(address)))
                .map_err(|_| format!("{raw:?} is not an IPv6 address"));
        }
        let host = decoded.strip_suffix('.').unwrap_or(&decoded);
        if host.is_empty() {
            return Err("the host is empty".into());
        }
        if ends_in_a_number(host) {
            return parse_ipv4(host)
                .map(|address| Host::Address(IpAddr::V4(address)))
                .ok_or_else(|| format!("{raw:?} ends in a number but is not an IPv4 address"));
        }
        let labels_ok = host.len() <= 253
            && host.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !labels_ok {
            return Err(format!(
                "{raw:?} is not a host name (ASCII letters, digits and hyphens in dot-separated labels; an internationalised name in its xn-- form)"
            ));
        }
        Ok(Host::Name(host.to_owned()))
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Address(address) => address.fmt(f),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// Decodes `%XX` escapes; the result must be ASCII.
pub fn percent_decode(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let byte = bytes
                .get(at + 1..at + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("{raw:?} has a malformed %-escape"))?;
            decoded.push(byte);
            at += 3;
        } else {
            decoded.push(bytes[at]);
            at += 1;
        }
    }
    match String::from_utf8(decoded) {
        Ok(text) if text.is_ascii() => Ok(text),
        _ => Err(format!(
            "{raw:?} is not ASCII: give an internationalised name in its xn-- form"
        )),
    }
}

/// Whether the last label is a number (decimal, or `0x` and hex digits):
/// such a host is an IPv4 address or nothing (the WHATWG URL rule).
fn ends_in_a_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or(host);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Reads an IPv4 address the way `inet_aton` does: one to four parts, each
/// decimal, octal (a leading `0`) or hex (`0x`); the last part fills the
/// bytes the others leave (`127.1` is 127.0.0.1, `2130706433` too).
pub fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for part in &parts {
        numbers.push(parse_ipv4_number(part)?);
    }
    let (last, leading) = numbers.split_last()?;
    let mut address: u64 = 0;
    for (index, &number) in leading.iter().enumerate() {
        if number > 255 {
            return None;
        }
        address |= number << (8 * (3 - index));
    }
    let room = 8 * (4 - leading.len());
    if *last >= 1u64 << room {
        return None;
    }
    address |= last;
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

/// One part of an `inet_aton` address; None past 32 bits.
fn parse_ipv4_number(part: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x") {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        // `0x` alone is zero, for inet_aton and URL parsers alike; an
        // empty part (`127..1`) is nothing.
        return (radix == 16).then_some(0);
    }
    let mut value: u64 = 0;
    for digit in digits.chars() {
        value = value * radix + u64::from(digit.to_digit(radix as u32)?);
        if value > u64::from(u32::MAX) {
            return None;
        }
    }
    Some(value)
}

/// Why an address is no public internet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPublic {
    /// What the range is for, e.g. "loopback".
    pub range: &'static str,
    /// For an IPv6 form that carries an IPv4 address (IPv4-mapped, NAT64,
    /// 6to4): the form, and the IPv4 address that was refused.
    pub inside: Option<(&'static str, Ipv4Addr)>,
}

impl fmt::Display for NotPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inside {
            Some((form, v4)) => write!(f, "the {form} form of {v4}, {}", self.range),
            None => f.write_str(self.range),
        }
    }
}

/// The IPv4 ranges that are not the public internet (IANA's special-purpose
/// registry, less nothing a webhook could need).
const IPV4_RANGES: &[([u8; 4], u8, &str)] = &[
    ([255, 255, 255, 255], 32, "the broadcast address"),
    ([0, 0, 0, 0], 32, "the unspecified address"),
    ([0, 0, 0, 0], 8, "\"this network\" (0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "a private address (10.0.0.0/8)"),
    ([100, 64, 0, 0], 10, "a shared address (100.64.0.0/10)"),
    ([127, 0, 0, 0], 8, "a loopback address (127.0.0.0/8)"),
    (
        [169, 254, 0, 0],
        16,
        "a link-local address (169.254.0.0/16)",
    ),
    ([172, 16, 0, 0], 12, "a private address (172.16.0.0/12)"),
    (
        [192, 0, 0, 0],
        24,
        "an IETF protocol address (192.0.0.0/24)",
    ),
    ([192, 0, 2, 0], 24, "a documentation address (192.0.2.0/24)"),
    (
        [192, 88, 99, 0],
        24,
        "a 6to4 relay address (192.88.99.0/24)",
    ),
    ([192, 168, 0, 0], 16, "a private address (192.168.0.0/16)"),
    (
        [198, 18, 0, 0],
        15,
        "a benchmarking address (198.18.0.0/15)",
    ),
    (
        [198, 51, 100, 0],
        24,
        "a documentation address (198.51.100.0/24)",
    ),
    (
        [203, 0, 113, 0],
        24,
        "a documentation address (203.0.113.0/24)",
    ),
    ([224, 0, 0, 0], 4, "a multicast address (224.0.0.0/4)"),
    ([240, 0, 0, 0], 4, "a reserved address (240.0.0.0/4)"),
];

/// The IPv6 ranges refused outright; everything outside 2000::/3 (global
/// unicast) is refused too, except the forms that carry an IPv4 address,
/// which are judged by that address.
const IPV6_RANGES: &[([u16; 8], u8, &str)] = &[
    ([0, 0, 0, 0, 0, 0, 0, 0], 128, "the unspecified address"),
    ([0, 0, 0, 0, 0, 0, 0, 1], 128, "the loopback address"),
    (
        [0, 0, 0, 0, 0, 0, 0, 0],
        96,
        "an IPv4-compatible address (::/96, deprecated)",
    ),
    (
        [0xfe80, 0, 0, 0, 0, 0, 0, 0],
        10,
        "a link-local address (fe80::/10)",
    ),
    (
        [0xfec0, 0, 0, 0, 0, 0, 0, 0],
        10,
        "a site-local address (fec0::/10)",
    ),
    (
        [0xfc00, 0, 0, 0, 0, 0, 0, 0],
        7,
        "a unique-local address (fc00::/7)",
    ),
    (
        [0xff00, 0, 0, 0, 0, 0, 0, 0],
        8,
        "a multicast address (ff00::/8)",
    ),
    (
        [0x2001, 0x0db8, 0, 0, 0, 0, 0, 0],
        32,
        "a documentation address (2001:db8::/32)",
    ),
    (
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "a documentation address (3fff::/20)",
    ),
    (
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "an IETF protocol address (2001::/23: Teredo, benchmarking, ORCHID)",
    ),
];

/// Whether `address` lies in `network/prefix`.
fn in_v4(address: Ipv4Addr, network: [u8; 4], prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(address) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

fn in_v6(address: Ipv6Addr, network: [u16; 8], prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(address) & mask == u128::from(Ipv6Addr::from(network)) & mask
}

/// The IPv4 address an IPv6 one stands for, where it is one of the forms
/// that reach an IPv4 host: IPv4-mapped (`::ffff:a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::…`).
fn embedded_ipv4(address: Ipv6Addr) -> Option<(&'static str, Ipv4Addr)> {
    let bits = u128::from(address);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if in_v6(address, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96) {
        return Some(("IPv4-mapped", low));
    }
    if in_v6(address, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return Some(("NAT64", low));
    }
    if in_v6(address, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return Some(("6to4", Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32)));
    }
    None
}

/// Why `address` is not a public internet address, or None when it is one.
pub fn not_public(address: IpAddr) -> Option<NotPublic> {
    match address {
        IpAddr::V4(v4) => IPV4_RANGES
            .iter()
            .find(|(network, prefix, _)| in_v4(v4, *network, *prefix))
            .map(|(_, _, range)| NotPublic {
                range,
                inside: None,
            }),
        IpAddr::V6(v6) => {
            if let Some((form, v4)) = embedded_ipv4(v6) {
                return not_public(IpAddr::V4(v4)).map(|refused| NotPublic {
                    inside: Some((form, v4)),
                    ..refused
                });
            }
            let range = IPV6_RANGES
                .iter()
                .find(|(network, prefix, _)| in_v6(v6, *network, *prefix))
                .map(|(_, _, range)| *range)
                .or_else(|| {
                    (!in_v6(v6, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3))
                        .then_some("a reserved address (outside 2000::/3, global unicast)")
                })?;
            Some(NotPublic {
                range,
                inside: None,
            })
        }
    }
}

/// Names that are loopback by definition (RFC 6761), refused before any
/// lookup, whatever the machine's resolver makes of them.
pub fn is_loopback_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// An address range: an address and how many leading bits count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `fd00::/8`, or a lone address (all its bits).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let address = address.trim_start_matches('[').trim_end_matches(']');
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{raw:?} is not an address or CIDR range"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| {
                    format!("{raw:?}: the prefix length must be a number from 0 to {bits}")
                })?,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                in_v4(address, network.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                in_v6(address, network.segments(), self.prefix)
            }
            _ => false,
        }
    }
}

/// What the operator lets webhooks reach although it is not public
/// (`ARKIV_WEBHOOK_ALLOW`): host names, whatever they resolve to, and
/// addresses or ranges. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    names: Vec<String>,
    ranges: Vec<Cidr>,
}

impl AllowList {
    /// Reads entries such as `hooks.intranet.example`, `10.1.2.3`,
    /// `10.0.0.0/8`, `[fd00::1]`; blank entries are skipped.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut allow = Self::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if let Ok(range) = Cidr::parse(entry) {
                allow.ranges.push(range);
                continue;
            }
            if entry.contains('/') {
                return Err(Cidr::parse(entry)
                    .err()
                    .unwrap_or_else(|| format!("{entry:?} is not a range")));
            }
            match Host::parse(entry) {
                Ok(Host::Name(name)) => allow.names.push(name),
                // Odd spellings of addresses belong in no setting.
                Ok(Host::Address(_)) | Err(_) => {
                    return Err(format!(
                        "{entry:?} is not a host name, an address or a CIDR range"
                    ))
                }
            }
        }
        Ok(allow)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.ranges.is_empty()
    }

    /// Whether this host name is allowed, whatever it resolves to.
    pub fn allows_name(&self, name: &str) -> bool {
        self.names.iter().any(|allowed| allowed == name)
    }

    /// Whether this address lies in an allowed address or range.
    pub fn allows_address(&self, address: IpAddr) -> bool {
        self.ranges.iter().any(|range| range.contains(address))
    }
}

/// Why a webhook target is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub host: Host,
    /// The address refused: the host itself, or one it resolved to. None
    /// for a name refused before any lookup (`localhost`).
    pub address: Option<IpAddr>,
    pub why: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.address) {
            (Host::Address(_), Some(address)) => write!(f, "{address} is {}", self.why),
            (Host::Name(name), Some(address)) => {
                write!(f, "{name} resolves to {address}, {}", self.why)
            }
            (host, None) => write!(f, "{host} is {}", self.why),
        }
    }
}

/// Refuses a name before it is looked up, when it is loopback by definition
/// and not allowed.
pub fn check_name(name: &str, allow: &AllowList) -> Result<(), Refused> {
    if is_loopback_name(name) && !allow.allows_name(name) {
        return Err(Refused {
            host: Host::Name(name.to_owned()),
            address: None,
            why: "a loopback name".into(),
        });
    }
    Ok(())
}

/// Checks every address `host` stands for: each must be public, or
/// allowed; an allowed name passes whatever it resolved to.
pub fn check_addresses(
    host: &Host,
    addresses: &[IpAddr],
    allow: &AllowList,
) -> Result<(), Refused> {
    if let Host::Name(name) = host {
        if allow.allows_name(name) {
            return Ok(());
        }
        check_name(name, allow)?;
    }
    for &address in addresses {
        if allow.allows_address(address) {
            continue;
        }
        if let Some(refused) = not_public(address) {
            return Err(Refused {
                host: host.clone(),
                address: Some(address),
                why: refused.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> IpAddr {
        IpAddr::V4(text.parse().expect("IPv4"))
    }

    fn address_of(host: &str) -> IpAddr {
        match Host::parse(host) {
            Ok(Host::Address(address)) => address,
            other => panic!("{host}: {other:?}"),
        }
    }

    #[test]
    fn numbers_are_read_as_inet_aton_reads_them() {
        for (spelling, meant) in [
            ("127.0.0.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("0x7f.0.0.1", "127.0.0.1"),
            ("0x7F.0.0.1", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("017700000001", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0177.0x0.1", "127.0.0.1"),
            ("127.0.0.1.", "127.0.0.1"),
            ("0", "0.0.0.0"),
            ("0x", "0.0.0.0"),
            ("1.0x", "1.0.0.0"),
            ("0.0.0.0", "0.0.0.0"),
            ("00000000000000127.0.0.1", "87.0.0.1"),
            ("169.254.43518", "169.254.169.254"),
            ("0xa9fea9fe", "169.254.169.254"),
            ("2852039166", "169.254.169.254"),
            ("4294967295", "255.255.255.255"),
            ("1572394766", "93.184.215.14"),
            ("%31%32%37.0.0.1", "127.0.0.1"),
        ] {
            assert_eq!(address_of(spelling), v4(meant), "{spelling}");
        }
    }

    #[test]
    fn numbers_that_are_no_address_are_refused_not_looked_up() {
        for spelling in [
            "4294967296",
            "256.0.0.1",
            "1.2.3.4.5",
            "08.0.0.1",
            "0x100000000",
            "127..1",
            "foo.1",
            "127.0.0.1..",
            "1.2.3.256",
            "1.2.65536",
        ] {
            assert!(Host::parse(spelling).is_err(), "{spelling}");
        }
    }

    #[test]
    fn names_are_normalised_and_checked() {
        for (spelling, name) in [
            ("Example.ORG", "example.org"),
            ("example.org.", "example.org"),
            ("LOCALHOST.", "localhost"),
            ("%6c%6F%63alhost", "localhost"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("a-b_c.example", "a-b_c.example"),
            ("1.2.3.example", "1.2.3.example"),
            ("0x7f.example", "0x7f.example"),
            ("example.0x1g", "example.0x1g"),
        ] {
            assert_eq!(
                Host::parse(spelling),
                Ok(Host::Name(name.into())),
                "{spelling}"
            );
        }
        for bad in [
            "",
            ".",
            "exa mple.org",
            "a..b",
            "bücher.example",
            "%c3%bc.example",
            "%zz.example",
            "%4",
            "[::1",
            "[nonsense]",
            "[fe80::1%25eth0]",
            &"a".repeat(64),
        ] {
            assert!(Host::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ipv6_in_brackets() {
        for (spelling, meant) in [
            ("[::1]", "::1"),
            ("[::]", "::"),
            ("[0:0:0:0:0:0:0:1]", "::1"),
            ("[::FFFF:127.0.0.1]", "::ffff:127.0.0.1"),
            ("[::ffff:7f00:1]", "::ffff:127.0.0.1"),
            ("%5b::1%5d", "::1"),
        ] {
            let meant: Ipv6Addr = meant.parse().expect("IPv6");
            assert_eq!(address_of(spelling), IpAddr::V6(meant), "{spelling}");
        }
    }

    /// Every spelling of every range that is not the public internet.
    #[test]
    fn inside_addresses_are_refused() {
        let refused = [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("2130706433", "loopback"),
            ("0177.0.0.1", "loopback"),
            ("0x7f.0.0.1", "loopback"),
            ("0x7f000001", "loopback"),
            ("127.1", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("0", "unspecified"),
            ("0.1.2.3", "this network"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared"),
            ("100.127.255.255", "shared"),
            ("169.254.169.254", "link-local"),
            ("169.254.43518", "link-local"),
            ("0xa9fea9fe", "link-local"),
            ("192.0.0.8", "IETF"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.1", "documentation"),
            ("203.0.113.255", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("[::]", "unspecified"),
            ("[::1]", "loopback"),
            ("[::ffff:127.0.0.1]", "loopback"),
            ("[::ffff:7f00:1]", "loopback"),
            ("[::ffff:169.254.169.254]", "link-local"),
            ("[::ffff:10.0.0.1]", "private"),
            ("[::ffff:0.0.0.0]", "unspecified"),
            ("[::127.0.0.1]", "IPv4-compatible"),
            ("[::10.0.0.1]", "IPv4-compatible"),
            ("[64:ff9b::127.0.0.1]", "loopback"),
            ("[64:ff9b::a9fe:a9fe]", "link-local"),
            ("[2002:7f00:1::]", "loopback"),
            ("[2002:a9fe:a9fe::1]", "link-local"),
            ("[2002:c0a8:0101::]", "private"),
            ("[fe80::1]", "link-local"),
            ("[febf:ffff::1]", "link-local"),
            ("[fec0::1]", "site-local"),
            ("[fc00::1]", "unique-local"),
            ("[fd12:3456::1]", "unique-local"),
            ("[ff02::1]", "multicast"),
            ("[2001:db8::1]", "documentation"),
            ("[3fff::1]", "documentation"),
            ("[2001::1]", "IETF"),
            ("[2001:2::1]", "IETF"),
            ("[64:ff9b:1::1]", "reserved"),
            ("[100::1]", "reserved"),
            ("[4000::1]", "reserved"),
        ];
        for (spelling, range) in refused {
            let address = address_of(spelling);
            let why = not_public(address).unwrap_or_else(|| panic!("{spelling} was let through"));
            assert!(
                why.to_string().contains(range),
                "{spelling}: {why} is not {range}"
            );
            let refusal =
                check_addresses(&Host::Address(address), &[address], &AllowList::default())
                    .expect_err(spelling);
            assert_eq!(refusal.address, Some(address));
        }
    }

    #[test]
    fn public_addresses_pass() {
        for spelling in [
            "93.184.215.14",
            "1572394766",
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "[2606:4700::1111]",
            "[2a00:1450:4001:80b::200e]",
            "[2001:4860:4860::8888]",
            "[::ffff:93.184.215.14]",
            "[64:ff9b::5db8:d70e]",
            "[2002:5db8:d70e::1]",
            "[2001:200::1]",
        ] {
            let address = address_of(spelling);
            assert_eq!(not_public(address), None, "{spelling}");
            assert_eq!(
                check_addresses(&Host::Address(address), &[address], &AllowList::default()),
                Ok(()),
                "{spelling}"
            );
        }
    }

    #[test]
    fn every_address_a_name_resolves_to_is_checked() {
        let host = Host::Name("partner.example".into());
        let public = v4("93.184.215.14");
        let inside = v4("10.1.2.3");
        let none = AllowList::default();
        assert_eq!(check_addresses(&host, &[public], &none), Ok(()));
        let refused = check_addresses(&host, &[public, inside], &none).expect_err("mixed");
        assert_eq!(refused.address, Some(inside));
        assert_eq!(
            refused.to_string(),
            "partner.example resolves to 10.1.2.3, a private address (10.0.0.0/8)"
        );
        // The name is allowed: whatever it resolves to.
        let by_name = AllowList::parse(&["Partner.Example."]).expect("allow list");
        assert_eq!(check_addresses(&host, &[public, inside], &by_name), Ok(()));
        // The address is allowed: only it.
        let by_range = AllowList::parse(&["10.1.0.0/16"]).expect("allow list");
        assert_eq!(check_addresses(&host, &[public, inside], &by_range), Ok(()));
        let other = v4("10.2.0.1");
        assert!(check_addresses(&host, &[inside, other], &by_range).is_err());
    }

    #[test]
    fn localhost_is_refused_by_name() {
        let none = AllowList::default();
        for name in ["localhost", "LOCALHOST.", "api.localhost"] {
            let Ok(Host::Name(parsed)) = Host::parse(name) else {
                panic!("{name}")
            };
            let refused = check_name(&parsed, &none).expect_err(name);
            assert_eq!(refused.address, None);
            assert!(check_addresses(&Host::Name(parsed.clone()), &[], &none).is_err());
            let allowed = AllowList::parse(&[parsed.as_str()]).expect("allow list");
            assert_eq!(check_name(&parsed, &allowed), Ok(()));
        }
        assert_eq!(check_name("localhost.example", &none), Ok(()));
    }

    #[test]
    fn allow_lists_are_read_strictly() {
        let allow = AllowList::parse(&[
            " 127.0.0.1",
            "10.0.0.0/8",
            "[fd00::1]",
            "fe80::/10",
            "",
            "hooks.intranet",
        ])
        .expect("allow list");
        assert!(allow.allows_address(v4("127.0.0.1")));
        assert!(!allow.allows_address(v4("127.0.0.2")));
        assert!(allow.allows_address(v4("10.200.0.1")));
        assert!(allow.allows_address("fd00::1".parse().expect("IPv6")));
        assert!(!allow.allows_address("fd00::2".parse().expect("IPv6")));
        assert!(allow.allows_address("fe80::abcd".parse().expect("IPv6")));
        assert!(!allow.allows_address("::ffff:127.0.0.1".parse().expect("IPv6")));
        assert!(allow.allows_name("hooks.intranet"));
        assert!(!allow.allows_name("intranet"));
        assert!(AllowList::parse(&["0.0.0.0/0"])
            .expect("everything")
            .allows_address(v4("192.168.0.1")));
        assert!(AllowList::parse::<&str>(&[]).expect("empty").is_empty());
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/x",
            "::/129",
            "0x7f.1",
            "2130706433",
            "not a name",
            "intranet/8",
        ] {
            assert!(AllowList::parse(&[bad]).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any 32-bit number, in any inet_aton spelling, is read as the
        /// address it is.
        #[test]
        fn every_spelling_of_an_address_is_that_address(bits: u32, parts in 1usize..=4, radix in 0usize..3) {
            let address = Ipv4Addr::from(bits);
            let octets = address.octets();
            let mut numbers: Vec<u64> = octets[..parts - 1].iter().map(|&o| u64::from(o)).collect();
            let rest = octets[parts - 1..].iter().fold(0u64, |acc, &o| acc << 8 | u64::from(o));
            numbers.push(rest);
            let spelled: Vec<String> = numbers
                .iter()
                .map(|n| match radix {
                    0 => n.to_string(),
                    1 => format!("0{n:o}"),
                    _ => format!("0x{n:x}"),
                })
                .collect();
            let text = spelled.join(".");
            prop_assert_eq!(Host::parse(&text), Ok(Host::Address(IpAddr::V4(address))), "{}", text);
        }

        /// The checker never panics, and an address it passes is in none
        /// of the refused ranges in any of its IPv6 forms.
        #[test]
        fn mapped_forms_agree_with_the_address(bits: u32) {
            let v4 = Ipv4Addr::from(bits);
            let verdict = not_public(IpAddr::V4(v4)).is_some();
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            let [a, b, c, d] = v4.octets();
            let nat64 = IpAddr::V6(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])));
            let six_to_four = IpAddr::V6(Ipv6Addr::new(0x2002, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]), 0, 0, 0, 0, 1));
            prop_assert_eq!(not_public(mapped).is_some(), verdict);
            prop_assert_eq!(not_public(nat64).is_some(), verdict);
            prop_assert_eq!(not_public(six_to_four).is_some(), verdict);
        }
    }
}
