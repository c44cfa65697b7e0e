//! Parsed GraphQL documents kept by their text. Clients send the same few
//! operations over and over (the SPA's are fixed strings, variables apart):
//! parsing one is a fifth of a 50-row list's GraphQL work, copying the
//! parsed tree a fraction of that. Validation (depth, cost, types) still
//! runs on every request, with its variables.

use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::Request;

/// Distinct documents kept. Beyond it the cache starts over: a client
/// sending endless distinct documents costs itself a parse each, and
/// nobody else more than one.
const CAPACITY: usize = 512;
/// Longer documents are parsed each time (the body limit bounds them).
const MAX_TEXT: usize = 16 * 1024;

#[derive(Default)]
pub struct Documents {
    parsed: Mutex<HashMap<String, ExecutableDocument>>,
}

impl Documents {
    /// Gives `req` its parsed document: the kept one, or parsed now and
    /// kept. A document that does not parse is left for execution to
    /// report, as without the cache.
    pub fn prepare(&self, req: &mut Request) {
        if req.query.len() > MAX_TEXT {
            return;
        }
        let kept = self.lock().get(&req.query).cloned();
        if let Some(doc) = kept {
            req.set_parsed_query(doc);
            return;
        }
        let Ok(doc) = req.parsed_query() else {
            return;
        };
        let doc = doc.clone();
        let mut parsed = self.lock();
        if parsed.len() >= CAPACITY {
            parsed.clear();
        }
        parsed.insert(req.query.clone(), doc);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecutableDocument>> {
        self.parsed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_and_handed_to_every_request() {
        let docs = Documents::default();
        let mut first = Request::new("{ me { name } }");
        docs.prepare(&mut first);
        assert_eq!(docs.lock().len(), 1);
        let mut second = Request::new("{ me { name } }");
        docs.prepare(&mut second);
        assert_eq!(docs.lock().len(), 1);
        let doc = second.parsed_query().expect("parsed");
        assert_eq!(doc.operations.iter().count(), 1);
    }

    #[test]
    fn what_does_not_parse_is_not_kept_and_the_cache_starts_over_when_full() {
        let docs = Documents::default();
        docs.prepare(&mut Request::new("{ me { name "));
        assert_eq!(docs.lock().len(), 0);
        for i in 0..CAPACITY + 1 {
            docs.prepare(&mut Request::new(format!("query Q{i} {{ me {{ name }} }}")));
        }
        assert_eq!(docs.lock().len(), 1);
    }
}
