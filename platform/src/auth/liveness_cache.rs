//! Remembered "this token is live" answers, so a request need not query the
//! liveness of a token this process checked a moment ago.
//!
//! Only trusted while the revocation listener is connected: every ended
//! token or principal it hears of drops the answers concerning it, and a
//! lost listener drops them all and turns the cache off until it is back (a
//! notification may have been missed meanwhile). Only "live" is remembered:
//! a refused token is rare and costs its query.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::ActorKind;
use uuid::Uuid;

use super::revocations::Ended;
use super::tokens::Claims;

/// Answers kept at most; beyond it (after dropping expired ones) new answers
/// are not kept, so a flood of distinct tokens costs queries, not memory.
const MAX_ENTRIES: usize = 100_000;

/// What the cache knows of a token.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Live, as the database said lately and nothing ended it since.
    Live,
    /// Unknown: ask the database, then [`LivenessCache::remember`] with the ticket.
    Miss(Ticket),
    /// The cache is off (listener away, or disabled): ask the database.
    Bypass,
}

/// The cache's generation when a lookup missed. An answer is kept only if
/// nothing was invalidated between the lookup and `remember`: the query may
/// have read the database before a revocation whose notification came
/// while it ran.
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket(u64);

pub struct LivenessCache {
    keep_for: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    listening: bool,
    generation: u64,
    entries: HashMap<Uuid, Entry>,
}

struct Entry {
    kind: ActorKind,
    /// Lowercase: user names compare case-insensitively.
    name: String,
    until: Instant,
}

