//! SCIM Users as Entra's provisioning service drives them: the tutorial's request
//! shapes in both PATCH dialects (default: capitalised ops, `"False"`; SCIM-compliant:
//! lower-case ops, value objects), each answer checked for status and SCIM shape.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::TestApp;
use crate::common::scim::{Scim, entra_user, patch, token};
use gatehouse::domain::user::{Realm, UserId, UserStatus};
use gatehouse::service::admin::AdminActor;

const EXT: &str = "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef";

async fn client_app() -> (TestApp, Realm, Scim) {
    let app = TestApp::new().await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let realm = app.services.client_realm("acme").unwrap();
    let bearer = token(&app, realm).await;
    let scim = Scim::new(&app, &bearer);
    (app, realm, scim)
}

fn user_id(body: &serde_json::Value) -> UserId {
    UserId(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap())
}

#[actix_web::test]
async fn a_user_lives_and_leaves_in_the_default_dialect() {
    let (app, realm, mut scim) = client_app().await;
    let name = "Test_User_ab6490ee@testuser.com";

    // Entra first looks the user up by its matching attribute: nothing yet.
    let none = scim.filter_users(&format!("userName eq \"{name}\"")).await;
    assert!(none.resources().is_empty());
    assert_eq!(none.body["totalResults"], 0);

    let created = scim
        .post(
            "/scim/v2/Users",
            entra_user(name, EXT, "Test_User_fd0ea19b@testuser.com"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    assert_eq!(created.content_type, "application/scim+json");
    let body = &created.body;
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );
    assert_eq!(body["userName"], name);
    assert_eq!(body["externalId"], EXT);
    assert_eq!(body["active"], true);
    assert_eq!(body["name"]["givenName"], "givenName");
    assert_eq!(
        body["emails"][0]["value"],
        "test_user_fd0ea19b@testuser.com"
    );
    assert_eq!(body["emails"][0]["type"], "work");
    assert_eq!(body["meta"]["resourceType"], "User");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        body["meta"]["location"],
        format!("http://localhost:8080/scim/v2/Users/{id}")
    );
    // Active at once, without an invitation or a password.
    let user = app.services.user_by_id(user_id(body)).unwrap();
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(user.realm, realm);
    assert!(user.password_hash.is_none());
    let tokens = app
        .services
        .store()
        .read(gatehouse::store::prelude::TokenReads::one_time_tokens)
        .unwrap();
    assert!(tokens.is_empty(), "no invitation was made");

    // The same user again is a uniqueness clash.
    scim.post("/scim/v2/Users", entra_user(name, EXT, "x@testuser.com"))
        .await
        .assert_error(409, Some("uniqueness"));

    // userName is not case-exact; externalId is.
    let found = scim
        .filter_users(&format!("userName eq \"{}\"", name.to_uppercase()))
        .await
        .resources();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
    assert_eq!(
        scim.filter_users(&format!("externalId eq \"{EXT}\""))
            .await
            .resources()
            .len(),
        1
    );
    assert!(
        scim.filter_users(&format!("externalId eq \"{}\"", EXT.to_uppercase()))
            .await
            .resources()
            .is_empty()
    );

    let path = format!("/scim/v2/Users/{id}");
    let got = scim.get(&path).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["id"], id.as_str());

    // Update: multi-valued and single-valued attributes.
    let updated = scim
        .patch(&path, patch(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@testuser.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Replace", "path": "userName", "value": "5b50642d@testuser.com"}
        ])))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:#}", updated.body);
    assert_eq!(updated.body["name"]["familyName"], "updatedFamilyName");
    assert_eq!(updated.body["userName"], "5b50642d@testuser.com");
    let user = app.services.user_by_id(user_id(&updated.body)).unwrap();
    assert_eq!(user.email.as_str(), "updatedemail@testuser.com");

    // Disable with the default dialect's string boolean.
    let disabled = scim
        .patch(
            &path,
            patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{:#}", disabled.body);
    assert_eq!(disabled.body["active"], false);
    assert_eq!(
        app.services.user_by_id(user.id).unwrap().status,
        UserStatus::Disabled
    );
    // Soft-deleted users are still there, with active false.
    assert_eq!(scim.get(&path).await.body["active"], false);
    let listed = scim
        .filter_users("userName eq \"5b50642d@testuser.com\"")
        .await
        .resources();
    assert_eq!(listed[0]["active"], false);

    let enabled = scim
        .patch(
            &path,
            patch(json!([{"op": "Replace", "path": "active", "value": "True"}])),
        )
        .await;
    assert_eq!(enabled.body["active"], true);
    assert_eq!(
        app.services.user_by_id(user.id).unwrap().status,
        UserStatus::Active
    );

    let deleted = scim.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.body.is_null());
    scim.get(&path).await.assert_error(404, None);
    scim.delete(&path).await.assert_error(404, None);
    assert!(
        app.services.user_by_id(user.id).is_err(),
        "the user is removed"
    );
}

