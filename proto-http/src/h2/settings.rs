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

/// The values of all SETTINGS parameters one endpoint has announced,
/// starting from the initial values of RFC 9113 §6.5.2; an absent limit
/// (`None`) is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// `SETTINGS_HEADER_TABLE_SIZE`, initially 4096.
    pub header_table_size: u32,
    /// `SETTINGS_ENABLE_PUSH`, initially `true`.
    pub enable_push: bool,
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`, initially unlimited.
    pub max_concurrent_streams: Option<u32>,
    /// `SETTINGS_INITIAL_WINDOW_SIZE`, initially 65 535.
    pub initial_window_size: u32,
    /// `SETTINGS_MAX_FRAME_SIZE`, initially 16 384.
    pub max_frame_size: u32,
    /// `SETTINGS_MAX_HEADER_LIST_SIZE`, initially unlimited.
    pub max_header_list_size: Option<u32>,
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441), initially `false`.
    pub enable_connect_protocol: bool,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: None,
            initial_window_size: 65_535,
            max_frame_size: MIN_MAX_FRAME_SIZE,
            max_header_list_size: None,
            enable_connect_protocol: false,
        }
    }
}

impl ConnectionSettings {
    /// Applies one received parameter (in frame order, §6.5.3); unknown
    /// parameters are ignored. Values were range-checked by the frame decoder.
    pub fn apply(&mut self, setting: Setting) {
        match setting {
            Setting::HeaderTableSize(v) => self.header_table_size = v,
            Setting::EnablePush(v) => self.enable_push = v,
            Setting::MaxConcurrentStreams(v) => self.max_concurrent_streams = Some(v),
            Setting::InitialWindowSize(v) => self.initial_window_size = v,
            Setting::MaxFrameSize(v) => self.max_frame_size = v,
            Setting::MaxHeaderListSize(v) => self.max_header_list_size = Some(v),
            Setting::EnableConnectProtocol(v) => self.enable_connect_protocol = v,
            Setting::Unknown { .. } => {}
        }
    }

    /// The parameters that differ from the initial values: what a SETTINGS
    /// frame must carry to announce `self` to a peer that assumes defaults.
    pub fn non_default(&self) -> Vec<Setting> {
        let d = Self::default();
        let mut out = Vec::new();
        if self.header_table_size != d.header_table_size {
            out.push(Setting::HeaderTableSize(self.header_table_size));
        }
        if self.enable_push != d.enable_push {
            out.push(Setting::EnablePush(self.enable_push));
        }
        if let Some(v) = self.max_concurrent_streams {
            out.push(Setting::MaxConcurrentStreams(v));
        }
        if self.initial_window_size != d.initial_window_size {
            out.push(Setting::InitialWindowSize(self.initial_window_size));
        }
        if self.max_frame_size != d.max_frame_size {
            out.push(Setting::MaxFrameSize(self.max_frame_size));
        }
        if let Some(v) = self.max_header_list_size {
            out.push(Setting::MaxHeaderListSize(v));
        }
        if self.enable_connect_protocol != d.enable_connect_protocol {
            out.push(Setting::EnableConnectProtocol(self.enable_connect_protocol));
        }
        out
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

    #[test]
    fn connection_settings_apply_and_announce() {
        let mut s = ConnectionSettings::default();
        assert!(s.non_default().is_empty());
        for p in [
            Setting::HeaderTableSize(0),
            Setting::EnablePush(false),
            Setting::MaxConcurrentStreams(100),
            Setting::InitialWindowSize(1 << 20),
            Setting::MaxFrameSize(1 << 20),
            Setting::MaxHeaderListSize(16_384),
            Setting::EnableConnectProtocol(true),
            Setting::Unknown { id: 0x77, value: 1 },
        ] {
            s.apply(p);
        }
        let announced = s.non_default();
        assert_eq!(announced.len(), 7);
        let mut again = ConnectionSettings::default();
        announced.into_iter().for_each(|p| again.apply(p));
        assert_eq!(again, s);
        // Later values win (§6.5.3).
        s.apply(Setting::HeaderTableSize(4096));
        assert_eq!(s.header_table_size, 4096);
    }
}