impl LivenessCache {
    /// Answers are kept `keep_for` at most (and never past the token's
    /// expiry); zero turns the cache off.
    pub fn new(keep_for: Duration) -> Self {
        LivenessCache {
            keep_for,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lookup(&self, claims: &Claims) -> Lookup {
        if self.keep_for.is_zero() {
            return Lookup::Bypass;
        }
        let mut state = self.lock();
        if !state.listening {
            return Lookup::Bypass;
        }
        match state.entries.get(&claims.jti) {
            Some(e) if e.until > Instant::now() => Lookup::Live,
            Some(_) => {
                state.entries.remove(&claims.jti);
                Lookup::Miss(Ticket(state.generation))
            }
            None => Lookup::Miss(Ticket(state.generation)),
        }
    }

    /// Keeps a "live" answer the database gave after `lookup` missed.
    pub fn remember(&self, claims: &Claims, ticket: Ticket) {
        let left = claims.exp - chrono::Utc::now().timestamp();
        if left <= 0 {
            return;
        }
        let until = Instant::now() + self.keep_for.min(Duration::from_secs(left as u64));
        let mut state = self.lock();
        if !state.listening || state.generation != ticket.0 {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            state.entries.retain(|_, e| e.until > now);
            if state.entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        state.entries.insert(
            claims.jti,
            Entry {
                kind: claims.kind,
                name: claims.sub.to_lowercase(),
                until,
            },
        );
    }

    /// Drops what `ended` concerns.
    pub fn ended(&self, ended: &Ended) {
        let mut state = self.lock();
        state.generation += 1;
        match ended {
            Ended::Token(jti) => {
                state.entries.remove(jti);
            }
            Ended::Principal { kind, name } => {
                let name = name.to_lowercase();
                state
                    .entries
                    .retain(|_, e| !(e.kind == *kind && e.name == name));
            }
            Ended::Everything => state.entries.clear(),
        }
    }

    /// The listener is connected (or not): either way nothing remembered
    /// before holds, since notifications may have been missed in between.
    pub fn listening(&self, connected: bool) {
        let mut state = self.lock();
        state.generation += 1;
        state.entries.clear();
        state.listening = connected;
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Role;

    fn claims(sub: &str, kind: ActorKind) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: "ticketera".into(),
            sub: sub.into(),
            aud: "ticketera".into(),
            exp: now + 600,
            nbf: now,
            iat: now,
            jti: Uuid::new_v4(),
            roles: vec![Role::Analyst],
            kind,
        }
    }

    /// Looks up and, on a miss, remembers: what a request does when the
    /// database says "live".
    fn check(cache: &LivenessCache, c: &Claims) -> Lookup {
        match cache.lookup(c) {
            Lookup::Miss(t) => {
                cache.remember(c, t);
                Lookup::Miss(Ticket(u64::MAX))
            }
            other => other,
        }
    }

    fn missed(l: Lookup) -> bool {
        matches!(l, Lookup::Miss(_))
    }

    #[test]
    fn answers_are_dropped_by_what_ends_them() {
        let cache = LivenessCache::new(Duration::from_secs(60));
        cache.listening(true);
        let alice = claims("Alice", ActorKind::User);
        let alice2 = claims("alice", ActorKind::User);
        let bob = claims("bob", ActorKind::User);
        let client = claims("alice", ActorKind::Client);
        for c in [&alice, &alice2, &bob, &client] {
            assert!(missed(check(&cache, c)));
            assert_eq!(cache.lookup(c), Lookup::Live);
        }

        cache.ended(&Ended::Token(bob.jti));
        assert!(missed(check(&cache, &bob)), "bob's token ended");
        assert_eq!(cache.lookup(&alice), Lookup::Live);

        // Every token of the user, in any case; not the client of that name.
        cache.ended(&Ended::Principal {
            kind: ActorKind::User,
            name: "ALICE".into(),
        });
        assert!(missed(cache.lookup(&alice)));
        assert!(missed(cache.lookup(&alice2)));
        assert_eq!(cache.lookup(&client), Lookup::Live);
        assert_eq!(cache.lookup(&bob), Lookup::Live);

        cache.ended(&Ended::Everything);
        assert!(cache.is_empty());
    }

    #[test]
    fn nothing_is_trusted_while_the_listener_is_away() {
        let cache = LivenessCache::new(Duration::from_secs(60));
        let c = claims("alice", ActorKind::User);
        // Not yet connected: off.
        assert_eq!(cache.lookup(&c), Lookup::Bypass);
        cache.listening(true);
        assert!(missed(check(&cache, &c)));
        assert_eq!(cache.lookup(&c), Lookup::Live);

        // Lost: everything dropped, and nothing answered or kept until back.
        cache.listening(false);
        assert_eq!(cache.lookup(&c), Lookup::Bypass);
        assert!(cache.is_empty());
        cache.listening(true);
        assert!(missed(cache.lookup(&c)), "back, but the old answer is gone");
    }

    #[test]
    fn an_answer_read_before_an_invalidation_is_not_kept() {
        let cache = LivenessCache::new(Duration::from_secs(60));
        cache.listening(true);
        let c = claims("alice", ActorKind::User);
        // The query ran, and the revocation's notification came meanwhile.
        let Lookup::Miss(ticket) = cache.lookup(&c) else {
            panic!("expected a miss");
        };
        cache.ended(&Ended::Principal {
            kind: ActorKind::User,
            name: "alice".into(),
        });
        cache.remember(&c, ticket);
        assert!(missed(cache.lookup(&c)));

        // Same when the listener came and went meanwhile.
        let Lookup::Miss(ticket) = cache.lookup(&c) else {
            panic!("expected a miss");
        };
        cache.listening(false);
        cache.listening(true);
        cache.remember(&c, ticket);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_zero_lifetime_turns_the_cache_off_and_expired_tokens_are_not_kept() {
        let off = LivenessCache::new(Duration::ZERO);
        off.listening(true);
        assert_eq!(off.lookup(&claims("a", ActorKind::User)), Lookup::Bypass);

        let cache = LivenessCache::new(Duration::from_secs(60));
        cache.listening(true);
        let mut old = claims("a", ActorKind::User);
        old.exp = chrono::Utc::now().timestamp() - 1;
        assert!(missed(check(&cache, &old)));
        assert!(cache.is_empty());
    }
}
