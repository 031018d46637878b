//! Arrays of any supported element type, any number of dimensions (up to
//! the server's 6), with NULL elements.
//!
//! Binary (`array_send`): Int32 ndim, Int32 has-nulls flag, element type
//! OID, then per dimension Int32 length and Int32 lower bound, then each
//! element as Int32 length (-1 = NULL) and bytes, in row-major order.
//! Text (`array_out`): `{a,b}` nested per dimension, elements quoted with
//! `"` when needed (backslash escapes `"` and `\`), `NULL` unquoted, and a
//! `[lo:hi]...=` prefix when a lower bound is not 1.

use bytes::{BufMut, BytesMut};

use super::{FromSql, IsNull, ToSql, TypeError, Typed, oid, utf8};
use crate::message::{Format, Oid};

/// `MAXDIM` in the server.
const MAX_DIMS: usize = 6;

/// One array dimension.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Dimension {
    /// Number of elements along this dimension.
    pub len: i32,
    /// Index of the first element (1 unless set otherwise).
    pub lower_bound: i32,
}

/// A possibly multi-dimensional array. Elements are stored flat in
/// row-major order; use `Option<T>` elements for arrays with NULLs.
#[derive(Clone, PartialEq, Debug)]
pub struct Array<T> {
    dims: Vec<Dimension>,
    elements: Vec<T>,
}

impl<T> Array<T> {
    /// A one-dimensional array (lower bound 1). Empty input gives the
    /// zero-dimensional empty array, as in PostgreSQL.
    pub fn from_vec(elements: Vec<T>) -> Array<T> {
        let dims = if elements.is_empty() {
            Vec::new()
        } else {
            vec![Dimension {
                len: elements.len() as i32,
                lower_bound: 1,
            }]
        };
        Array { dims, elements }
    }

    /// An array with explicit dimensions; fails unless the element count
    /// matches their product and there are at most 6 dimensions.
    pub fn from_parts(dims: Vec<Dimension>, elements: Vec<T>) -> Result<Array<T>, TypeError> {
        if dims.len() > MAX_DIMS || dims.iter().any(|d| d.len < 0) {
            return Err(TypeError::Limit("array dimensions"));
        }
        let n = element_count(&dims)?;
        if n != elements.len() {
            return Err(TypeError::Invalid("array shape"));
        }
        Ok(Array { dims, elements })
    }

    /// The dimensions (empty for an empty array).
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dims
    }

    /// The elements in row-major order.
    pub fn elements(&self) -> &[T] {
        &self.elements
    }

    /// The elements, consuming the array.
    pub fn into_elements(self) -> Vec<T> {
        self.elements
    }
}

fn element_count(dims: &[Dimension]) -> Result<usize, TypeError> {
    if dims.is_empty() {
        return Ok(0);
    }
    dims.iter().try_fold(1usize, |acc, d| {
        usize::try_from(d.len)
            .ok()
            .and_then(|l| acc.checked_mul(l))
            .ok_or(TypeError::Limit("array size"))
    })
}

fn quote_needed(s: &[u8]) -> bool {
    s.is_empty()
        || s.eq_ignore_ascii_case(b"NULL")
        || s.iter()
            .any(|b| matches!(b, b'{' | b'}' | b',' | b'"' | b'\\') || b.is_ascii_whitespace())
}

impl<T: ToSql + Typed> Typed for Array<T> {
    const OID: Oid = array_oid_const(T::OID);
}

const fn array_oid_const(elem: Oid) -> Oid {
    let mut i = 0;
    while i < oid::ARRAYS.len() {
        if oid::ARRAYS[i].0 == elem {
            return oid::ARRAYS[i].1;
        }
        i += 1;
    }
    0
}

impl<T: ToSql + Typed> ToSql for Array<T> {
    fn type_oid(&self) -> Oid {
        <Self as Typed>::OID
    }

    fn accepts(&self, oid: Oid) -> bool {
        match oid::element_of(oid) {
            Some(e) => {
                self.elements.iter().all(|v| v.accepts(e))
                    && (e == T::OID || !self.elements.is_empty())
            }
            None => false,
        }
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        let elem = oid::element_of(oid).unwrap_or(T::OID);
        match format {
            Format::Binary => {
                out.put_i32(self.dims.len() as i32);
                let has_null_at = out.len();
                out.put_i32(0);
                out.put_u32(elem);
                for d in &self.dims {
                    out.put_i32(d.len);
                    out.put_i32(d.lower_bound);
                }
                let mut has_null = false;
                for v in &self.elements {
                    let at = out.len();
                    out.put_i32(0);
                    match v.to_sql(elem, Format::Binary, out)? {
                        IsNull::Yes => {
                            has_null = true;
                            out[at..at + 4].copy_from_slice(&(-1i32).to_be_bytes());
                        }
                        IsNull::No => {
                            let n = i32::try_from(out.len() - at - 4)
                                .map_err(|_| TypeError::OutOfRange("array element"))?;
                            out[at..at + 4].copy_from_slice(&n.to_be_bytes());
                        }
                    }
                }
                if has_null {
                    out[has_null_at..has_null_at + 4].copy_from_slice(&1i32.to_be_bytes());
                }
            }
            Format::Text => {
                if self.dims.iter().any(|d| d.lower_bound != 1) {
                    for d in &self.dims {
                        out.put_slice(
                            format!(
                                "[{}:{}]",
                                d.lower_bound,
                                d.lower_bound as i64 + d.len as i64 - 1
                            )
                            .as_bytes(),
                        );
                    }
                    out.put_u8(b'=');
                }
                if self.dims.is_empty() {
                    out.put_slice(b"{}");
                    return Ok(IsNull::No);
                }
                let mut idx = 0;
                write_text_dim(&self.dims, &self.elements, &mut idx, elem, out)?;
            }
        }
        Ok(IsNull::No)
    }
}