#[actix_web::test]
async fn a_user_lives_and_leaves_in_the_compliant_dialect() {
    let (app, _, mut scim) = client_app().await;
    let created = scim
        .post(
            "/scim/v2/Users",
            entra_user("pat@contoso.com", EXT, "pat@contoso.com"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let path = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());
    let id = user_id(&created.body);

    let changed = scim
        .patch(&path, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "add", "value": {"name.givenName": "John", "name.familyName": "Smith"}},
            {"op": "replace", "value": {"displayName": "Pat Doe", "emails[type eq \"work\"].value": "pat.doe@contoso.com"}},
            {"op": "add", "value": {"nickName": "Babs"}}
        ]}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:#}", changed.body);
    assert_eq!(changed.body["name"]["givenName"], "John");
    assert_eq!(changed.body["displayName"], "Pat Doe");
    let user = app.services.user_by_id(id).unwrap();
    assert_eq!(user.display_name, "Pat Doe");
    assert_eq!(user.email.as_str(), "pat.doe@contoso.com");

    let removed = scim
        .patch(
            &path,
            patch(json!([{"op": "remove", "path": "name.familyName"}])),
        )
        .await;
    assert!(
        removed.body["name"].get("familyName").is_none(),
        "{:#}",
        removed.body
    );

    let off = scim
        .patch(
            &path,
            patch(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await;
    assert_eq!(off.body["active"], false);
    assert_eq!(
        app.services.user_by_id(id).unwrap().status,
        UserStatus::Disabled
    );
    let on = scim
        .patch(
            &path,
            patch(json!([{"op": "replace", "path": "active", "value": true}])),
        )
        .await;
    assert_eq!(on.body["active"], true);
    assert_eq!(
        app.services.user_by_id(id).unwrap().status,
        UserStatus::Active
    );

    assert_eq!(scim.delete(&path).await.status, StatusCode::NO_CONTENT);
    scim.get(&path).await.assert_error(404, None);
}

#[actix_web::test]
async fn put_replaces_what_scim_keeps() {
    let (app, _, mut scim) = client_app().await;
    let created = scim
        .post(
            "/scim/v2/Users",
            entra_user("ann@contoso.com", EXT, "ann@contoso.com"),
        )
        .await;
    let path = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());
    let mut replacement = entra_user("ann.b@contoso.com", EXT, "ann.b@contoso.com");
    replacement["active"] = json!(false);
    replacement["displayName"] = json!("Ann B");
    let put = scim.put(&path, replacement).await;
    assert_eq!(put.status, StatusCode::OK, "{:#}", put.body);
    assert_eq!(put.body["userName"], "ann.b@contoso.com");
    assert_eq!(put.body["active"], false);
    let user = app.services.user_by_id(user_id(&put.body)).unwrap();
    assert_eq!(user.email.as_str(), "ann.b@contoso.com");
    assert_eq!(user.status, UserStatus::Disabled);
}

