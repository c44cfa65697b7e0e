//! The rules file: which normalized events are alerts, their severity, their
//! correlation key; and suppressions. See `rules/default.toml`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use domain::Severity;
use regex::Regex;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::parse::fortigate::{self, View};
use crate::parse::{Format, Normalized};

/// The rules shipped with Ticketera SOC.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules file, line {line}: {reason}")]
pub struct RulesError {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    correlation: CorrelationSpec,
    #[serde(default)]
    scales: BTreeMap<String, ScaleSpec>,
    #[serde(default)]
    suppress: Vec<RuleSpec>,
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrelationSpec {
    key: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleSpec {
    #[serde(default)]
    words: BTreeMap<String, String>,
    #[serde(default)]
    ranges: Vec<RangeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeSpec {
    from: i64,
    to: i64,
    severity: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default, rename = "match")]
    matches: BTreeMap<String, String>,
    #[serde(default)]
    exclude: BTreeMap<String, String>,
    severity: Option<String>,
    severity_scale: Option<String>,
    correlation_key: Option<Vec<String>>,
    #[serde(default)]
    not_alert: bool,
}

#[derive(Debug, Clone)]
struct Scale {
    words: BTreeMap<String, Option<Severity>>,
    ranges: Vec<(i64, i64, Option<Severity>)>,
}

impl Scale {
    fn map(&self, vendor: &str) -> Option<Severity> {
        let v = vendor.trim().to_lowercase();
        if let Some(s) = self.words.get(&v) {
            return *s;
        }
        let n: i64 = v.parse().ok()?;
        self.ranges
            .iter()
            .find(|(from, to, _)| (*from..=*to).contains(&n))
            .and_then(|r| r.2)
    }
}

#[derive(Debug, Clone)]
enum SeverityRule {
    Fixed(Severity),
    Scale(String),
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    matches: Vec<(String, Regex)>,
    exclude: Vec<(String, Regex)>,
    severity: Option<SeverityRule>,
    correlation_key: Option<Vec<String>>,
    not_alert: bool,
}

/// Fields a correlation key may name.
const KEY_FIELDS: &[&str] = &[
    "vendor",
    "product",
    "rule_name",
    "source_ip",
    "destination_ip",
    "destination_port",
    "host",
    "user",
    "incident_id",
];

/// Loaded, validated rules.
#[derive(Debug, Clone)]
pub struct Rules {
    correlation_key: Vec<String>,
    scales: BTreeMap<String, Scale>,
    suppress: Vec<Rule>,
    rules: Vec<Rule>,
}

/// What the rules make of an event.
// Short-lived (decided, then consumed): boxing the alert would cost an
// allocation per alert for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No rule makes it an alert (counted, dropped).
    NotAlert {
        reason: String,
    },
    /// A suppression matched (counted, dropped).
    Suppressed {
        rule: String,
    },
    Alert(Alert),
}

/// A normalized alert (docs/ingest.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub vendor: String,
    pub product: String,
    pub rule_name: String,
    /// The rule that matched (for operators; `rule_name` may be the vendor's).
    pub matched_rule: String,
    pub severity: Severity,
    pub source_ip: Option<IpAddr>,
    pub destination_ip: Option<IpAddr>,
    pub source_port: Option<u16>,
    pub destination_port: Option<u16>,
    pub host: Option<String>,
    pub user: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub fingerprint: String,
    /// The correlation key holds the SIEM incident id: the same incident is
    /// always the same ticket (re-sends are SIEM updates, in any status).
    pub keyed_by_incident: bool,
    pub incident_id: Option<String>,
    pub incident_status: Option<String>,
    pub repeat_count: Option<u64>,
    pub message: String,
    pub raw: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Finds the line of the first occurrence of `needle` for a semantic error.
fn line_of_str(text: &str, needle: &str) -> usize {
    text.find(needle).map(|o| line_of(text, o)).unwrap_or(1)
}

