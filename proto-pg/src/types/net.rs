//! inet and cidr.
//!
//! Binary (`inet_send`): family (2 = IPv4, 3 = IPv6), prefix bits, is-cidr
//! flag, address length (4 or 16), address bytes.

use std::fmt;
use std::net::IpAddr;

use bytes::{BufMut, BytesMut};

use super::{FromSql, IsNull, ToSql, TypeError, Typed, oid, utf8};
use crate::message::{Format, Oid};

const AF_INET: u8 = 2;
const AF_INET6: u8 = 3;

/// An `inet` or `cidr` value: an address and a prefix length.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Inet {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (32 or 128 for a single host).
    pub netmask: u8,
}

impl Inet {
    /// A host address (full prefix).
    pub fn host(addr: IpAddr) -> Inet {
        Inet {
            addr,
            netmask: max_bits(&addr),
        }
    }
}

fn max_bits(a: &IpAddr) -> u8 {
    if a.is_ipv4() { 32 } else { 128 }
}

impl fmt::Display for Inet {
    /// `inet` output: the prefix is omitted for a single host.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.netmask == max_bits(&self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.netmask)
        }
    }
}

impl std::str::FromStr for Inet {
    type Err = TypeError;

    fn from_str(s: &str) -> Result<Inet, TypeError> {
        let (a, m) = s.split_once('/').map_or((s, None), |(a, m)| (a, Some(m)));
        let addr: IpAddr = a.parse().map_err(|_| TypeError::Invalid("inet"))?;
        let netmask = match m {
            Some(m) => m.parse().map_err(|_| TypeError::Invalid("inet"))?,
            None => max_bits(&addr),
        };
        if netmask > max_bits(&addr) {
            return Err(TypeError::Invalid("inet"));
        }
        Ok(Inet { addr, netmask })
    }
}

impl Typed for Inet {
    const OID: Oid = oid::INET;
}

impl ToSql for Inet {
    fn type_oid(&self) -> Oid {
        oid::INET
    }

    fn accepts(&self, oid: Oid) -> bool {
        oid == oid::INET || oid == oid::CIDR
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if self.netmask > max_bits(&self.addr) {
            return Err(TypeError::OutOfRange("inet prefix"));
        }
        match format {
            Format::Text if oid == oid::CIDR => {
                out.put_slice(format!("{}/{}", self.addr, self.netmask).as_bytes())
            }
            Format::Text => out.put_slice(self.to_string().as_bytes()),
            Format::Binary => {
                let cidr = (oid == oid::CIDR) as u8;
                match self.addr {
                    IpAddr::V4(a) => {
                        out.put_slice(&[AF_INET, self.netmask, cidr, 4]);
                        out.put_slice(&a.octets());
                    }
                    IpAddr::V6(a) => {
                        out.put_slice(&[AF_INET6, self.netmask, cidr, 16]);
                        out.put_slice(&a.octets());
                    }
                }
            }
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for Inet {
    fn accepts(oid: Oid) -> bool {
        oid == oid::INET || oid == oid::CIDR
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match format {
            Format::Text => utf8(raw, "inet")?.parse(),
            Format::Binary => {
                let bad = TypeError::Invalid("inet");
                let addr: IpAddr = match raw {
                    [AF_INET, _, _, 4, a @ ..] if a.len() == 4 => {
                        IpAddr::from(<[u8; 4]>::try_from(a).map_err(|_| bad.clone())?)
                    }
                    [AF_INET6, _, _, 16, a @ ..] if a.len() == 16 => {
                        IpAddr::from(<[u8; 16]>::try_from(a).map_err(|_| bad.clone())?)
                    }
                    _ => return Err(bad),
                };
                let netmask = raw[1];
                if netmask > max_bits(&addr) {
                    return Err(bad);
                }
                Ok(Inet { addr, netmask })
            }
        }
    }
}
