//! The suites, one module each, all built on [`crate::framework`].
//!
//! A new suite is a module exposing a
//! `pub const SUITE: Suite` whose `cases` function lists its [`Case`]s in
//! section order, added to [`ALL`].
//!
//! [`Case`]: crate::framework::Case

pub mod h1;
pub mod h2;
pub mod memcache;
pub mod pg;
pub mod resp;

use crate::framework::Suite;

/// Every suite, in the order `--list` shows them.
pub const ALL: &[Suite] = &[
    h1::SUITE,
    h2::SUITE,
    resp::SUITE,
    memcache::SUITE,
    pg::SUITE,
];

/// The suite called `name`.
pub fn find(name: &str) -> Option<&'static Suite> {
    ALL.iter().find(|s| s.name == name)
}
