//! SCIM Groups as Entra's group assignment uses them, in both PATCH dialects.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::TestApp;
use crate::common::scim::{Scim, entra_user, patch, token};
use gatehouse::service::admin::AdminActor;

#[actix_web::test]
async fn entra_group_assignment() {
    let app = TestApp::new().await;
    for slug in ["acme", "beta"] {
        app.services
            .create_client(AdminActor::cli(), slug.into(), slug.into())
            .await
            .unwrap();
    }
    let acme = app.services.client_realm("acme").unwrap();
    let beta = app.services.client_realm("beta").unwrap();
    let mut scim = Scim::new(&app, &token(&app, acme).await);
    let mut other = Scim::new(&app, &token(&app, beta).await);
    let ann = scim
        .post(
            "/scim/v2/Users",
            entra_user(
                "ann@acme.test",
                &uuid::Uuid::new_v4().to_string(),
                "ann@acme.test",
            ),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = other
        .post(
            "/scim/v2/Users",
            entra_user(
                "zed@beta.test",
                &uuid::Uuid::new_v4().to_string(),
                "zed@beta.test",
            ),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let created = scim
        .post("/scim/v2/Groups", json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"}
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    assert_eq!(
        created.body["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:Group"
    );
    assert_eq!(created.body["displayName"], "displayName");
    assert_eq!(created.body["members"], json!([]));
    assert_eq!(created.body["meta"]["resourceType"], "Group");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Groups/{id}");
    scim.post("/scim/v2/Groups", json!({"displayName": "DISPLAYNAME"}))
        .await
        .assert_error(409, Some("uniqueness"));

    // Entra finds groups by displayName without their members.
    let q = serde_urlencoded::to_string([
        ("excludedAttributes", "members"),
        ("filter", "displayName eq \"displayName\""),
    ])
    .unwrap();
    let found = scim.get(&format!("/scim/v2/Groups?{q}")).await.resources();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
    assert!(found[0].get("members").is_none());
    let got = scim
        .get(&format!("{path}?excludedAttributes=members"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body.get("members").is_none());

    let members = |body: &serde_json::Value| -> Vec<String> {
        body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_owned())
            .collect()
    };
    // Default dialect: add and remove with value arrays.
    let add = scim
        .patch(
            &path,
            patch(
                json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": ann}]}]),
            ),
        )
        .await;
    assert_eq!(add.status, StatusCode::NO_CONTENT, "{:#}", add.body);
    assert_eq!(
        members(&scim.get(&path).await.body),
        std::slice::from_ref(&ann)
    );
    let remove = scim
        .patch(&path, patch(json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": ann}]}])))
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT);
    assert!(members(&scim.get(&path).await.body).is_empty());
    // SCIM-compliant dialect: remove by a path filter.
    scim.patch(
        &path,
        patch(json!([{"op": "add", "path": "members", "value": [{"value": ann}]}])),
    )
    .await;
    assert_eq!(
        members(&scim.get(&path).await.body),
        std::slice::from_ref(&ann)
    );
    let remove = scim
        .patch(
            &path,
            patch(json!([{"op": "remove", "path": format!("members[value eq \"{ann}\"]")}])),
        )
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT);
    assert!(members(&scim.get(&path).await.body).is_empty());

    let renamed = scim
        .patch(
            &path,
            patch(json!([{"op": "Replace", "path": "displayName", "value": "Renamed"}])),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::NO_CONTENT);
    assert_eq!(scim.get(&path).await.body["displayName"], "Renamed");

    // A user of another client is not a user here.
    scim.patch(
        &path,
        patch(json!([{"op": "Add", "path": "members", "value": [{"value": stranger}]}])),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    scim.patch(
        &path,
        patch(json!([{"op": "Add", "path": "owner", "value": "x"}])),
    )
    .await
    .assert_error(400, Some("invalidPath"));

    // Deleting a user takes them out of their groups.
    scim.patch(
        &path,
        patch(json!([{"op": "Add", "path": "members", "value": [{"value": ann}]}])),
    )
    .await;
    scim.delete(&format!("/scim/v2/Users/{ann}")).await;
    assert!(members(&scim.get(&path).await.body).is_empty());

    assert_eq!(scim.delete(&path).await.status, StatusCode::NO_CONTENT);
    scim.get(&path).await.assert_error(404, None);
}
