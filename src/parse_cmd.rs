//! `ticketera parse [FILE]`: what ingest makes of each message of a file
//! (or of standard input), one JSON line per message, without a database.
//! The rules are ingest's: `TICKETERA_RULES_FILE` or the shipped default;
//! times without a zone are read in `TICKETERA_SYSLOG_TIMEZONE`.

use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::{bail, Context};
use ingest::inspect::{report, Body};
use ingest::parse::ParseContext;
use ingest::service::RulesHandle;
use platform::config::Settings;
use serde_json::Value;

/// How the input is cut into messages.
fn bodies<'a>(
    input: &'a [u8],
    webhook: Option<&str>,
) -> anyhow::Result<Vec<(usize, Body, &'a [u8])>> {
    match webhook {
        Some("xml") => return Ok(vec![(1, Body::FortiSiemXml, input)]),
        Some("json") => return Ok(vec![(1, Body::FortiSiemJson, input)]),
        Some(other) => bail!("--webhook takes xml or json, not '{other}'"),
        None => {}
    }
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    let body = &input[start..];
    // A FortiSIEM notification is a whole XML document, or a JSON object
    // over several lines: one webhook body, as the webhook would get it.
    if body.starts_with(b"<?xml") || body.starts_with(b"<incident") {
        return Ok(vec![(1, Body::FortiSiemXml, input)]);
    }
    let lines: Vec<(usize, &[u8])> = input
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| l.iter().any(|b| !b.is_ascii_whitespace()))
        .collect();
    if body.starts_with(b"{")
        && lines.len() > 1
        && serde_json::from_slice::<Value>(lines[0].1).is_err()
        && serde_json::from_slice::<Value>(input).is_ok()
    {
        return Ok(vec![(1, Body::FortiSiemJson, input)]);
    }
    Ok(lines
        .into_iter()
        .map(|(n, l)| (n, Body::Syslog, l.strip_suffix(b"\r").unwrap_or(l)))
        .collect())
}

pub fn run(
    settings: &Settings,
    file: Option<&Path>,
    webhook: Option<&str>,
    with_fields: bool,
) -> anyhow::Result<()> {
    let rules = RulesHandle::load(settings.ingest.rules_file.clone())?.current();
    let ctx = ParseContext {
        default_offset: settings.ingest.syslog_timezone,
        now: chrono::Utc::now(),
    };
    let input = match file {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => {
            let mut buf = vec![];
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .context("reading standard input")?;
            buf
        }
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (line, body, bytes) in bodies(&input, webhook)? {
        let mut r = report(bytes, body, &rules, &ctx, with_fields);
        r.insert("line".into(), line.into());
        let text = serde_json::to_string(&r).context("serializing a report")?;
        writeln!(out, "{text}").context("writing to stdout")?;
    }
    out.flush().context("writing to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_cut_into_messages() {
        let kinds = |input: &[u8]| -> Vec<(usize, Body)> {
            bodies(input, None)
                .expect("bodies")
                .into_iter()
                .map(|(n, b, _)| (n, b))
                .collect()
        };
        assert_eq!(
            kinds(b"a\n\nb\r\n"),
            vec![(1, Body::Syslog), (3, Body::Syslog)]
        );
        assert_eq!(
            kinds(b"<?xml version=\"1.0\"?>\n<incident/>"),
            vec![(1, Body::FortiSiemXml)]
        );
        assert_eq!(
            kinds(b"{\n \"incidentId\": 1\n}\n"),
            vec![(1, Body::FortiSiemJson)]
        );
        assert_eq!(
            kinds(b"{\"EventID\": 1}\n{\"EventID\": 2}\n"),
            vec![(1, Body::Syslog), (2, Body::Syslog)]
        );
        assert!(bodies(b"x", Some("yaml")).is_err());
    }
}