fn severity_word(text: &str, s: &str, context: &str) -> Result<Option<Severity>, RulesError> {
    if s.eq_ignore_ascii_case("NONE") {
        return Ok(None);
    }
    s.parse::<Severity>().map(Some).map_err(|_| RulesError {
        line: line_of_str(text, s),
        reason: format!("{context}: unknown severity '{s}' (LOW, MEDIUM, HIGH, CRITICAL or NONE)"),
    })
}

fn format_name(f: Option<Format>) -> &'static str {
    f.map_or("text", |f| f.name())
}

/// What rules read of an event: the normalized event, or a FortiGate
/// message's [`View`] (the workers' fast path, which must see the very
/// values the normalized event holds: `parse::fortigate` builds the event
/// from the same view).
pub trait EventFields {
    /// The value a rule or key sees for a field name.
    fn field(&self, name: &str) -> Option<Cow<'_, str>>;
    fn vendor_severity(&self) -> Option<&str>;
}

impl EventFields for Normalized {
    fn field(&self, name: &str) -> Option<Cow<'_, str>> {
        let e = self;
        match name {
            "vendor" => Some(Cow::Borrowed(e.vendor.as_str())),
            "product" => Some(Cow::Borrowed(e.product.as_str())),
            "signature" => e.signature.as_ref().map(|s| Cow::Borrowed(s.as_str())),
            "host" => e.host.as_ref().map(|s| Cow::Borrowed(s.as_str())),
            "user" => e.user.as_ref().map(|s| Cow::Borrowed(s.as_str())),
            "format" => Some(Cow::Borrowed(format_name(e.format))),
            "source_ip" => e.source_ip.map(|i| Cow::Owned(i.to_string())),
            "destination_ip" => e.destination_ip.map(|i| Cow::Owned(i.to_string())),
            "destination_port" => e.destination_port.map(|p| Cow::Owned(p.to_string())),
            "incident_id" => e.incident_id.as_ref().map(|s| Cow::Borrowed(s.as_str())),
            "message" => Some(Cow::Borrowed(e.message.as_str())),
            other => e.fields.get(other).map(|s| Cow::Borrowed(s.as_str())),
        }
    }

    fn vendor_severity(&self) -> Option<&str> {
        self.vendor_severity.as_deref()
    }
}

impl EventFields for View<'_> {
    fn field(&self, name: &str) -> Option<Cow<'_, str>> {
        match name {
            "vendor" => Some(Cow::Borrowed(fortigate::VENDOR)),
            "product" => Some(Cow::Borrowed(fortigate::PRODUCT)),
            "signature" => self.signature().map(Cow::Borrowed),
            "host" => self.host().map(Cow::Borrowed),
            "user" => self.user().map(Cow::Borrowed),
            "format" => Some(Cow::Borrowed(Format::FortiGate.name())),
            "source_ip" => self.source_ip().map(|i| Cow::Owned(i.to_string())),
            "destination_ip" => self.destination_ip().map(|i| Cow::Owned(i.to_string())),
            "destination_port" => self.destination_port().map(|p| Cow::Owned(p.to_string())),
            "incident_id" => None,
            "message" => Some(Cow::Borrowed(self.message())),
            other => self.value(other).map(Cow::Borrowed),
        }
    }

    fn vendor_severity(&self) -> Option<&str> {
        View::vendor_severity(self)
    }
}

impl Rule {
    fn matches<E: EventFields + ?Sized>(&self, e: &E) -> bool {
        self.matches
            .iter()
            .all(|(f, re)| e.field(f).is_some_and(|v| re.is_match(&v)))
            && !self
                .exclude
                .iter()
                .any(|(f, re)| e.field(f).is_some_and(|v| re.is_match(&v)))
    }
}

