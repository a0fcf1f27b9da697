//! A table's row count and checksum, computed the same way on every backend,
//! so a copy can be compared with its source.
//!
//! Rows are read through the SeaORM entities in primary-key order (every
//! primary key is made of integers, so that order is the same on SQLite,
//! PostgreSQL and MySQL), and each column's value is encoded from its Rust
//! type, not from the backend's: a `SMALLINT` read from PostgreSQL and the
//! same number read from SQLite encode alike. The checksum is SHA-256 over
//! those encodings, row after row.

use sea_orm::Value;
use sha2::{Digest, Sha256};

/// What one table holds, in a form two databases can be compared by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// How many rows.
    pub rows: u64,
    /// SHA-256 over every row, in primary-key order.
    pub checksum: [u8; 32],
}

impl Summary {
    /// The first 16 hex digits of the checksum, enough for a person to compare.
    pub fn short(&self) -> String {
        self.checksum[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Builds a [`Summary`] from rows given in primary-key order.
#[derive(Default)]
pub(super) struct Checksum {
    rows: u64,
    hash: Sha256,
    /// One row's encoding, reused.
    buf: Vec<u8>,
}

impl Checksum {
    /// Adds one row: its column values, in the entity's column order.
    pub(super) fn add_row(&mut self, values: impl IntoIterator<Item = Value>) {
        self.buf.clear();
        for v in values {
            encode(&v, &mut self.buf);
        }
        // The row's length first: no two different rows hash as one.
        self.hash.update((self.buf.len() as u64).to_le_bytes());
        self.hash.update(&self.buf);
        self.rows += 1;
    }

    /// The summary of the rows added.
    pub(super) fn finish(self) -> Summary {
        Summary {
            rows: self.rows,
            checksum: self.hash.finalize().into(),
        }
    }
}

/// Appends one value: a tag byte saying its kind (0 for NULL), then its
/// bytes, length-prefixed where the length varies.
fn encode(v: &Value, out: &mut Vec<u8>) {
    fn int(out: &mut Vec<u8>, n: Option<i64>) {
        match n {
            None => out.push(0),
            Some(n) => {
                out.push(1);
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
    }
    fn bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
        match b {
            None => out.push(0),
            Some(b) => {
                out.push(2);
                out.extend_from_slice(&(b.len() as u64).to_le_bytes());
                out.extend_from_slice(b);
            }
        }
    }
    match v {
        Value::SmallInt(n) => int(out, n.map(i64::from)),
        Value::Int(n) => int(out, n.map(i64::from)),
        Value::BigInt(n) => int(out, *n),
        Value::String(s) => bytes(out, s.as_deref().map(str::as_bytes)),
        Value::Bytes(b) => bytes(out, b.as_deref()),
        // No column has another type today. A new one still hashes the same
        // on both sides, since the variant comes from the entity's field type.
        other => bytes(out, Some(format!("{other:?}").as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(rows: &[Vec<Value>]) -> Summary {
        let mut c = Checksum::default();
        for r in rows {
            c.add_row(r.iter().cloned());
        }
        c.finish()
    }

    #[test]
    fn the_same_rows_give_the_same_checksum() {
        let rows = vec![
            vec![Value::BigInt(Some(1)), Value::String(Some("alice".into()))],
            vec![Value::BigInt(Some(2)), Value::String(None)],
        ];
        assert_eq!(summary(&rows), summary(&rows.clone()));
        assert_eq!(summary(&rows).rows, 2);
    }

    #[test]
    fn order_nulls_and_boundaries_change_the_checksum() {
        let a = vec![
            Value::String(Some("ab".into())),
            Value::String(Some("c".into())),
        ];
        let b = vec![
            Value::String(Some("a".into())),
            Value::String(Some("bc".into())),
        ];
        assert_ne!(
            summary(std::slice::from_ref(&a)),
            summary(std::slice::from_ref(&b))
        );
        assert_ne!(summary(&[a.clone(), b.clone()]), summary(&[b, a]));
        let empty = vec![Value::String(Some(String::new()))];
        let null = vec![Value::String(None)];
        assert_ne!(summary(&[empty]), summary(&[null]));
        let zero = vec![Value::BigInt(Some(0))];
        let none = vec![Value::BigInt(None)];
        assert_ne!(summary(&[zero]), summary(&[none]));
    }

    #[test]
    fn no_rows_is_the_empty_hash() {
        let s = summary(&[]);
        assert_eq!(s.rows, 0);
        assert_eq!(s.short(), "e3b0c44298fc1c14");
    }
}
