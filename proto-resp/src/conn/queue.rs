//! The requests awaiting replies, in wire order (replies are matched
//! first-in first-out: RESP3 spec, "Request-Response model").
//!
//! A run of ordinary requests sent together (one reply each, consecutive
//! ids: what a pipeline of GETs and SETs is) is kept as ONE entry with a
//! count, so a 1000-deep pipeline costs one queue entry, not 1000 pushes
//! and pops.

use std::collections::VecDeque;

use crate::event::ReqId;

use super::state::{Expect, Owner, Pending};

/// One entry: a request, and for a user request expecting one reply, how
/// many more such requests with the following ids come right after it.
#[derive(Debug)]
struct Entry {
    head: Pending,
    more: u64,
}

/// Requests in wire order; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    entries: VecDeque<Entry>,
    /// Requests in all entries.
    len: usize,
}

impl Queue {
    /// Requests queued (a run counts each of its requests).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a request.
    #[inline]
    pub(crate) fn push_back(&mut self, p: Pending) {
        self.len += 1;
        self.entries.push_back(Entry { head: p, more: 0 });
    }

    /// Appends a run of `n > 0` ordinary user requests (one reply each),
    /// ids `first`, `first + 1`, ...
    #[inline]
    pub(crate) fn push_run(&mut self, first: ReqId, n: u64) {
        debug_assert!(n > 0);
        self.len += usize::try_from(n).unwrap_or(usize::MAX);
        self.entries.push_back(Entry {
            head: Pending {
                owner: Owner::User(first),
                expect: Expect::One,
            },
            more: n - 1,
        });
    }

    /// The request at the head (the first of a run).
    #[inline]
    pub(crate) fn front(&self) -> Option<&Pending> {
        self.entries.front().map(|e| &e.head)
    }

    /// The request at the head, to update (a subscribe-family command's
    /// confirmations; never part of a run).
    pub(crate) fn front_mut(&mut self) -> Option<&mut Pending> {
        self.entries.front_mut().map(|e| &mut e.head)
    }

    /// Removes and returns the request at the head.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<Pending> {
        let e = self.entries.front_mut()?;
        self.len -= 1;
        if e.more > 0 {
            // Only runs of `Owner::User` + `Expect::One` have more.
            if let Owner::User(id) = &mut e.head.owner {
                let this = *id;
                id.0 += 1;
                e.more -= 1;
                return Some(Pending {
                    owner: Owner::User(this),
                    expect: Expect::One,
                });
            }
        }
        self.entries.pop_front().map(|e| e.head)
    }

    /// How many requests at the head, at most `max`, are ordinary user
    /// requests (one reply each): what [`take_plain`](Self::take_plain)
    /// may remove.
    pub(crate) fn plain_heads(&self, max: usize) -> usize {
        let mut n = 0usize;
        for e in &self.entries {
            if n >= max || !matches!(e.head.owner, Owner::User(_)) {
                break;
            }
            if !matches!(e.head.expect, Expect::One) {
                break;
            }
            n = n.saturating_add(
                usize::try_from(e.more)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
            );
        }
        n.min(max)
    }

    /// Removes `k` requests from the head, all counted by
    /// [`plain_heads`](Self::plain_heads).
    pub(crate) fn take_plain(&mut self, mut k: usize) {
        while k > 0 {
            let Some(e) = self.entries.front_mut() else {
                return;
            };
            let here = usize::try_from(e.more)
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            if here <= k {
                self.entries.pop_front();
                self.len -= here;
                k -= here;
            } else {
                if let Owner::User(id) = &mut e.head.owner {
                    id.0 += k as u64;
                }
                e.more -= k as u64;
                self.len -= k;
                return;
            }
        }
    }

    /// Moves `other`'s requests to the back, in order.
    pub(crate) fn append(&mut self, other: &mut Queue) {
        self.len += other.len;
        other.len = 0;
        self.entries.append(&mut other.entries);
    }

    /// True if a handshake request is queued.
    pub(crate) fn has_handshake(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.head.owner, Owner::Handshake(_)))
    }

    /// User requests queued (a run counts each of its requests).
    pub(crate) fn user_requests(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.head.owner, Owner::User(_)))
            .map(|e| {
                usize::try_from(e.more)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64) -> Pending {
        Pending {
            owner: Owner::User(ReqId(id)),
            expect: Expect::One,
        }
    }

    fn id_of(p: Option<Pending>) -> Option<u64> {
        match p?.owner {
            Owner::User(id) => Some(id.0),
            Owner::Handshake(_) => None,
        }
    }

    #[test]
    fn runs_split_in_order() {
        let mut q = Queue::default();
        q.push_run(ReqId(0), 3);
        q.push_back(Pending {
            owner: Owner::User(ReqId(3)),
            expect: Expect::Reset,
        });
        q.push_run(ReqId(4), 2);
        q.push_back(user(6));
        assert_eq!(q.len(), 7);
        assert_eq!(q.user_requests(), 7);
        assert_eq!(q.entries.len(), 4);
        assert_eq!(q.plain_heads(10), 3);
        assert_eq!(q.plain_heads(2), 2);
        assert_eq!(id_of(q.pop_front()), Some(0));
        q.take_plain(1);
        assert_eq!(q.len(), 5);
        assert!(matches!(
            q.front(),
            Some(Pending {
                owner: Owner::User(ReqId(2)),
                ..
            })
        ));
        assert_eq!(q.plain_heads(10), 1);
        q.take_plain(1);
        assert!(matches!(q.front().map(|p| &p.expect), Some(Expect::Reset)));
        assert_eq!(q.plain_heads(10), 0);
        assert_eq!(id_of(q.pop_front()), Some(3));
        // A run and the single request after it: taken across entries.
        assert_eq!(q.plain_heads(10), 3);
        q.take_plain(3);
        assert!(q.is_empty());
        assert!(q.pop_front().is_none());
        q.push_run(ReqId(7), 2);
        assert_eq!(id_of(q.pop_front()), Some(7));
        assert_eq!(id_of(q.pop_front()), Some(8));
        assert!(q.is_empty());
    }

    #[test]
    fn handshake_requests_are_never_plain() {
        let mut q = Queue::default();
        q.push_back(Pending {
            owner: Owner::Handshake(super::super::state::Step::Hello),
            expect: Expect::One,
        });
        q.push_back(user(0));
        assert!(q.has_handshake());
        assert_eq!(q.user_requests(), 1);
        assert_eq!(q.plain_heads(5), 0);
        assert_eq!(id_of(q.pop_front()), None);
        assert!(!q.has_handshake());
        let mut other = Queue::default();
        other.push_back(user(1));
        q.append(&mut other);
        assert!(other.is_empty());
        assert_eq!(q.len(), 2);
        assert_eq!(q.plain_heads(5), 2);
    }
}
