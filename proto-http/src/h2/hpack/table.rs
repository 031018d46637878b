//! The dynamic table (RFC 7541 §2.3.2, §4).

use std::collections::VecDeque;

use bytes::Bytes;

use super::field::entry_size;

/// A FIFO of header fields bounded by a size in RFC 7541 §4.1 units.
///
/// The newest entry is at the front: dynamic index 0 here is wire index 62
/// (RFC 7541 §2.3.3). Entries hold `Bytes`, so decoded fields and table
/// entries share storage.
#[derive(Debug, Clone)]
pub(crate) struct DynamicTable {
    entries: VecDeque<(Bytes, Bytes)>,
    /// Sum of entry sizes (§4.1).
    size: usize,
    /// Current maximum size (§4.2); `size <= capacity` always holds.
    capacity: usize,
}

impl DynamicTable {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            size: 0,
            capacity,
        }
    }

    /// The entry at 0-based dynamic index `index` (wire index - 62).
    pub(crate) fn get(&self, index: usize) -> Option<&(Bytes, Bytes)> {
        self.entries.get(index)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Bytes, Bytes)> {
        self.entries.iter()
    }

    /// Adds an entry (§4.4): evicts from the end until it fits; an entry
    /// larger than the capacity empties the table and is not added.
    pub(crate) fn insert(&mut self, name: Bytes, value: Bytes) {
        let size = entry_size(name.len(), value.len());
        if size > self.capacity {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.capacity - size);
        self.size += size;
        self.entries.push_front((name, value));
    }

    /// Changes the maximum size, evicting as needed (§4.3).
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.evict_to(capacity);
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            let Some((name, value)) = self.entries.pop_back() else {
                break;
            };
            self.size -= entry_size(name.len(), value.len());
        }
    }

    /// First (newest) 0-based index whose name and value match.
    pub(crate) fn find_full(&self, name: &[u8], value: &[u8]) -> Option<usize> {
        self.entries
            .iter()
            .position(|(n, v)| n == name && v == value)
    }

    /// First (newest) 0-based index whose name matches.
    pub(crate) fn find_name(&self, name: &[u8]) -> Option<usize> {
        self.entries.iter().position(|(n, _)| n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn size_accounting_and_eviction() {
        let mut t = DynamicTable::new(100);
        t.insert(b("aaaa"), b("bbbb")); // 40
        t.insert(b("cccc"), b("dddd")); // 40
        assert_eq!((t.len(), t.size()), (2, 80));
        assert_eq!(t.get(0).unwrap().0, "cccc");
        t.insert(b("eeee"), b("ffff")); // evicts the oldest
        assert_eq!((t.len(), t.size()), (2, 80));
        assert_eq!(t.get(1).unwrap().0, "cccc");
        assert_eq!(t.find_full(b"eeee", b"ffff"), Some(0));
        assert_eq!(t.find_name(b"cccc"), Some(1));
        assert_eq!(t.find_name(b"aaaa"), None);
        // Exactly the capacity fits; one more empties the table (§4.4).
        t.insert(b("x"), Bytes::from(vec![b'y'; 67]));
        assert_eq!((t.len(), t.size()), (1, 100));
        t.insert(b("x"), Bytes::from(vec![b'y'; 68]));
        assert_eq!((t.len(), t.size()), (0, 0));
    }

    #[test]
    fn capacity_changes_evict() {
        let mut t = DynamicTable::new(4096);
        for i in 0..10u8 {
            t.insert(Bytes::from(vec![b'n'; 8]), Bytes::from(vec![i; 8]));
        }
        assert_eq!(t.size(), 480);
        t.set_capacity(100);
        assert_eq!((t.len(), t.size()), (2, 96));
        assert_eq!(t.get(0).unwrap().1[0], 9);
        t.set_capacity(0);
        assert_eq!((t.len(), t.size()), (0, 0));
    }
}
