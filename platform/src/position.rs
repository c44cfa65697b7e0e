//! Positions in the global event order, handed to clients as opaque cursors.
//!
//! A position is the pair `(transaction_id, global_position)`: the order in
//! which the gap-safe feed delivers events (docs/architecture.md, "The gap-safe feed"). Clients hand a
//! cursor back and never compute with it.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// `xid8` of the writing transaction.
    pub transaction_id: u64,
    pub global_position: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a valid position cursor")]
pub struct InvalidCursor;

const CURSOR_PREFIX: &str = "p1_";

impl Position {
    pub fn new(transaction_id: u64, global_position: i64) -> Self {
        Position {
            transaction_id,
            global_position,
        }
    }

    pub fn cursor(&self) -> String {
        let raw = format!("{}:{}", self.transaction_id, self.global_position);
        format!("{CURSOR_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cursor())
    }
}

impl FromStr for Position {
    type Err = InvalidCursor;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let body = s.strip_prefix(CURSOR_PREFIX).ok_or(InvalidCursor)?;
        let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| InvalidCursor)?;
        let raw = std::str::from_utf8(&raw).map_err(|_| InvalidCursor)?;
        let (tx, pos) = raw.split_once(':').ok_or(InvalidCursor)?;
        Ok(Position {
            transaction_id: tx.parse().map_err(|_| InvalidCursor)?,
            global_position: pos.parse().map_err(|_| InvalidCursor)?,
        })
    }
}

impl serde::Serialize for Position {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.cursor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let p = Position::new(7_000_000_001, 42);
        assert_eq!(p.cursor().parse::<Position>(), Ok(p));
        assert!("42".parse::<Position>().is_err());
        assert!("p1_!!".parse::<Position>().is_err());
        assert!(Position::new(1, 9) < Position::new(2, 1));
    }
}
