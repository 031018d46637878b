//! Backend message encoding, as a server writes them (test servers,
//! proxies, and the decode/encode round trip the fuzz targets check).

use super::{Authentication, BackendMessage, TransactionStatus};

impl BackendMessage<'_> {
    /// The message type byte.
    pub fn tag(&self) -> u8 {
        use BackendMessage as M;
        match self {
            M::Authentication(_) => b'R',
            M::BackendKeyData { .. } => b'K',
            M::BindComplete => b'2',
            M::CloseComplete => b'3',
            M::CommandComplete(_) => b'C',
            M::CopyData(_) => b'd',
            M::CopyDone => b'c',
            M::CopyInResponse(_) => b'G',
            M::CopyOutResponse(_) => b'H',
            M::CopyBothResponse(_) => b'W',
            M::DataRow(_) => b'D',
            M::EmptyQueryResponse => b'I',
            M::ErrorResponse(_) => b'E',
            M::FunctionCallResponse(_) => b'V',
            M::NegotiateProtocolVersion { .. } => b'v',
            M::NoData => b'n',
            M::NoticeResponse(_) => b'N',
            M::NotificationResponse { .. } => b'A',
            M::ParameterDescription(_) => b't',
            M::ParameterStatus { .. } => b'S',
            M::ParseComplete => b'1',
            M::PortalSuspended => b's',
            M::ReadyForQuery(_) => b'Z',
            M::RowDescription(_) => b'T',
        }
    }

    /// Encodes the message as a server would (for test servers, proxies
    /// and the fuzz round-trip check).
    pub fn encode(&self, buf: &mut bytes::BytesMut) {
        use BackendMessage as M;
        use bytes::BufMut;
        let start = buf.len();
        buf.put_u8(self.tag());
        buf.put_i32(0);
        let cstr = |b: &mut bytes::BytesMut, s: &str| {
            b.put_slice(s.as_bytes());
            b.put_u8(0);
        };
        match self {
            M::Authentication(a) => {
                let (code, data): (i32, &[u8]) = match a {
                    Authentication::Ok => (0, &[]),
                    Authentication::KerberosV5 => (2, &[]),
                    Authentication::CleartextPassword => (3, &[]),
                    Authentication::Md5Password(s) => (5, s),
                    Authentication::ScmCredential => (6, &[]),
                    Authentication::Gss => (7, &[]),
                    Authentication::GssContinue(d) => (8, d),
                    Authentication::Sspi => (9, &[]),
                    Authentication::Sasl(m) => (10, m.raw),
                    Authentication::SaslContinue(d) => (11, d),
                    Authentication::SaslFinal(d) => (12, d),
                };
                buf.put_i32(code);
                buf.put_slice(data);
                if matches!(a, Authentication::Sasl(_)) {
                    buf.put_u8(0);
                }
            }
            M::BackendKeyData {
                process_id,
                secret_key,
            } => {
                buf.put_i32(*process_id);
                buf.put_slice(secret_key);
            }
            M::CommandComplete(t) => cstr(buf, t.0),
            M::CopyData(d) => buf.put_slice(d),
            M::CopyInResponse(c) | M::CopyOutResponse(c) | M::CopyBothResponse(c) => {
                buf.put_u8(c.format.code() as u8);
                buf.put_u16(c.columns() as u16);
                buf.put_slice(c.codes);
            }
            M::DataRow(d) => {
                buf.put_u16(d.count);
                buf.put_slice(d.body);
            }
            M::ErrorResponse(f) | M::NoticeResponse(f) => buf.put_slice(f.body),
            M::FunctionCallResponse(v) => match v {
                Some(v) => {
                    buf.put_i32(v.len() as i32);
                    buf.put_slice(v);
                }
                None => buf.put_i32(-1),
            },
            M::NegotiateProtocolVersion {
                newest_minor,
                unrecognized,
            } => {
                buf.put_i32(*newest_minor);
                buf.put_i32(unrecognized.iter().count() as i32);
                buf.put_slice(unrecognized.raw);
            }
            M::NotificationResponse {
                process_id,
                channel,
                payload,
            } => {
                buf.put_i32(*process_id);
                cstr(buf, channel);
                cstr(buf, payload);
            }
            M::ParameterDescription(p) => {
                buf.put_u16(p.len() as u16);
                buf.put_slice(p.body);
            }
            M::ParameterStatus { name, value } => {
                cstr(buf, name);
                cstr(buf, value);
            }
            M::ReadyForQuery(s) => buf.put_u8(match s {
                TransactionStatus::Idle => b'I',
                TransactionStatus::InTransaction => b'T',
                TransactionStatus::Failed => b'E',
            }),
            M::RowDescription(r) => {
                buf.put_u16(r.count);
                buf.put_slice(r.body);
            }
            M::BindComplete
            | M::CloseComplete
            | M::CopyDone
            | M::EmptyQueryResponse
            | M::NoData
            | M::ParseComplete
            | M::PortalSuspended => {}
        }
        let len = (buf.len() - start - 1) as i32;
        buf[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
    }
}