/// What the rules make of an event, before anything is built for it.
enum Outcome<'r> {
    Suppressed(&'r Rule),
    NoRule,
    NotAlertRule(&'r Rule),
    BelowAlerting(&'r Rule),
    Alert(&'r Rule, Severity),
}

/// [`Rules::quick`]: the kind of [`Decision`] an event gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quick {
    NotAlert,
    Suppressed,
    Alert,
}

impl Rules {
    pub fn default_rules() -> Rules {
        // The shipped file is tested to load; failing here is a build defect.
        Rules::from_toml(DEFAULT_RULES).expect("the default rules load")
    }

    pub fn from_toml(text: &str) -> Result<Rules, RulesError> {
        let file: File = toml::from_str(text).map_err(|e| RulesError {
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            reason: e.message().to_string(),
        })?;
        let check_key = |key: &[String]| -> Result<(), RulesError> {
            if key.is_empty() {
                return Err(RulesError {
                    line: line_of_str(text, "key"),
                    reason: "a correlation key needs at least one field".into(),
                });
            }
            for k in key {
                if !KEY_FIELDS.contains(&k.as_str()) {
                    return Err(RulesError {
                        line: line_of_str(text, &format!("\"{k}\"")),
                        reason: format!(
                            "correlation key field '{k}' is not one of {}",
                            KEY_FIELDS.join(", ")
                        ),
                    });
                }
            }
            Ok(())
        };
        check_key(&file.correlation.key)?;
        let mut scales = BTreeMap::new();
        for (name, spec) in &file.scales {
            let mut words = BTreeMap::new();
            for (w, s) in &spec.words {
                words.insert(
                    w.to_lowercase(),
                    severity_word(text, s, &format!("scale {name}"))?,
                );
            }
            let mut ranges = vec![];
            for r in &spec.ranges {
                if r.from > r.to {
                    return Err(RulesError {
                        line: line_of_str(text, &format!("from = {}", r.from)),
                        reason: format!("scale {name}: range {}..{} is empty", r.from, r.to),
                    });
                }
                ranges.push((
                    r.from,
                    r.to,
                    severity_word(text, &r.severity, &format!("scale {name}"))?,
                ));
            }
            scales.insert(name.clone(), Scale { words, ranges });
        }
        let compile = |spec: &RuleSpec, suppress: bool| -> Result<Rule, RulesError> {
            let at = line_of_str(text, &format!("\"{}\"", spec.name));
            let regexes =
                |m: &BTreeMap<String, String>| -> Result<Vec<(String, Regex)>, RulesError> {
                    m.iter()
                        .map(|(f, pattern)| {
                            Regex::new(pattern)
                                .map(|re| (f.clone(), re))
                                .map_err(|e| RulesError {
                                    line: line_of_str(text, pattern),
                                    reason: format!(
                                        "rule '{}': field '{f}': invalid regular expression: {e}",
                                        spec.name
                                    ),
                                })
                        })
                        .collect()
                };
            let severity = match (&spec.severity, &spec.severity_scale) {
                (Some(_), Some(_)) => {
                    return Err(RulesError {
                        line: at,
                        reason: format!(
                            "rule '{}': give severity or severity_scale, not both",
                            spec.name
                        ),
                    })
                }
                (Some(s), None) => severity_word(text, s, &format!("rule '{}'", spec.name))?
                    .map(SeverityRule::Fixed),
                (None, Some(scale)) => {
                    if !scales.contains_key(scale) {
                        return Err(RulesError {
                            line: line_of_str(text, &format!("\"{scale}\"")),
                            reason: format!("rule '{}': no scale '{scale}'", spec.name),
                        });
                    }
                    Some(SeverityRule::Scale(scale.clone()))
                }
                (None, None) => None,
            };
            if !suppress && !spec.not_alert && severity.is_none() {
                return Err(RulesError {
                    line: at,
                    reason: format!(
                        "rule '{}' needs severity or severity_scale (or not_alert = true)",
                        spec.name
                    ),
                });
            }
            if let Some(k) = &spec.correlation_key {
                check_key(k)?;
            }
            if spec.matches.is_empty() {
                return Err(RulesError {
                    line: at,
                    reason: format!(
                        "rule '{}' has no match: it would catch everything",
                        spec.name
                    ),
                });
            }
            Ok(Rule {
                name: spec.name.clone(),
                matches: regexes(&spec.matches)?,
                exclude: regexes(&spec.exclude)?,
                severity,
                correlation_key: spec.correlation_key.clone(),
                not_alert: spec.not_alert,
            })
        };
        Ok(Rules {
            correlation_key: file.correlation.key.clone(),
            suppress: file
                .suppress
                .iter()
                .map(|s| compile(s, true))
                .collect::<Result<_, _>>()?,
            rules: file
                .rules
                .iter()
                .map(|s| compile(s, false))
                .collect::<Result<_, _>>()?,
            scales,
        })
    }

    fn outcome<E: EventFields + ?Sized>(&self, e: &E) -> Outcome<'_> {
        if let Some(s) = self.suppress.iter().find(|s| s.matches(e)) {
            return Outcome::Suppressed(s);
        }
        let Some(rule) = self.rules.iter().find(|r| r.matches(e)) else {
            return Outcome::NoRule;
        };
        if rule.not_alert {
            return Outcome::NotAlertRule(rule);
        }
        let severity = match &rule.severity {
            Some(SeverityRule::Fixed(s)) => Some(*s),
            Some(SeverityRule::Scale(name)) => e
                .vendor_severity()
                .and_then(|v| self.scales.get(name).and_then(|scale| scale.map(v))),
            None => None,
        };
        match severity {
            Some(severity) => Outcome::Alert(rule, severity),
            None => Outcome::BelowAlerting(rule),
        }
    }

    /// The kind of decision [`Rules::decide`] makes of the same event,
    /// without building it (no reason text, no alert).
    pub fn quick<E: EventFields + ?Sized>(&self, e: &E) -> Quick {
        match self.outcome(e) {
            Outcome::Suppressed(_) => Quick::Suppressed,
            Outcome::NoRule | Outcome::NotAlertRule(_) | Outcome::BelowAlerting(_) => {
                Quick::NotAlert
            }
            Outcome::Alert(..) => Quick::Alert,
        }
    }

    /// Decides what an event is. Severity escalation by asset criticality is
    /// applied later, with the CMDB.
    pub fn decide(&self, e: &Normalized) -> Decision {
        let (rule, severity) = match self.outcome(e) {
            Outcome::Suppressed(s) => {
                return Decision::Suppressed {
                    rule: s.name.clone(),
                }
            }
            Outcome::NoRule => {
                return Decision::NotAlert {
                    reason: "no rule matches".into(),
                }
            }
            Outcome::NotAlertRule(rule) => {
                return Decision::NotAlert {
                    reason: format!("rule '{}'", rule.name),
                }
            }
            Outcome::BelowAlerting(rule) => {
                return Decision::NotAlert {
                    reason: format!(
                        "rule '{}': vendor severity {:?} is below alerting",
                        rule.name, e.vendor_severity
                    ),
                }
            }
            Outcome::Alert(rule, severity) => (rule, severity),
        };
        let rule_name = e.signature.clone().unwrap_or_else(|| rule.name.clone());
        let key = rule
            .correlation_key
            .as_ref()
            .unwrap_or(&self.correlation_key);
        let mut h = Sha256::new();
        for k in key {
            let v = if k == "rule_name" {
                Some(Cow::Borrowed(rule_name.as_str()))
            } else {
                e.field(k)
            };
            h.update(k.as_bytes());
            h.update(b"=");
            h.update(v.as_deref().unwrap_or_default().as_bytes());
            h.update(b"\n");
        }
        Decision::Alert(Alert {
            vendor: e.vendor.clone(),
            product: e.product.clone(),
            rule_name,
            matched_rule: rule.name.clone(),
            severity,
            source_ip: e.source_ip,
            destination_ip: e.destination_ip,
            source_port: e.source_port,
            destination_port: e.destination_port,
            host: e.host.clone(),
            user: e.user.clone(),
            event_time: e.event_time,
            fingerprint: hex::encode(h.finalize()),
            keyed_by_incident: e.incident_id.is_some() && key.iter().any(|k| k == "incident_id"),
            incident_id: e.incident_id.clone(),
            incident_status: e.incident_status.clone(),
            repeat_count: e.repeat_count,
            message: e.message.clone(),
            raw: e.raw.clone(),
        })
    }
}
