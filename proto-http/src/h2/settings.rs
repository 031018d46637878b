//! SETTINGS parameters (RFC 9113 §6.5.2) and their validation.

/// A SETTINGS parameter as carried on the wire: 16-bit identifier, 32-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// `SETTINGS_HEADER_TABLE_SIZE` (0x1): the sender's HPACK decoder table limit.
    HeaderTableSize(u32),
    /// `SETTINGS_ENABLE_PUSH` (0x2): whether server push is allowed (0 or 1).
    EnablePush(bool),
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` (0x3).
    MaxConcurrentStreams(u32),
    /// `SETTINGS_INITIAL_WINDOW_SIZE` (0x4): at most 2^31 - 1.
    InitialWindowSize(u32),
    /// `SETTINGS_MAX_FRAME_SIZE` (0x5): between 2^14 and 2^24 - 1.
    MaxFrameSize(u32),
    /// `SETTINGS_MAX_HEADER_LIST_SIZE` (0x6), advisory.
    MaxHeaderListSize(u32),
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (0x8, RFC 8441 §3): 0 or 1.
    EnableConnectProtocol(bool),
    /// A parameter this crate does not know; RFC 9113 §6.5.2 says to ignore it.
    Unknown {
        /// The identifier.
        id: u16,
        /// The value.
        value: u32,
    },
}

/// Largest flow-control window (RFC 9113 §6.9.1): 2^31 - 1.
pub const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;
/// Smallest allowed `SETTINGS_MAX_FRAME_SIZE`, also its initial value: 2^14.
pub const MIN_MAX_FRAME_SIZE: u32 = 1 << 14;
/// Largest allowed `SETTINGS_MAX_FRAME_SIZE`: 2^24 - 1.
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;

/// Why a SETTINGS parameter is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvalidSetting {
    /// A value outside its range: connection error `PROTOCOL_ERROR`.
    Protocol,
    /// `SETTINGS_INITIAL_WINDOW_SIZE` above 2^31 - 1: connection error
    /// `FLOW_CONTROL_ERROR`.
    FlowControl,
}

impl Setting {
    /// The 16-bit identifier.
    pub const fn id(self) -> u16 {
        match self {
            Self::HeaderTableSize(_) => 0x1,
            Self::EnablePush(_) => 0x2,
            Self::MaxConcurrentStreams(_) => 0x3,
            Self::InitialWindowSize(_) => 0x4,
            Self::MaxFrameSize(_) => 0x5,
            Self::MaxHeaderListSize(_) => 0x6,
            Self::EnableConnectProtocol(_) => 0x8,
            Self::Unknown { id, .. } => id,
        }
    }

    /// The 32-bit value as sent.
    pub const fn value(self) -> u32 {
        match self {
            Self::HeaderTableSize(v)
            | Self::MaxConcurrentStreams(v)
            | Self::InitialWindowSize(v)
            | Self::MaxFrameSize(v)
            | Self::MaxHeaderListSize(v)
            | Self::Unknown { value: v, .. } => v,
            Self::EnablePush(b) | Self::EnableConnectProtocol(b) => b as u32,
        }
    }

    /// Interprets a wire parameter, validating its range (RFC 9113 §6.5.2).
    pub(crate) fn from_wire(id: u16, value: u32) -> Result<Self, InvalidSetting> {
        let flag = |v: u32| match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(InvalidSetting::Protocol),
        };
        Ok(match id {
            0x1 => Self::HeaderTableSize(value),
            0x2 => Self::EnablePush(flag(value)?),
            0x3 => Self::MaxConcurrentStreams(value),
            0x4 if value > MAX_WINDOW_SIZE => return Err(InvalidSetting::FlowControl),
            0x4 => Self::InitialWindowSize(value),
            0x5 if !(MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) => {
                return Err(InvalidSetting::Protocol);
            }
            0x5 => Self::MaxFrameSize(value),
            0x6 => Self::MaxHeaderListSize(value),
            0x8 => Self::EnableConnectProtocol(flag(value)?),
            id => Self::Unknown { id, value },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_per_rfc_9113_6_5_2() {
        assert_eq!(Setting::from_wire(0x2, 1), Ok(Setting::EnablePush(true)));
        assert_eq!(Setting::from_wire(0x2, 2), Err(InvalidSetting::Protocol));
        assert_eq!(
            Setting::from_wire(0x4, MAX_WINDOW_SIZE),
            Ok(Setting::InitialWindowSize(MAX_WINDOW_SIZE))
        );
        assert_eq!(
            Setting::from_wire(0x4, MAX_WINDOW_SIZE + 1),
            Err(InvalidSetting::FlowControl)
        );
        assert_eq!(
            Setting::from_wire(0x5, MIN_MAX_FRAME_SIZE - 1),
            Err(InvalidSetting::Protocol)
        );
        assert_eq!(
            Setting::from_wire(0x5, MAX_MAX_FRAME_SIZE + 1),
            Err(InvalidSetting::Protocol)
        );
        assert_eq!(
            Setting::from_wire(0x5, MAX_MAX_FRAME_SIZE),
            Ok(Setting::MaxFrameSize(MAX_MAX_FRAME_SIZE))
        );
        assert_eq!(Setting::from_wire(0x8, 3), Err(InvalidSetting::Protocol));
        assert_eq!(
            Setting::from_wire(0x99, 7),
            Ok(Setting::Unknown { id: 0x99, value: 7 })
        );
        for id in 0..=0x10u16 {
            if let Ok(s) = Setting::from_wire(id, 1 << 14) {
                assert_eq!((s.id(), s.value()), (id, 1 << 14));
            }
        }
    }
}
