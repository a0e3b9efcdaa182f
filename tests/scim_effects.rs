//! What provisioning does to sign-in: a provisioned user signs in with Microsoft
//! (linked by Entra object id, never by email), and deactivation or deletion ends their
//! live session at once — the next auth-request is 401 and the portal account page
//! sends them to sign in — with no restart and no waiting; re-activation restores
//! access.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::forward_auth::check;
use crate::common::portal::{TA, member, portal_sso, portals, realm};
use crate::common::scim::{Scim, entra_user, patch, token};

const OID: &str = "5c1a4a66-3b5c-4c1e-9a51-2a3c6c0f0a01";

async fn auth_request(browser: &mut crate::common::Browser) -> StatusCode {
    check(browser, "/api/authz/auth-request?client=acme", &[])
        .await
        .status
}

#[actix_web::test]
async fn deactivation_ends_a_live_session_at_once_and_reactivation_restores_access() {
    let (app, fake) = portals().await;
    let mut scim = Scim::new(&app, &token(&app, realm(&app, "acme")).await);
    let made = scim
        .post(
            "/scim/v2/Users",
            entra_user("carol@acme.example", OID, "carol@acme.example"),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:#}", made.body);
    let path = format!("/scim/v2/Users/{}", made.body["id"].as_str().unwrap());

    // No invitation: the provisioned user signs in with Microsoft straight away,
    // recognised by (tenant, object id).
    let mut carol = app.browser();
    let page = portal_sso(
        &mut carol,
        &fake,
        "acme",
        member(TA, OID, "carol@acme.example"),
    )
    .await;
    assert_eq!(page.location(), "/p/acme/account", "{}", page.body);
    assert_eq!(auth_request(&mut carol).await, StatusCode::OK);
    assert_eq!(carol.get("/p/acme/account").await.status, StatusCode::OK);

    // Entra deactivates her: the very next checks refuse.
    let off = scim
        .patch(
            &path,
            patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(auth_request(&mut carol).await, StatusCode::UNAUTHORIZED);
    let account = carol.get("/p/acme/account").await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert!(
        account.location().starts_with("/p/acme/login"),
        "{}",
        account.location()
    );
    // Nor can she sign in again while deactivated.
    let again = portal_sso(
        &mut carol,
        &fake,
        "acme",
        member(TA, OID, "carol@acme.example"),
    )
    .await;
    assert_ne!(again.location(), "/p/acme/account");
    assert_eq!(auth_request(&mut carol).await, StatusCode::UNAUTHORIZED);

    // Re-activated: she signs in again and is let through.
    let on = scim
        .patch(
            &path,
            json!({"Operations": [{"op": "replace", "value": {"active": true}}]}),
        )
        .await;
    assert_eq!(on.body["active"], true);
    let back = portal_sso(
        &mut carol,
        &fake,
        "acme",
        member(TA, OID, "carol@acme.example"),
    )
    .await;
    assert_eq!(back.location(), "/p/acme/account", "{}", back.body);
    assert_eq!(auth_request(&mut carol).await, StatusCode::OK);

    // Deleted: the session ends at once and the account is gone.
    assert_eq!(scim.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(auth_request(&mut carol).await, StatusCode::UNAUTHORIZED);
    let account = carol.get("/p/acme/account").await;
    assert!(
        account.location().starts_with("/p/acme/login"),
        "{}",
        account.location()
    );
}

#[actix_web::test]
async fn identities_link_by_object_id_never_by_user_name_or_email() {
    let (app, fake) = portals().await;
    let mut scim = Scim::new(&app, &token(&app, realm(&app, "acme")).await);
    scim.post(
        "/scim/v2/Users",
        entra_user("dave@acme.example", OID, "dave@acme.example"),
    )
    .await;
    // Someone else in the tenant with Dave's email but another object id gets nothing.
    let mut mallory = app.browser();
    let other_oid = "6d2b5b77-4c6d-4d2f-8b62-3b4d7d1f1b02";
    let page = portal_sso(
        &mut mallory,
        &fake,
        "acme",
        member(TA, other_oid, "dave@acme.example"),
    )
    .await;
    assert_ne!(page.location(), "/p/acme/account");
    assert!(page.has("not registered here"), "{}", page.body);
    assert_eq!(auth_request(&mut mallory).await, StatusCode::UNAUTHORIZED);
    // The provisioned user has exactly one link, to their object id in tenant A.
    let user = app
        .services
        .user_by_email(realm(&app, "acme"), "dave@acme.example")
        .unwrap();
    assert_eq!(user.sso_links.len(), 1);
    assert_eq!(user.sso_links[0].tenant, TA);
    assert_eq!(user.sso_links[0].subject, OID);
    assert!(
        user.password_hash.is_none(),
        "provisioning never sets a password"
    );

    // A changed externalId moves the link: the old object id no longer signs in.
    let path = format!("/scim/v2/Users/{}", user.id);
    scim.patch(
        &path,
        patch(json!([{"op": "Replace", "path": "externalId", "value": other_oid}])),
    )
    .await;
    let user = app.services.user_by_id(user.id).unwrap();
    assert_eq!(user.sso_links.len(), 1);
    assert_eq!(user.sso_links[0].subject, other_oid);
    let mut dave = app.browser();
    let page = portal_sso(
        &mut dave,
        &fake,
        "acme",
        member(TA, OID, "dave@acme.example"),
    )
    .await;
    assert_ne!(page.location(), "/p/acme/account");
}
