//! FortiSIEM incident notifications: the XML of its HTTP notification and
//! the JSON shaped like its incident API records.
//!
//! XML with a DTD is refused before anything is expanded (XXE, entity
//! expansion): quick-xml never resolves external entities, and any entity
//! but the five predefined ones is an error.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

use super::{clean, clean_opt, parse_ip, parse_port, time, Format, Normalized, ParseError};

fn base() -> Normalized {
    Normalized {
        vendor: "Fortinet".into(),
        product: "FortiSIEM".into(),
        ..Normalized::default()
    }
}

/// Active, or cleared (auto, manually, system): FortiSIEM's incident status.
fn status_text(code: &str) -> String {
    match code.trim() {
        "0" => "Active".into(),
        "1" => "Auto Cleared".into(),
        "2" => "Manually Cleared".into(),
        "3" => "System Cleared".into(),
        other => clean(other),
    }
}

pub fn parse_xml(body: &[u8]) -> Result<Normalized, ParseError> {
    let err = |r: String| ParseError::new("fortisiem-xml", r);
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut n = base();
    n.format = Some(Format::FortiSiemXml);
    let mut path: Vec<String> = vec![];
    let mut entry_attr: Option<String> = None;
    let mut buf = Vec::new();
    let mut saw_incident = false;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| err(format!("malformed XML: {e}")))?;
        match ev {
            Event::DocType(_) => {
                return Err(err("DTDs are refused (XXE / entity expansion)".into()))
            }
            Event::Start(_) | Event::Empty(_) => {
                let (e, is_start) = match &ev {
                    Event::Start(e) => (e, true),
                    Event::Empty(e) => (e, false),
                    _ => unreachable!("matched above"),
                };
                // Names are the sender's: cleaned, they may become field keys.
                let name = clean(&String::from_utf8_lossy(e.name().as_ref()));
                let attrs: BTreeMap<String, String> = e
                    .attributes()
                    .map(|a| {
                        let a = a.map_err(|e| err(format!("bad attribute: {e}")))?;
                        let v = a
                            .unescape_value()
                            .map_err(|e| err(format!("bad attribute value: {e}")))?;
                        Ok((clean(&String::from_utf8_lossy(a.key.as_ref())), clean(&v)))
                    })
                    .collect::<Result<_, ParseError>>()?;
                if path.is_empty() {
                    if name != "incident" {
                        return Err(err(format!(
                            "root element is <{name}>, expected <incident>"
                        )));
                    }
                    saw_incident = true;
                    n.incident_id = clean_opt(attrs.get("incidentId").map(String::as_str));
                    n.vendor_severity = clean_opt(attrs.get("severity").map(String::as_str));
                    n.incident_status = clean_opt(attrs.get("status").map(String::as_str));
                    n.repeat_count = attrs.get("repeatCount").and_then(|v| v.trim().parse().ok());
                    for (k, v) in &attrs {
                        n.fields.insert(format!("incident.{k}"), v.clone());
                    }
                }
                if name == "entry" {
                    entry_attr = attrs.get("attribute").cloned();
                }
                if is_start {
                    path.push(name);
                } else if name == "entry" {
                    entry_attr = None;
                }
            }
            Event::End(_) => {
                path.pop();
                entry_attr = None;
            }
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| err(format!("entity refused: {e}")))?;
                let text = clean(text.trim());
                let parent = path.get(path.len().saturating_sub(2)).map(String::as_str);
                let current = path.last().map(String::as_str);
                match (parent, current, entry_attr.as_deref()) {
                    (_, Some("name"), _) if path.len() == 2 => n.signature = clean_opt(Some(&text)),
                    (_, Some("description"), _) if path.len() == 2 => n.message = text.clone(),
                    (_, Some("rawEvents"), _) => {
                        n.fields.insert("rawEvents".into(), text.clone());
                    }
                    (Some(section), Some("entry"), Some(attr)) => {
                        match (section, attr) {
                            ("incidentSource", "srcIpAddr") => {
                                n.source_ip = n.source_ip.or(parse_ip(Some(&text)))
                            }
                            ("incidentTarget", "destIpAddr") => {
                                n.destination_ip = n.destination_ip.or(parse_ip(Some(&text)))
                            }
                            ("incidentTarget", "hostName") => {
                                n.host = n.host.clone().or(clean_opt(Some(&text)))
                            }
                            (_, "destIpPort") => {
                                n.destination_port = n.destination_port.or(parse_port(Some(&text)))
                            }
                            (_, "srcIpPort") => {
                                n.source_port = n.source_port.or(parse_port(Some(&text)))
                            }
                            (_, "user") => n.user = n.user.clone().or(clean_opt(Some(&text))),
                            _ => {}
                        }
                        n.fields.insert(format!("{section}.{attr}"), text.clone());
                    }
                    (_, Some(tag), _) if path.len() == 2 => {
                        n.fields.insert(tag.to_string(), text.clone());
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_incident {
        return Err(err("no <incident> element".into()));
    }
    if n.incident_id.is_none() {
        return Err(err("the incident has no incidentId".into()));
    }
    if n.signature.is_none() {
        return Err(err("the incident has no <name>".into()));
    }
    n.event_time = n.fields.get("displayTime").and_then(|t| time::java_date(t));
    Ok(n)
}

/// `key:value,key:value,` lists of FortiSIEM's incident API.
fn attr_list(s: &str) -> BTreeMap<String, String> {
    s.split(',')
        .filter_map(|kv| kv.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), clean(v.trim())))
        .collect()
}

pub fn parse_json(body: &[u8]) -> Result<Normalized, ParseError> {
    let err = |r: String| ParseError::new("fortisiem-json", r);
    let v: Value = serde_json::from_slice(body).map_err(|e| err(format!("invalid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| err("not a JSON object".into()))?;
    let s = |k: &str| -> Option<String> {
        match obj.get(k)? {
            Value::String(s) => clean_opt(Some(s)),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut n = base();
    n.format = Some(Format::FortiSiemJson);
    n.incident_id = s("incidentId");
    if n.incident_id.is_none() {
        return Err(err("the incident has no incidentId".into()));
    }
    n.signature = s("eventName").or_else(|| s("incidentTitle"));
    if n.signature.is_none() {
        return Err(err("the incident has no eventName".into()));
    }
    n.vendor_severity = s("eventSeverity");
    n.incident_status = s("incidentStatus").map(|c| status_text(&c));
    n.repeat_count = s("count").and_then(|c| c.parse().ok());
    let src = attr_list(&s("incidentSrc").unwrap_or_default());
    let target = attr_list(&s("incidentTarget").unwrap_or_default());
    let detail = attr_list(&s("incidentDetail").unwrap_or_default());
    n.source_ip = parse_ip(src.get("srcIpAddr").map(String::as_str));
    n.destination_ip = parse_ip(
        target
            .get("destIpAddr")
            .or(target.get("hostIpAddr"))
            .map(String::as_str),
    );
    n.host = target
        .get("hostName")
        .cloned()
        .or_else(|| src.get("hostName").cloned());
    n.user = detail.get("user").cloned();
    n.event_time = s("incidentLastSeen")
        .or_else(|| s("incidentFirstSeen"))
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    for (k, v) in obj {
        if let Some(text) = match v {
            Value::String(s) => Some(clean(s)),
            Value::Number(x) => Some(x.to_string()),
            _ => None,
        } {
            n.fields.insert(clean(k), text);
        }
    }
    n.message = n.signature.clone().unwrap_or_default();
    n.raw = clean(&String::from_utf8_lossy(body))
        .chars()
        .take(super::RAW_MAX_CHARS)
        .collect();
    Ok(n)
}
