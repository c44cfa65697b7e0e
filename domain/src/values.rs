//! Value types of the ticket vocabulary (README.md, docs/architecture.md) and their validation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::TicketError;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($name), value: s.to_string() }),
                }
            }
        }
    };
}

/// A string that is not one of a vocabulary's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}'")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

vocabulary!(
    /// Where a ticket is in its lifecycle.
    Status {
        New => "NEW",
        InProgress => "IN_PROGRESS",
        OnHold => "ON_HOLD",
        Resolved => "RESOLVED",
        Closed => "CLOSED",
    }
);

impl Status {
    /// Not yet resolved: alerts with the same fingerprint still land here.
    pub fn is_open(&self) -> bool {
        matches!(self, Status::New | Status::InProgress | Status::OnHold)
    }
}

vocabulary!(
    /// The SOC's severity scale, lowest first.
    Severity {
        Low => "LOW",
        Medium => "MEDIUM",
        High => "HIGH",
        Critical => "CRITICAL",
    }
);

impl Severity {
    /// One step up, at most CRITICAL: what a critical destination asset does to an alert.
    pub fn escalated(self) -> Severity {
        match self {
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

vocabulary!(
    /// Why a ticket was resolved.
    Resolution {
        TruePositive => "TRUE_POSITIVE",
        FalsePositive => "FALSE_POSITIVE",
        Benign => "BENIGN",
        Duplicate => "DUPLICATE",
    }
);

vocabulary!(
    /// How a ticket came to be.
    Source {
        Manual => "MANUAL",
        Webhook => "WEBHOOK",
        Syslog => "SYSLOG",
    }
);

vocabulary!(
    /// What a principal may do is decided by its role (see `permissions`).
    Role {
        Admin => "admin",
        Lead => "lead",
        Analyst => "analyst",
        Auditor => "auditor",
        Integration => "integration",
    }
);

vocabulary!(
    /// Kinds of indicator an analyst attaches to a ticket.
    ObservableKind {
        Ip => "IP",
        Domain => "DOMAIN",
        Url => "URL",
        FileHash => "FILE_HASH",
        UserAccount => "USER_ACCOUNT",
    }
);

vocabulary!(
    /// How much an asset matters to the business (CMDB).
    Criticality {
        Low => "LOW",
        Medium => "MEDIUM",
        High => "HIGH",
        Critical => "CRITICAL",
    }
);

/// A CMDB asset as a ticket records it at open time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// The network the asset entry covers (a host is a /32 or /128).
    pub network: String,
    pub hostname: Option<String>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub criticality: Criticality,
}

pub const TITLE_MAX: usize = 200;
pub const TEXT_MAX: usize = 10_000;
pub const TAG_MAX: usize = 64;
pub const TAGS_MAX: usize = 32;
pub const OBSERVABLE_MAX: usize = 2_048;

/// Trims and checks a one-line text field: not empty, at most `max`
/// characters, no control characters (a NUL would poison `jsonb`).
pub fn single_line(field: &'static str, value: &str, max: usize) -> Result<String, TicketError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(TicketError::validation(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(TicketError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(TicketError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_string())
}

/// Checks a free text field: at most `max` characters, line breaks and tabs
/// allowed, other control characters (NUL above all) refused.
pub fn free_text(field: &'static str, value: &str, max: usize) -> Result<String, TicketError> {
    if value.chars().count() > max {
        return Err(TicketError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(TicketError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_string())
}

/// Tags are case-folded words: letters, digits and `-_.:/`.
pub fn tag(value: &str) -> Result<String, TicketError> {
    let value = single_line("tags", value, TAG_MAX)?.to_lowercase();
    if !value
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'))
    {
        return Err(TicketError::validation(
            "tags",
            format!("'{value}' may hold only letters, digits and - _ . : /"),
        ));
    }
    Ok(value)
}

pub fn tags<'a>(values: impl IntoIterator<Item = &'a String>) -> Result<Vec<String>, TicketError> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let t = tag(value)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > TAGS_MAX {
        return Err(TicketError::validation(
            "tags",
            format!("at most {TAGS_MAX} tags"),
        ));
    }
    Ok(out)
}

/// Validates and canonicalizes an observable's value for its kind.
pub fn observable(kind: ObservableKind, value: &str) -> Result<String, TicketError> {
    let value = single_line("value", value, OBSERVABLE_MAX)?;
    let bad = |why: &str| {
        Err(TicketError::validation(
            "value",
            format!("not a valid {kind}: {why}"),
        ))
    };
    match kind {
        ObservableKind::Ip => match value.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(ip.to_string()),
            Err(_) => bad("expected an IPv4 or IPv6 address"),
        },
        ObservableKind::Domain => {
            let lower = value.trim_end_matches('.').to_lowercase();
            let labels_ok = lower.len() <= 253
                && lower.contains('.')
                && lower.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.chars()
                            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                });
            if labels_ok {
                Ok(lower)
            } else {
                bad("expected a host name such as malware.example.test")
            }
        }
        ObservableKind::Url => {
            let scheme_end = value.find("://");
            match scheme_end {
                Some(i)
                    if i > 0
                        && value[..i]
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                        && value.len() > i + 3
                        && !value.contains(char::is_whitespace) =>
                {
                    Ok(value)
                }
                _ => bad("expected an absolute URL such as https://host/path"),
            }
        }
        ObservableKind::FileHash => {
            let lower = value.to_lowercase();
            if matches!(lower.len(), 32 | 40 | 64 | 128)
                && lower.chars().all(|c| c.is_ascii_hexdigit())
            {
                Ok(lower)
            } else {
                bad("expected an MD5, SHA-1, SHA-256 or SHA-512 hex digest")
            }
        }
        ObservableKind::UserAccount => {
            if value.chars().any(char::is_whitespace) {
                bad("expected an account name without spaces, such as CORP\\jdoe or jdoe@corp.example")
            } else {
                Ok(value)
            }
        }
    }
}