fn write_text_dim<T: ToSql>(
    dims: &[Dimension],
    elements: &[T],
    idx: &mut usize,
    elem: Oid,
    out: &mut BytesMut,
) -> Result<(), TypeError> {
    out.put_u8(b'{');
    for i in 0..dims[0].len {
        if i > 0 {
            out.put_u8(b',');
        }
        if dims.len() > 1 {
            write_text_dim(&dims[1..], elements, idx, elem, out)?;
            continue;
        }
        let v = elements
            .get(*idx)
            .ok_or(TypeError::Invalid("array shape"))?;
        *idx += 1;
        let mut tmp = BytesMut::new();
        match v.to_sql(elem, Format::Text, &mut tmp)? {
            IsNull::Yes => out.put_slice(b"NULL"),
            IsNull::No if quote_needed(&tmp) => {
                out.put_u8(b'"');
                for b in tmp.iter() {
                    if *b == b'"' || *b == b'\\' {
                        out.put_u8(b'\\');
                    }
                    out.put_u8(*b);
                }
                out.put_u8(b'"');
            }
            IsNull::No => out.put_slice(&tmp),
        }
    }
    out.put_u8(b'}');
    Ok(())
}

/// Element types must own their data (`String`, not `&str`): text array
/// elements are unescaped into temporaries.
impl<T: for<'b> FromSql<'b>> FromSql<'_> for Array<T> {
    fn accepts(oid: Oid) -> bool {
        oid::element_of(oid).is_some_and(T::accepts)
    }

    fn from_sql(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        let elem = oid::element_of(oid).ok_or(TypeError::WrongType { oid, rust: "Array" })?;
        match format {
            Format::Binary => read_binary(elem, raw),
            Format::Text => {
                let text = utf8(raw, "array")?;
                read_text(elem, text)
            }
        }
    }
}

fn read_binary<T: for<'b> FromSql<'b>>(elem: Oid, raw: &[u8]) -> Result<Array<T>, TypeError> {
    let bad = TypeError::Invalid("array");
    let mut r = crate::message::backend::Reader::new(raw, "array");
    let ndim = r.i32().map_err(|_| bad.clone())?;
    let _flags = r.i32().map_err(|_| bad.clone())?;
    let wire_elem = r.u32().map_err(|_| bad.clone())?;
    if !(0..=MAX_DIMS as i32).contains(&ndim) {
        return Err(TypeError::Limit("array dimensions"));
    }
    if wire_elem != elem && ndim > 0 {
        return Err(TypeError::WrongType {
            oid: wire_elem,
            rust: "array element",
        });
    }
    let mut dims = Vec::with_capacity(ndim as usize);
    for _ in 0..ndim {
        let len = r.i32().map_err(|_| bad.clone())?;
        let lower_bound = r.i32().map_err(|_| bad.clone())?;
        if len < 0 {
            return Err(bad);
        }
        dims.push(Dimension { len, lower_bound });
    }
    let n = element_count(&dims)?;
    // Every element needs at least its 4-byte length: bound the allocation
    // by what the input can hold.
    if n > raw.len() / 4 {
        return Err(TypeError::Limit("array size"));
    }
    let mut elements = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.i32().map_err(|_| bad.clone())?;
        let v = if len == -1 {
            T::from_sql_null(elem)?
        } else if len < 0 {
            return Err(bad);
        } else {
            T::from_sql(
                elem,
                Format::Binary,
                r.take(len as usize).map_err(|_| bad.clone())?,
            )?
        };
        elements.push(v);
    }
    r.finish().map_err(|_| bad)?;
    Ok(Array { dims, elements })
}

/// A parsed text array: nested lists of elements (`None` = NULL).
enum Node {
    List(Vec<Node>),
    Item(Option<Vec<u8>>),
}

struct TextParser<'s> {
    s: &'s [u8],
    pos: usize,
}

