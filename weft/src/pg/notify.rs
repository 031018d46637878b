//! LISTEN/NOTIFY: notifications delivered to a subscriber
//! ("Asynchronous Operations", 55.2.7).

use std::fmt;
use std::future::poll_fn;

use proto_pg::types::ToSql;

pub use proto_pg::Notification;

use super::conn::Connection;
use super::error::Error;

/// Receives the `NotificationResponse`s of one connection, in arrival
/// order. While at least one subscriber exists the connection keeps up to
/// 65,536 unread notifications (dropping the oldest beyond that); with
/// none, notifications are discarded.
pub struct Notifications {
    conn: Connection,
}

impl fmt::Debug for Notifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

impl Notifications {
    /// The next notification; fails once the connection is closed.
    pub async fn recv(&mut self) -> Result<Notification, Error> {
        poll_fn(|cx| self.conn.poll_notification(cx)).await
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        self.conn.subscribe_notifications(-1);
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Connection {
    /// A subscriber for this connection's notifications. Subscribe before
    /// [`listen`](Self::listen) so nothing is missed.
    pub fn notifications(&self) -> Notifications {
        self.subscribe_notifications(1);
        Notifications { conn: self.clone() }
    }

    /// `LISTEN channel` (the name is quoted as an identifier).
    pub async fn listen(&self, channel: &str) -> Result<(), Error> {
        self.batch_execute(&format!("LISTEN {}", quote_ident(channel)))
            .await
    }

    /// `UNLISTEN channel`.
    pub async fn unlisten(&self, channel: &str) -> Result<(), Error> {
        self.batch_execute(&format!("UNLISTEN {}", quote_ident(channel)))
            .await
    }

    /// `SELECT pg_notify(channel, payload)`.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), Error> {
        let params: [&dyn ToSql; 2] = [&channel, &payload];
        self.execute("SELECT pg_catalog.pg_notify($1, $2)", &params)
            .await
            .map(drop)
    }
}