/// An indicator attached to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observable {
    pub kind: ObservableKind,
    pub value: String,
}

/// The human-facing ticket number: `SOC-<n>`.
pub fn ticket_number(n: u64) -> String {
    format!("SOC-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_round_trips_through_serde_and_from_str() {
        for s in Status::ALL {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(s.as_str().parse::<Status>().unwrap(), *s);
        }
        assert!("nope".parse::<Severity>().is_err());
    }

    #[test]
    fn escalation_stops_at_critical() {
        assert_eq!(Severity::Low.escalated(), Severity::Medium);
        assert_eq!(Severity::High.escalated(), Severity::Critical);
        assert_eq!(Severity::Critical.escalated(), Severity::Critical);
    }

    #[test]
    fn text_fields_refuse_nul_and_overlong() {
        assert!(single_line("title", "  ", 10).is_err());
        assert!(single_line("title", "a\0b", 10).is_err());
        assert!(single_line("title", &"x".repeat(11), 10).is_err());
        assert_eq!(single_line("title", " ok ", 10).unwrap(), "ok");
        assert!(free_text("description", "line\nline", 100).is_ok());
        assert!(free_text("description", "nul\0", 100).is_err());
    }

    #[test]
    fn observables_are_validated_and_canonical() {
        assert_eq!(
            observable(ObservableKind::Ip, "10.0.0.1").unwrap(),
            "10.0.0.1"
        );
        assert!(observable(ObservableKind::Ip, "10.0.0.300").is_err());
        assert_eq!(
            observable(ObservableKind::Domain, "Evil.Example.TEST.").unwrap(),
            "evil.example.test"
        );
        assert!(observable(ObservableKind::Domain, "nodot").is_err());
        assert!(observable(ObservableKind::Url, "https://x.test/a").is_ok());
        assert!(observable(ObservableKind::Url, "x.test/a").is_err());
        assert!(observable(ObservableKind::FileHash, &"A".repeat(64)).is_ok());
        assert!(observable(ObservableKind::FileHash, "abc").is_err());
        assert!(observable(ObservableKind::UserAccount, "CORP\\jdoe").is_ok());
    }

    #[test]
    fn tags_are_folded_and_deduplicated() {
        let t = tags(&[
            "Phishing".to_string(),
            "phishing".to_string(),
            "apt:29".to_string(),
        ])
        .unwrap();
        assert_eq!(t, vec!["phishing", "apt:29"]);
        assert!(tags(&["has space".to_string()]).is_err());
    }
}
