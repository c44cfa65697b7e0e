//! An event's metadata as it was stored: who recorded it (`actor`,
//! `actor_kind`), through which `channel`, under which `correlation_id`
//! (the request id) and `command_id`, and whatever else the command side
//! recorded beside them.
//!
//! It is kept as the stored JSON text rather than a `serde_json::Value`
//! tree: the feed decodes every event a projection or a rebuild reads, and
//! building that tree (a map node and two strings per key) and freeing it
//! again was a large share of a rebuild's decoding. Readers take the few
//! fields they need with [`EventMetadata::who`], borrowed from the text;
//! the history export writes the text as it is.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// The metadata of one stored event (a JSON object).
#[derive(Clone)]
pub struct EventMetadata(Box<RawValue>);

/// The fields of the metadata the read side shows, borrowed from its text
/// (owned only where the text escapes characters).
#[derive(Debug, Default, Deserialize)]
pub struct Who<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub actor: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub actor_kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub channel: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub correlation_id: Option<Cow<'a, str>>,
}

/// serde borrows a `Cow<str>` from the text only where it is a field of
/// its own, not inside an `Option`: this puts it in one.
fn borrowed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

impl Who<'_> {
    /// The metadata's actor, else the event's own `by` (events recorded
    /// before the metadata carried one).
    pub fn actor_or<'b>(&'b self, by: &'b str) -> &'b str {
        self.actor.as_deref().unwrap_or(by)
    }
}

impl EventMetadata {
    /// The stored JSON text of the metadata, as a JSON object.
    pub fn from_raw(raw: Box<RawValue>) -> EventMetadata {
        EventMetadata(raw)
    }

    pub fn from_value(value: &Value) -> EventMetadata {
        // A `Value` always serializes.
        let raw = serde_json::value::to_raw_value(value)
            .unwrap_or_else(|_| RawValue::from_string("{}".into()).expect("an empty object"));
        EventMetadata(raw)
    }

    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// `actor`, `actor_kind`, `channel` and `correlation_id`, each `None`
    /// where the metadata has no such string (or is not an object at all:
    /// metadata written by hand or by an older release).
    pub fn who(&self) -> Who<'_> {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }
}

impl PartialEq for EventMetadata {
    /// The same JSON value, whatever its spacing or key order.
    fn eq(&self, other: &EventMetadata) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

impl fmt::Debug for EventMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventMetadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(text: &str) -> EventMetadata {
        EventMetadata::from_raw(RawValue::from_string(text.into()).unwrap())
    }

    #[test]
    fn who_borrows_the_fields_the_read_side_shows() {
        let m = metadata(
            r#"{"actor": "ana", "channel": "ui", "actor_kind": "user", "command_id": "c1", "correlation_id": "req-1", "occurred_at": "2026-01-01T00:00:00Z"}"#,
        );
        let who = m.who();
        assert_eq!(who.actor.as_deref(), Some("ana"));
        assert_eq!(who.actor_kind.as_deref(), Some("user"));
        assert_eq!(who.channel.as_deref(), Some("ui"));
        assert_eq!(who.correlation_id.as_deref(), Some("req-1"));
        assert!(matches!(who.actor, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn escaped_text_is_unescaped_and_odd_metadata_reads_as_nothing() {
        let who_of = |text: &str| {
            let m = metadata(text);
            let who = m.who();
            (
                who.actor.map(Cow::into_owned),
                who.channel.map(Cow::into_owned),
            )
        };
        assert_eq!(
            who_of(r#"{"actor": "a\"b", "channel": null}"#),
            (Some("a\"b".to_string()), None)
        );
        assert_eq!(who_of("null"), (None, None));
        assert_eq!(who_of(r#"{"actor": 7}"#), (None, None));
    }

    #[test]
    fn serializes_as_stored_and_compares_as_json() {
        let m = metadata(r#"{"b": 1, "a": "x"}"#);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"b": 1, "a": "x"}"#);
        assert_eq!(
            m,
            EventMetadata::from_value(&serde_json::json!({"a": "x", "b": 1}))
        );
        assert_ne!(m, metadata(r#"{"a": "y", "b": 1}"#));
    }
}