#[actix_web::test]
async fn bad_requests_get_scim_errors() {
    let (app, _, mut scim) = client_app().await;
    scim.filter_users("userName co \"x\"")
        .await
        .assert_error(400, Some("invalidFilter"));
    scim.filter_users("title eq \"x\"")
        .await
        .assert_error(400, Some("invalidFilter"));
    scim.get("/scim/v2/Users?count=lots")
        .await
        .assert_error(400, Some("invalidValue"));
    let raw = scim
        .send("POST", "/scim/v2/Users", Some(json!("not an object")))
        .await;
    raw.assert_error(400, Some("invalidSyntax"));
    scim.post("/scim/v2/Users", json!({"active": true}))
        .await
        .assert_error(400, Some("invalidValue"));
    scim.post("/scim/v2/Users", json!({"userName": "no-email-here"}))
        .await
        .assert_error(400, Some("invalidValue"));
    let created = scim
        .post(
            "/scim/v2/Users",
            entra_user("ann@contoso.com", EXT, "ann@contoso.com"),
        )
        .await;
    let path = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());
    scim.patch(&path, patch(json!([{"op": "remove"}])))
        .await
        .assert_error(400, Some("noTarget"));
    scim.patch(
        &path,
        patch(json!([{"op": "Replace", "path": "active", "value": "maybe"}])),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    scim.patch(&path, json!({"Operations": "x"}))
        .await
        .assert_error(400, Some("invalidSyntax"));
    scim.patch(
        &path,
        patch(json!([{"op": "replace", "path": "emails[[", "value": "a"}])),
    )
    .await
    .assert_error(400, Some("invalidPath"));
    scim.get("/scim/v2/Users/not-a-uuid")
        .await
        .assert_error(404, None);
    scim.get(&format!("/scim/v2/Users/{}", uuid::Uuid::new_v4()))
        .await
        .assert_error(404, None);
    scim.get("/scim/v2/Nothing").await.assert_error(404, None);

    // No token, a wrong one, a malformed one: 401 with a challenge, SCIM-shaped.
    let mut anonymous = Scim::new(&app, "");
    let a = anonymous.get("/scim/v2/Users").await;
    a.assert_error(401, None);
    assert!(a.www_authenticate.unwrap().starts_with("Bearer"));
    let mut forged = Scim::new(&app, &format!("{}x", &scim.token[..scim.token.len() - 1]));
    forged.get("/scim/v2/Users").await.assert_error(401, None);
    let mut other = Scim::new(&app, "ghscim_0000000a_abc");
    other.get("/scim/v2/Users").await.assert_error(401, None);
}

#[actix_web::test]
async fn lists_are_paged() {
    let (_app, _, mut scim) = client_app().await;
    for i in 0..5 {
        let made = scim
            .post(
                "/scim/v2/Users",
                entra_user(
                    &format!("u{i}@contoso.com"),
                    &uuid::Uuid::new_v4().to_string(),
                    &format!("u{i}@contoso.com"),
                ),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED);
    }
    let page = scim.get("/scim/v2/Users?startIndex=2&count=2").await;
    let items = page.resources();
    assert_eq!(items.len(), 2);
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(items[0]["userName"], "u1@contoso.com");
    let empty = scim.get("/scim/v2/Users?count=0").await;
    assert!(empty.resources().is_empty());
    assert_eq!(empty.body["totalResults"], 5);
    let past = scim.get("/scim/v2/Users?startIndex=9").await;
    assert!(past.resources().is_empty());
}

#[actix_web::test]
async fn discovery_documents_describe_the_service() {
    let (_app, _, mut scim) = client_app().await;
    let config = scim.get("/scim/v2/ServiceProviderConfig").await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["filter"]["supported"], true);
    assert_eq!(config.body["bulk"]["supported"], false);
    assert_eq!(
        config.body["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    let schemas = scim.get("/scim/v2/Schemas").await.resources();
    assert_eq!(schemas.len(), 2);
    let user = scim
        .get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    assert_eq!(user.status, StatusCode::OK);
    let user_name = user.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "userName")
        .unwrap()
        .clone();
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(user_name["uniqueness"], "server");
    let types = scim.get("/scim/v2/ResourceTypes").await.resources();
    assert_eq!(
        types
            .iter()
            .map(|t| t["endpoint"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["/Users", "/Groups"]
    );
    assert_eq!(
        scim.get("/scim/v2/ResourceTypes/User").await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn users_made_by_an_admin_are_found_by_email_and_adopted() {
    let (app, realm, mut scim) = client_app().await;
    let invited = app
        .services
        .invite(
            AdminActor::cli(),
            realm,
            "bob@contoso.com".into(),
            "Bob".into(),
            gatehouse::domain::user::Role::Member,
        )
        .await
        .unwrap();
    let found = scim
        .filter_users("userName eq \"Bob@Contoso.com\"")
        .await
        .resources();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], invited.user.id.to_string());
    let path = format!("/scim/v2/Users/{}", invited.user.id);
    let adopted = scim
        .patch(
            &path,
            patch(json!([{"op": "Replace", "path": "externalId", "value": EXT}])),
        )
        .await;
    assert_eq!(adopted.status, StatusCode::OK, "{:#}", adopted.body);
    assert_eq!(
        scim.filter_users(&format!("externalId eq \"{EXT}\""))
            .await
            .resources()
            .len(),
        1
    );
}
