//! Two clients with their own SCIM tokens, and staff: no read, write or filter result
//! crosses between them; another realm's ids are 404, never 403.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::TestApp;
use crate::common::scim::{Scim, entra_user, patch, token};
use gatehouse::domain::user::{Realm, UserStatus};
use gatehouse::service::admin::AdminActor;

#[actix_web::test]
async fn nothing_crosses_between_realms() {
    let app = TestApp::new().await;
    for slug in ["acme", "beta"] {
        app.services
            .create_client(AdminActor::cli(), slug.into(), slug.into())
            .await
            .unwrap();
    }
    let acme = app.services.client_realm("acme").unwrap();
    let beta = app.services.client_realm("beta").unwrap();
    let mut a = Scim::new(&app, &token(&app, acme).await);
    let mut b = Scim::new(&app, &token(&app, beta).await);
    let mut staff = Scim::new(&app, &token(&app, Realm::Staff).await);
    let ext = "11111111-0000-4000-8000-000000000001";

    let made = a
        .post(
            "/scim/v2/Users",
            entra_user("ann@shared.test", ext, "ann@shared.test"),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    let group = a
        .post("/scim/v2/Groups", json!({"displayName": "Sales"}))
        .await;
    let group_path = format!("/scim/v2/Groups/{}", group.body["id"].as_str().unwrap());

    for other in [&mut b, &mut staff] {
        other.get(&path).await.assert_error(404, None);
        other
            .put(&path, entra_user("x@shared.test", ext, "x@shared.test"))
            .await
            .assert_error(404, None);
        other
            .patch(
                &path,
                patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            )
            .await
            .assert_error(404, None);
        other.delete(&path).await.assert_error(404, None);
        for filter in [
            "userName eq \"ann@shared.test\"".to_owned(),
            format!("externalId eq \"{ext}\""),
            format!("id eq \"{id}\""),
            "emails.value eq \"ann@shared.test\"".to_owned(),
        ] {
            assert!(
                other.filter_users(&filter).await.resources().is_empty(),
                "{filter}"
            );
        }
        assert!(other.get("/scim/v2/Users").await.resources().is_empty());
        other.get(&group_path).await.assert_error(404, None);
        other
            .patch(
                &group_path,
                patch(json!([{"op": "Replace", "path": "displayName", "value": "Mine"}])),
            )
            .await
            .assert_error(404, None);
        other.delete(&group_path).await.assert_error(404, None);
        assert!(other.get("/scim/v2/Groups").await.resources().is_empty());
    }
    // A's user is untouched, and the same userName and externalId are free in B.
    let user = app
        .services
        .user_by_id(gatehouse::domain::user::UserId(
            uuid::Uuid::parse_str(&id).unwrap(),
        ))
        .unwrap();
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(user.realm, acme);
    assert_eq!(a.get(&group_path).await.body["displayName"], "Sales");
    let twin = b
        .post(
            "/scim/v2/Users",
            entra_user("ann@shared.test", ext, "ann@shared.test"),
        )
        .await;
    assert_eq!(twin.status, StatusCode::CREATED);
    assert_ne!(twin.body["id"], id.as_str());
    assert_eq!(
        a.filter_users("userName eq \"ann@shared.test\"")
            .await
            .resources()[0]["id"],
        id.as_str()
    );
    assert_eq!(app.services.list_users(Realm::Staff).unwrap().len(), 0);

    // A revoked token stops at once; the other realms' tokens keep working.
    let handle = app.services.list_scim_tokens(acme).unwrap()[0].id.clone();
    assert!(
        app.services
            .revoke_scim_token(AdminActor::cli(), beta, handle.clone())
            .await
            .is_err(),
        "a token is revoked only in its own realm"
    );
    app.services
        .revoke_scim_token(AdminActor::cli(), acme, handle)
        .await
        .unwrap();
    a.get("/scim/v2/Users").await.assert_error(401, None);
    assert_eq!(b.get("/scim/v2/Users").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn failed_bearer_attempts_are_throttled() {
    let app = TestApp::new().await;
    let good = token(&app, Realm::Staff).await;
    let mut guesser = Scim::new(
        &app,
        "ghscim_0123abcd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(guesser.get("/scim/v2/Users").await.status.as_u16());
    }
    assert_eq!(statuses[0], 401);
    assert!(statuses.contains(&429), "{statuses:?}");
    let throttled = guesser.get("/scim/v2/Users").await;
    throttled.assert_error(429, None);
    // Tokens are stored hashed: the secret is nowhere in the store.
    let secret = good.rsplit('_').next().unwrap().to_owned();
    let tokens = app.services.list_scim_tokens(Realm::Staff).unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(!format!("{tokens:?}").contains(&secret));
}
