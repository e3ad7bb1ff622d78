use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Domain(String),
    V4(Ipv4Addr),
    /// Written `[..]` in a URI (RFC 3261 §25.1 IPv6reference).
    V6(Ipv6Addr),
}

/// A generic `name[=value]` parameter (URI params, header params).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

/// A sip:, sips: or tel: URI. For tel: the number is in `user` and `host` is empty domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uri {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Vec<Param>,
    /// `?h=v&...` URI headers, kept as written.
    pub headers: Vec<(String, String)>,
}
