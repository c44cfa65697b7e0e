//! Access tokens whose signature this process has checked. A client sends
//! the same bearer token with every request until it expires, and an
//! Ed25519 verification is the largest single cost of a small query. A
//! token is found here only by its exact text, so nothing that was not
//! verified is ever accepted; what depends on time (expiry, not-before,
//! issued-at) and on the key set (a removed key) is checked again on every
//! use. Revocation is not decided here: callers check it on every request
//! (`authenticate::check_live`), as for a token verified afresh.

use std::collections::HashMap;
use std::sync::Mutex;

use super::tokens::Claims;

/// Tokens kept. Beyond it the cache starts over (a flood of distinct valid
/// tokens costs a verification each, as without the cache).
const CAPACITY: usize = 4096;

#[derive(Default)]
pub(crate) struct VerifiedTokens {
    tokens: Mutex<HashMap<String, Verified>>,
}

struct Verified {
    kid: String,
    claims: Claims,
}

/// Whether a verified token's times still hold at `now` (seconds), with the
/// same rules and leeway as the verification (`tokens::validation`).
pub(crate) fn times_hold(claims: &Claims, now: i64, leeway: i64) -> bool {
    claims.exp >= now.saturating_sub(leeway)
        && claims.nbf <= now.saturating_add(leeway)
        && claims.iat <= now.saturating_add(leeway)
}

impl VerifiedTokens {
    /// The claims of `token` when it was verified before, its times still
    /// hold and the key that signed it is still one of `usable`.
    pub(crate) fn get(
        &self,
        token: &str,
        now: i64,
        leeway: i64,
        usable: impl Fn(&str) -> bool,
    ) -> Option<Claims> {
        let tokens = self.lock();
        let v = tokens.get(token)?;
        (times_hold(&v.claims, now, leeway) && usable(&v.kid)).then(|| v.claims.clone())
    }

    pub(crate) fn put(&self, token: &str, kid: String, claims: Claims) {
        let mut tokens = self.lock();
        if tokens.len() >= CAPACITY {
            tokens.clear();
        }
        tokens.insert(token.to_string(), Verified { kid, claims });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Verified>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{ActorKind, Role};

    fn claims(exp: i64, nbf: i64, iat: i64) -> Claims {
        Claims {
            iss: "i".into(),
            sub: "alice".into(),
            aud: "a".into(),
            exp,
            nbf,
            iat,
            jti: uuid::Uuid::nil(),
            roles: vec![Role::Analyst],
            kind: ActorKind::User,
        }
    }

    #[test]
    fn a_kept_token_is_refused_once_expired_or_its_key_is_gone() {
        let kept = VerifiedTokens::default();
        kept.put("t", "k1".into(), claims(1_000, 400, 400));
        let any = |_: &str| true;
        assert!(kept.get("t", 900, 0, any).is_some());
        // Expiry, with the leeway as jsonwebtoken applies it.
        assert!(kept.get("t", 1_001, 0, any).is_none());
        assert!(kept.get("t", 1_001, 5, any).is_some());
        assert!(kept.get("t", 1_006, 5, any).is_none());
        // Not before, issued at.
        assert!(kept.get("t", 300, 0, any).is_none());
        // The key that signed it is no longer usable.
        assert!(kept.get("t", 900, 0, |kid: &str| kid != "k1").is_none());
        // Only the exact text.
        assert!(kept.get("t ", 900, 0, any).is_none());
    }
}
