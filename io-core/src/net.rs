//! Socket set-up shared by the backends.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// Binds a non-blocking std listener with `SO_REUSEADDR` and, when
/// `reuse_port`, `SO_REUSEPORT` (so each worker can own a listener on the
/// same port and the kernel spreads connections across them).
pub fn bind_std(
    addr: SocketAddr,
    reuse_port: bool,
    backlog: i32,
) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}
