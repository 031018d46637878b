//! How a worker sleeps on its ring, and how other threads wake it.
//!
//! [`UringPark::park`] is one `io_uring_enter`: it submits every queued SQE,
//! waits for at least one completion or the timeout (`IORING_ENTER_EXT_ARG`
//! with a timespec), and dispatches what completed. A read of an eventfd is
//! kept in flight on the ring at all times; [`EventfdUnpark::unpark`] writes
//! to that eventfd, which completes the read and ends the wait. A write made
//! before the worker parks leaves the counter non-zero, so the next wait
//! completes at once: no wake-up is lost.

use crate::ring::Driver;
use io_core::{Park, Unpark};
use std::io;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// The io_uring backend's [`Park`].
pub(crate) struct UringPark {
    driver: Rc<Driver>,
}

impl UringPark {
    pub(crate) fn new(driver: Rc<Driver>) -> Self {
        UringPark { driver }
    }
}

impl Park for UringPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.driver.park(timeout)
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.driver.unparker()
    }
}

/// Wakes a parked ring from any thread through its eventfd.
#[derive(Debug)]
pub(crate) struct EventfdUnpark {
    fd: Arc<OwnedFd>,
}

impl EventfdUnpark {
    pub(crate) fn new(fd: Arc<OwnedFd>) -> Self {
        EventfdUnpark { fd }
    }
}

impl Unpark for EventfdUnpark {
    fn unpark(&self) {
        crate::sys::eventfd_signal(&self.fd);
    }
}
