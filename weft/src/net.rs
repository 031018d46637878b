//! TCP types of the default backend. Code generic over
//! [`Backend`] uses `B::Stream` / `B::Listener` instead.

use crate::rt::{Backend, DefaultBackend};

/// A connected TCP socket on the default backend.
pub type TcpStream = <DefaultBackend as Backend>::Stream;
/// A TCP listener on the default backend.
pub type TcpListener = <DefaultBackend as Backend>::Listener;
