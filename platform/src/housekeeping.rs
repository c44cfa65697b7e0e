//! Tables whose rows expire, and the background task that deletes the
//! expired ones: without it they only grow (one row per failed-login key,
//! per logout, per signed webhook). Each service prunes the tables it
//! writes, every `TICKETERA_PRUNE_INTERVAL_SECS` (README, "Configuration").

use std::time::Duration;

use sqlx::PgPool;

use crate::http::shutdown::Shutdown;

/// A table with expiring rows and the statement that deletes them.
#[derive(Debug, Clone, Copy)]
pub struct Expiring {
    /// The table's name, the `table` label of `ticketera_pruned_rows_total`.
    pub table: &'static str,
    /// Deletes the expired rows; no parameters.
    pub delete: &'static str,
}

/// Failed-login windows that are over: the next attempt on the key would
/// restart its window anyway (`identity::COUNT_ATTEMPT`), so a missing row
/// and an expired one count the same.
pub const LOGIN_FAILURES: Expiring = Expiring {
    table: "login_failures",
    delete: "DELETE FROM login_failures WHERE window_start < now() - make_interval(secs => 900)",
};

/// Revoked access tokens past their own expiry: the signature check
/// refuses them already.
pub const REVOKED_ACCESS_TOKENS: Expiring = Expiring {
    table: "revoked_access_tokens",
    delete: "DELETE FROM revoked_access_tokens WHERE expires_at < now()",
};

/// What command-api (and `serve`) writes: the login throttle and logouts.
pub const IDENTITY_TABLES: &[Expiring] = &[LOGIN_FAILURES, REVOKED_ACCESS_TOKENS];

/// Deletes the expired rows of each table; the rows deleted, in all.
pub async fn prune(pool: &PgPool, tables: &[Expiring]) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    for t in tables {
        let n = sqlx::query(t.delete).execute(pool).await?.rows_affected();
        metrics::counter!("ticketera_pruned_rows_total", "table" => t.table).increment(n);
        total += n;
    }
    Ok(total)
}

/// Prunes `tables` every `every` (the first time right away) until
/// `shutdown`. A failed round is logged and the next one tries again.
pub fn spawn(
    pool: PgPool,
    tables: &'static [Expiring],
    every: Duration,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match prune(&pool, tables).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "expired rows pruned"),
                Err(e) => {
                    tracing::warn!(error = %e, "pruning expired rows failed; next round retries")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_failures_expire_with_the_throttle_window() {
        let window = format!("secs => {})", crate::identity::THROTTLE_WINDOW_SECS);
        assert!(LOGIN_FAILURES.delete.contains(&window), "{window}");
    }
}
