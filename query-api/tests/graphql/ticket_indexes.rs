//! The ticket list's orderings are served by indexes of the read model: the
//! NUMBER order's keyset pages use `(number_n, id)` in the live copy, in a
//! fresh copy and in one made by `projector rebuild`.

use domain::{Role, Severity};
use query_api::store::TICKET_COLUMNS;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::spawn;

const INDEX: &str = "tickets_number_n_id_idx";

async fn number_index(pool: &PgPool, schema: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes
          WHERE schemaname = $1 AND tablename = 'tickets' AND indexname = $2",
    )
    .bind(schema)
    .bind(INDEX)
    .fetch_optional(pool)
    .await
    .expect("pg_indexes")
}

fn assert_number_index(def: Option<String>, schema: &str) {
    let def = def.unwrap_or_else(|| panic!("{schema}.tickets has no {INDEX}"));
    assert!(def.contains("(number_n, id)"), "{def}");
}

/// Every node of a JSON plan, depth first.
fn nodes(plan: &Value, out: &mut Vec<Value>) {
    out.push(plan.clone());
    for child in plan["Plans"].as_array().into_iter().flatten() {
        nodes(child, out);
    }
}

#[tokio::test]
async fn number_order_uses_its_index_in_live_fresh_and_rebuilt_read_models() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;

    // The live copy the migrations made, and a fresh one.
    assert_number_index(number_index(&h.pool, "rm_tickets").await, "rm_tickets");
    let fresh = "rm_tickets_build_990001";
    sqlx::query("SELECT rm_create_tickets_schema($1)")
        .bind(fresh)
        .execute(&h.pool)
        .await
        .expect("fresh copy");
    assert_number_index(number_index(&h.pool, fresh).await, fresh);
    sqlx::query("SELECT rm_drop_schema($1)")
        .bind(fresh)
        .execute(&h.pool)
        .await
        .expect("drop fresh copy");

    // A rebuilt copy (indexed in bulk after loading) swapped in.
    for title in ["first", "second", "third"] {
        h.open("lead", title, Severity::Low).await;
    }
    h.project().await;
    let live_schema = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT oid::bigint FROM pg_namespace WHERE nspname = 'rm_tickets'",
        )
        .fetch_one(&h.pool)
        .await
        .expect("schema")
    };
    let before = live_schema().await;
    projector::rebuild(&h.pool, Some("tickets"))
        .await
        .expect("rebuild");
    assert_ne!(
        live_schema().await,
        before,
        "the rebuild swapped a new copy in"
    );
    assert_number_index(
        number_index(&h.pool, "rm_tickets").await,
        "rebuilt rm_tickets",
    );
    let order = "query($after: String, $dir: OrderDirection) {
      tickets(first: 2, after: $after, orderBy: {field: NUMBER, direction: $dir}) {
        pageInfo { endCursor }
        edges { node { number } }
      }
    }";
    let numbers = |data: &Value| -> Vec<String> {
        data["tickets"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["number"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let page = h.data(&token, order, json!({"dir": "ASC"})).await;
    assert_eq!(numbers(&page), ["SOC-1", "SOC-2"], "{page}");
    let next = h
        .data(
            &token,
            order,
            json!({"dir": "ASC", "after": page["tickets"]["pageInfo"]["endCursor"].clone()}),
        )
        .await;
    assert_eq!(numbers(&next), ["SOC-3"], "{next}");

    // A read model large enough for the planner to care: the list's SQL
    // (store.rs: keyset on `(number_n, id)`, then `ORDER BY number_n, id`)
    // reads the index, forwards or backwards, and sorts nothing.
    sqlx::query(
        "INSERT INTO rm_tickets.tickets (id, number, number_n, title, description, status,
                severity, source, created_at, updated_at, version, last_position_tx, last_position)
         SELECT gen_random_uuid(), 'SOC-' || n, n, 'bulk', '', 'NEW', 'LOW', 'MANUAL',
                now(), now(), 1, '0', 0
           FROM generate_series(100, 20099) AS n",
    )
    .execute(&h.pool)
    .await
    .expect("bulk rows");
    sqlx::query("ANALYZE rm_tickets.tickets")
        .execute(&h.pool)
        .await
        .expect("analyze");
    for (dir, op, scan) in [("ASC", ">", "Forward"), ("DESC", "<", "Backward")] {
        for keyset in [false, true] {
            let after = if keyset {
                format!(" AND (number_n, id) {op} ($1, $2)")
            } else {
                " AND $1::bigint IS NOT NULL AND $2::uuid IS NOT NULL".to_string()
            };
            let sql = format!(
                "EXPLAIN (FORMAT JSON) SELECT {TICKET_COLUMNS} FROM rm_tickets.tickets
                  WHERE true{after} ORDER BY number_n {dir}, id {dir} LIMIT $3"
            );
            let plan: Value = sqlx::query_scalar(&sql)
                .bind(10_000_i64)
                .bind(Uuid::nil())
                .bind(21_i64)
                .fetch_one(&h.pool)
                .await
                .expect("explain");
            let mut all = vec![];
            nodes(&plan[0]["Plan"], &mut all);
            assert!(
                all.iter().any(|n| n["Index Name"] == INDEX
                    && n["Scan Direction"] == scan
                    && n["Node Type"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("Index"))),
                "{dir}, keyset {keyset}: {plan}"
            );
            assert!(
                !all.iter()
                    .any(|n| n["Node Type"] == "Sort" || n["Node Type"] == "Incremental Sort"),
                "{dir}, keyset {keyset}: {plan}"
            );
        }
    }
}
