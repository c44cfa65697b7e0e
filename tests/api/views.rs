//! Saved queue views, per user, on the server.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn a_user_saves_lists_and_deletes_views_of_their_own() {
    let app = spawn_app().await;
    let (_, analyst) = app.user("analyst").await;
    let (_, other) = app.user("analyst").await;

    let res = app
        .post_json(
            "/api/v1/me/views",
            &analyst,
            &json!({"name": "Críticos sin asignar", "query": "?status=NEW&severity=CRITICAL&assignee=unassigned"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let view: Value = res.json().await.unwrap();
    assert_eq!(
        view["query"],
        "status=NEW&severity=CRITICAL&assignee=unassigned"
    );
    let id = view["id"].as_str().unwrap().to_string();

    let taken = app
        .post_json(
            "/api/v1/me/views",
            &analyst,
            &json!({"name": "Críticos sin asignar", "query": ""}),
        )
        .await;
    assert_eq!(
        problem(taken, StatusCode::CONFLICT).await["code"],
        "view_name_taken"
    );
    let blank = app
        .post_json(
            "/api/v1/me/views",
            &analyst,
            &json!({"name": "  ", "query": ""}),
        )
        .await;
    problem(blank, StatusCode::UNPROCESSABLE_ENTITY).await;
    let unknown = app
        .post_json(
            "/api/v1/me/views",
            &analyst,
            &json!({"name": "x", "query": "", "owner": "admin"}),
        )
        .await;
    problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;

    let list = |token: String| {
        let app = &app;
        async move {
            let res = app
                .request(Method::GET, "/api/v1/me/views", &token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Vec<Value>>().await.unwrap()
        }
    };
    assert_eq!(list(analyst.clone()).await.len(), 1);
    assert!(list(other.clone()).await.is_empty(), "views are per user");

    // Another user cannot delete it; its owner can, once.
    let path = format!("/api/v1/me/views/{id}");
    let res = app
        .request(Method::DELETE, &path, &other)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    let res = app
        .request(Method::DELETE, &path, &analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .request(Method::DELETE, &path, &analyst)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    let res = app
        .request(Method::DELETE, "/api/v1/me/views/not-a-uuid", &analyst)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    assert!(list(analyst).await.is_empty());

    let res = app
        .client
        .get(app.url("/api/v1/me/views"))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;
}