impl TextParser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn list(&mut self, depth: usize) -> Result<Node, TypeError> {
        let bad = TypeError::Invalid("array text");
        if depth > MAX_DIMS {
            return Err(TypeError::Limit("array dimensions"));
        }
        self.skip_ws();
        if self.s.get(self.pos) != Some(&b'{') {
            return Err(bad);
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Node::List(items));
        }
        loop {
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b'{') => items.push(self.list(depth + 1)?),
                Some(b'"') => {
                    self.pos += 1;
                    let mut v = Vec::new();
                    loop {
                        match self.s.get(self.pos) {
                            Some(b'\\') => {
                                v.push(*self.s.get(self.pos + 1).ok_or(bad.clone())?);
                                self.pos += 2;
                            }
                            Some(b'"') => {
                                self.pos += 1;
                                break;
                            }
                            Some(c) => {
                                v.push(*c);
                                self.pos += 1;
                            }
                            None => return Err(bad),
                        }
                    }
                    items.push(Node::Item(Some(v)));
                }
                Some(_) => {
                    let mut v = Vec::new();
                    let mut escaped = false;
                    while let Some(&c) = self.s.get(self.pos) {
                        match c {
                            b',' | b'}' => break,
                            b'{' | b'"' => return Err(bad),
                            b'\\' => {
                                v.push(*self.s.get(self.pos + 1).ok_or(bad.clone())?);
                                escaped = true;
                                self.pos += 2;
                                continue;
                            }
                            _ => v.push(c),
                        }
                        self.pos += 1;
                    }
                    while v.last().is_some_and(|c| c.is_ascii_whitespace()) {
                        v.pop();
                    }
                    if v.is_empty() {
                        return Err(bad);
                    }
                    items.push(Node::Item(if !escaped && v.eq_ignore_ascii_case(b"NULL") {
                        None
                    } else {
                        Some(v)
                    }));
                }
                None => return Err(bad),
            }
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::List(items));
                }
                _ => return Err(bad),
            }
        }
    }
}

fn shape(node: &Node, dims: &mut Vec<i32>, depth: usize) -> Result<(), TypeError> {
    let bad = TypeError::Invalid("array text (not rectangular)");
    let Node::List(items) = node else {
        return Ok(());
    };
    if depth == dims.len() {
        dims.push(items.len() as i32);
    } else if dims[depth] != items.len() as i32 {
        return Err(bad);
    }
    let nested = items.iter().filter(|n| matches!(n, Node::List(_))).count();
    if nested != 0 && nested != items.len() {
        return Err(bad);
    }
    for it in items {
        shape(it, dims, depth + 1)?;
    }
    Ok(())
}

fn flatten<T: for<'b> FromSql<'b>>(
    node: Node,
    elem: Oid,
    out: &mut Vec<T>,
) -> Result<(), TypeError> {
    match node {
        Node::List(items) => items.into_iter().try_for_each(|n| flatten(n, elem, out)),
        Node::Item(None) => {
            out.push(T::from_sql_null(elem)?);
            Ok(())
        }
        Node::Item(Some(v)) => {
            out.push(T::from_sql(elem, Format::Text, &v)?);
            Ok(())
        }
    }
}

fn read_text<T: for<'b> FromSql<'b>>(elem: Oid, text: &str) -> Result<Array<T>, TypeError> {
    let bad = TypeError::Invalid("array text");
    let mut s = text;
    let mut bounds = Vec::new();
    if s.starts_with('[') {
        let (prefix, rest) = s.split_once('=').ok_or(bad.clone())?;
        for part in prefix.split(']').filter(|p| !p.is_empty()) {
            let (lo, hi) = part
                .strip_prefix('[')
                .and_then(|p| p.split_once(':'))
                .ok_or(bad.clone())?;
            let lo: i32 = lo.trim().parse().map_err(|_| bad.clone())?;
            let hi: i32 = hi.trim().parse().map_err(|_| bad.clone())?;
            bounds.push((lo, hi));
        }
        s = rest;
    }
    let mut p = TextParser {
        s: s.as_bytes(),
        pos: 0,
    };
    let root = p.list(1)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(bad);
    }
    let mut lens = Vec::new();
    shape(&root, &mut lens, 0)?;
    if lens == [0] {
        lens.clear();
    }
    if !bounds.is_empty() && bounds.len() != lens.len() {
        return Err(bad);
    }
    let dims: Vec<Dimension> = lens
        .iter()
        .enumerate()
        .map(|(i, &len)| Dimension {
            len,
            lower_bound: bounds.get(i).map_or(1, |b| b.0),
        })
        .collect();
    for (d, b) in dims.iter().zip(&bounds) {
        if b.1 as i64 - b.0 as i64 + 1 != d.len as i64 {
            return Err(bad);
        }
    }
    let mut elements = Vec::new();
    flatten(root, elem, &mut elements)?;
    Ok(Array { dims, elements })
}
