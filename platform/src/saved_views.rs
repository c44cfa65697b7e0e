//! Saved queue views: a user's named queue filters (the queue URL's search
//! string), kept on the server.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Most views one user keeps.
pub const MAX_VIEWS_PER_USER: i64 = 100;
const NAME_MAX: usize = 80;
const QUERY_MAX: usize = 2000;

const LIST: &str = "SELECT id, name, query, created_at FROM saved_views
    WHERE owner = $1 ORDER BY lower(name), id";
const COUNT: &str = "SELECT count(*) FROM saved_views WHERE owner = $1";
const INSERT: &str = "INSERT INTO saved_views (id, owner, name, query) VALUES ($1, $2, $3, $4)
    RETURNING created_at";
const DELETE: &str = "DELETE FROM saved_views WHERE owner = $1 AND id = $2";
const UNIQUE_NAME: &str = "saved_views_owner_name_key";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedView {
    pub id: Uuid,
    pub name: String,
    /// The queue's URL search string, e.g. `status=NEW&severity=HIGH`.
    pub query: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedViewError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("a view named '{0}' exists")]
    NameTaken(String),
    #[error("at most {MAX_VIEWS_PER_USER} saved views per user")]
    TooMany,
    #[error("no such view")]
    NotFound,
    #[error("database")]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct SavedViews {
    pool: PgPool,
}

fn clean(field: &'static str, value: &str, max: usize) -> Result<String, SavedViewError> {
    let v = value.trim();
    let invalid = |message: String| SavedViewError::Invalid { field, message };
    if v.is_empty() && field == "name" {
        return Err(invalid("must not be empty".into()));
    }
    if v.chars().count() > max {
        return Err(invalid(format!("at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(
            "must be one line without control characters".into(),
        ));
    }
    Ok(v.to_string())
}

impl SavedViews {
    pub fn new(pool: PgPool) -> Self {
        SavedViews { pool }
    }

    pub async fn list(&self, owner: &str) -> Result<Vec<SavedView>, SavedViewError> {
        let rows = sqlx::query(LIST).bind(owner).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(SavedView {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    query: r.try_get("query")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn create(
        &self,
        owner: &str,
        name: &str,
        query: &str,
    ) -> Result<SavedView, SavedViewError> {
        let name = clean("name", name, NAME_MAX)?;
        let query = clean("query", query, QUERY_MAX)?;
        let query = query.strip_prefix('?').unwrap_or(&query).to_string();
        let count: i64 = sqlx::query_scalar(COUNT)
            .bind(owner)
            .fetch_one(&self.pool)
            .await?;
        if count >= MAX_VIEWS_PER_USER {
            return Err(SavedViewError::TooMany);
        }
        let id = Uuid::now_v7();
        let created = sqlx::query_scalar::<_, DateTime<Utc>>(INSERT)
            .bind(id)
            .bind(owner)
            .bind(&name)
            .bind(&query)
            .fetch_one(&self.pool)
            .await;
        match created {
            Ok(created_at) => Ok(SavedView {
                id,
                name,
                query,
                created_at,
            }),
            Err(sqlx::Error::Database(e)) if e.constraint() == Some(UNIQUE_NAME) => {
                Err(SavedViewError::NameTaken(name))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, owner: &str, id: Uuid) -> Result<(), SavedViewError> {
        let done = sqlx::query(DELETE)
            .bind(owner)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(SavedViewError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_queries_are_one_bounded_line() {
        assert_eq!(
            clean("name", "  Mis críticos ", NAME_MAX).unwrap(),
            "Mis críticos"
        );
        assert!(clean("name", "   ", NAME_MAX).is_err());
        assert!(clean("name", "a\nb", NAME_MAX).is_err());
        assert!(clean("name", &"x".repeat(81), NAME_MAX).is_err());
        assert_eq!(clean("query", "", QUERY_MAX).unwrap(), "");
    }
}
