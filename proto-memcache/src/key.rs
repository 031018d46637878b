//! Key validation (protocol.txt "Keys").

use crate::error::KeyError;
use crate::limits::Limits;

/// Checks a key for the text, meta and binary protocols.
///
/// protocol.txt "Keys": at most 250 characters (configurable through
/// [`Limits::max_key_len`]) and "the key must not include control characters
/// or whitespace". The binary protocol would carry any byte, but a key stored
/// through it must stay reachable from the text protocol, so the same rule
/// applies to every flavour. Binary-safe keys go through the meta protocol's
/// `b` (base64) flag instead.
pub fn validate_key(key: &[u8], limits: &Limits) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > limits.max_key_len {
        return Err(KeyError::TooLong {
            len: key.len(),
            limit: limits.max_key_len,
        });
    }
    if let Some(index) = key.iter().position(|&b| !is_key_byte(b)) {
        return Err(KeyError::InvalidByte {
            index,
            byte: key[index],
        });
    }
    Ok(())
}

/// True for bytes allowed in a text-protocol key: no ASCII control
/// characters, no space, no DEL.
#[inline]
pub(crate) fn is_key_byte(b: u8) -> bool {
    b > b' ' && b != 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_printable_keys() {
        let l = Limits::default();
        assert!(validate_key(b"user:42", &l).is_ok());
        assert!(validate_key(&[b'k'; 250], &l).is_ok());
        assert!(validate_key("clé".as_bytes(), &l).is_ok());
    }

    #[test]
    fn rejects_bad_keys() {
        let l = Limits::default();
        assert_eq!(validate_key(b"", &l), Err(KeyError::Empty));
        assert_eq!(
            validate_key(&[b'k'; 251], &l),
            Err(KeyError::TooLong {
                len: 251,
                limit: 250
            })
        );
        assert_eq!(
            validate_key(b"a b", &l),
            Err(KeyError::InvalidByte {
                index: 1,
                byte: b' '
            })
        );
        assert_eq!(
            validate_key(b"a\r\nset", &l),
            Err(KeyError::InvalidByte {
                index: 1,
                byte: b'\r'
            })
        );
        assert_eq!(
            validate_key(b"x\x7f", &l),
            Err(KeyError::InvalidByte {
                index: 1,
                byte: 0x7f
            })
        );
    }
}
