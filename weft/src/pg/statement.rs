//! Prepared statements and the per-connection statement cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use proto_pg::Oid;

/// One result column, from the statement's `RowDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    name: String,
    type_oid: Oid,
    table_oid: Oid,
    column_id: i16,
}

impl Column {
    pub(crate) fn new(name: &str, type_oid: Oid, table_oid: Oid, column_id: i16) -> Column {
        Column {
            name: name.to_owned(),
            type_oid,
            table_oid,
            column_id,
        }
    }

    /// The column name (`?column?` for an unnamed expression).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The data type's OID (see [`proto_pg::types::oid`]).
    pub fn type_oid(&self) -> Oid {
        self.type_oid
    }

    /// The source table's OID, 0 for an expression.
    pub fn table_oid(&self) -> Oid {
        self.table_oid
    }

    /// The source column's attribute number, 0 for an expression.
    pub fn column_id(&self) -> i16 {
        self.column_id
    }
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) sql: String,
    pub(crate) params: Vec<Oid>,
    pub(crate) columns: Arc<[Column]>,
}

/// A statement prepared on one connection (`Parse`), with its parameter
/// types and result columns. Cheap to clone. Statements come from the
/// connection's cache: if the server forgot it (`DISCARD ALL`, SQLSTATE
/// `26000`), the driver prepares it again from its SQL text.
#[derive(Clone)]
pub struct Statement(pub(crate) Arc<Inner>);

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Statement")
            .field("name", &self.0.name)
            .field("sql", &self.0.sql)
            .field("params", &self.0.params)
            .field("columns", &self.0.columns)
            .finish()
    }
}

impl Statement {
    /// The parameter type OIDs the server inferred.
    pub fn params(&self) -> &[Oid] {
        &self.0.params
    }

    /// The result columns (empty for a statement returning no rows).
    pub fn columns(&self) -> &[Column] {
        &self.0.columns
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.0.sql
    }

    /// The server-side statement name.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

/// Something that names a statement: SQL text (prepared through the
/// cache) or a [`Statement`].
pub trait ToStatement {
    /// The SQL text, to prepare or re-prepare.
    fn sql(&self) -> &str;
    /// The already prepared statement, if this is one.
    fn statement(&self) -> Option<&Statement> {
        None
    }
}

impl ToStatement for str {
    fn sql(&self) -> &str {
        self
    }
}

impl ToStatement for String {
    fn sql(&self) -> &str {
        self
    }
}

impl ToStatement for Statement {
    fn sql(&self) -> &str {
        &self.0.sql
    }
    fn statement(&self) -> Option<&Statement> {
        Some(self)
    }
}

impl<T: ToStatement + ?Sized> ToStatement for &T {
    fn sql(&self) -> &str {
        (**self).sql()
    }
    fn statement(&self) -> Option<&Statement> {
        (**self).statement()
    }
}

/// Least-recently-used statements by SQL text.
pub(crate) struct Cache {
    cap: usize,
    map: HashMap<String, (Statement, u64)>,
    tick: u64,
}

impl Cache {
    pub(crate) fn new(cap: usize) -> Cache {
        Cache {
            cap,
            map: HashMap::new(),
            tick: 0,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    pub(crate) fn get(&mut self, sql: &str) -> Option<Statement> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(sql).map(|(s, t)| {
            *t = tick;
            s.clone()
        })
    }

    /// Adds `stmt`; returns the statements the server should close: the
    /// least recently used one when full, or `stmt` itself when another
    /// caller cached the same SQL first.
    pub(crate) fn insert(&mut self, stmt: Statement) -> Option<Statement> {
        if self.cap == 0 {
            return Some(stmt);
        }
        if self.map.contains_key(&stmt.0.sql) {
            return Some(stmt);
        }
        let mut evicted = None;
        if self.map.len() >= self.cap {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                evicted = self.map.remove(&k).map(|(s, _)| s);
            }
        }
        self.tick += 1;
        self.map.insert(stmt.0.sql.clone(), (stmt, self.tick));
        evicted
    }

    /// Forgets `stmt` if it is the cached one for its SQL.
    pub(crate) fn remove(&mut self, stmt: &Statement) {
        if self
            .map
            .get(&stmt.0.sql)
            .is_some_and(|(s, _)| Arc::ptr_eq(&s.0, &stmt.0))
        {
            self.map.remove(&stmt.0.sql);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> Statement {
        Statement(Arc::new(Inner {
            name: format!("n_{sql}"),
            sql: sql.into(),
            params: vec![],
            columns: Arc::from(Vec::new()),
        }))
    }

    #[test]
    fn lru_evicts_least_recently_used() {
        let mut c = Cache::new(2);
        assert!(c.insert(stmt("a")).is_none());
        assert!(c.insert(stmt("b")).is_none());
        assert!(c.get("a").is_some());
        let ev = c.insert(stmt("c")).unwrap();
        assert_eq!(ev.sql(), "b");
        assert!(c.get("b").is_none());
        assert_eq!(c.len(), 2);
        // A duplicate is handed back for closing; the first one stays.
        let dup = stmt("a");
        let back = c.insert(dup.clone()).unwrap();
        assert!(Arc::ptr_eq(&back.0, &dup.0));
        c.remove(&dup); // not the cached one: no effect
        assert!(c.get("a").is_some());
        c.clear();
        assert_eq!(c.len(), 0);
        assert!(Cache::new(0).insert(stmt("x")).is_some());
    }
}
