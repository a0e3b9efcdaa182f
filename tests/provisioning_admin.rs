//! Provisioning in the admin console and the CLI: the realm page (SCIM base URL, the
//! Entra steps, tokens shown once, last use and last request, provisioned and
//! sweep-managed users, revoking) and `gatehouse scim token …` / `sso sweep` through
//! the real binary, server stopped and running.

use actix_web::http::StatusCode;

use crate::common::binary::Install;
use crate::common::portal::{portals, realm};
use crate::common::scim::{Scim, entra_user};
use crate::common::staff::admin;

#[actix_web::test]
async fn the_client_page_manages_provisioning() {
    let (app, _fake) = portals().await;
    let mut ops = admin(&app).await;
    let client = ops.get("/admin/clients/acme").await;
    assert!(
        client
            .links()
            .contains(&"/admin/clients/acme/provisioning".to_owned())
    );

    let page = ops.get("/admin/clients/acme/provisioning").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.input_value("scim-url").as_deref(),
        Some("http://localhost:8080/scim/v2")
    );
    assert!(page.has("objectId") && page.has("externalId") && page.has("Secret Token"));
    assert!(page.has("No token yet"));

    let made = ops
        .post(
            "/admin/clients/acme/provisioning/tokens",
            &[("label", "Entra")],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let bearer = made
        .input_value("scim-token")
        .expect("the token is shown once");
    assert!(bearer.starts_with("ghscim_"), "{bearer}");
    let secret = bearer.rsplit('_').next().unwrap().to_owned();

    let mut scim = Scim::new(&app, &bearer);
    let oid = "7e3c6c88-5d7e-4e3f-9c73-4c5e8e2f2c03";
    let user = scim
        .post(
            "/scim/v2/Users",
            entra_user("erin@acme.example", oid, "erin@acme.example"),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED);

    let page = ops.get("/admin/clients/acme/provisioning").await;
    assert!(!page.has(&secret), "never shown again");
    assert!(page.has("Entra"));
    let token_row = page
        .body
        .split("<td>Entra</td>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        !token_row.contains(">never<"),
        "the token's last use is shown: {token_row}"
    );
    assert!(page.has("POST /scim/v2/Users"), "the last request is shown");
    assert!(page.has("erin@acme.example"));
    let row = page.body.split("erin@acme.example").nth(1).unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert_eq!(
        row.matches(">yes<").count(),
        2,
        "provisioned and checked by the sweep: {row}"
    );

    // The staff page is another realm: none of the client's tokens or users.
    let staff = ops.get("/admin/provisioning").await;
    assert_eq!(staff.status, StatusCode::OK);
    assert!(!staff.has("erin@acme.example") && staff.has("No token yet"));

    let id = app.services.list_scim_tokens(realm(&app, "acme")).unwrap()[0]
        .id
        .clone();
    let revoked = ops
        .post(
            &format!("/admin/clients/acme/provisioning/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert!(
        revoked
            .location()
            .starts_with("/admin/clients/acme/provisioning")
    );
    scim.get("/scim/v2/Users").await.assert_error(401, None);
    assert_eq!(
        ops.get("/admin/clients/nope/provisioning").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn tokens_from_the_cli_with_the_server_stopped_and_running() {
    let install = Install::new();
    install.start().stop();
    let out = install.cli_ok(&["scim", "token", "create", "--label", "Entra"], "");
    let bearer = out
        .split_whitespace()
        .find(|w| w.starts_with("ghscim_"))
        .expect("token printed")
        .to_owned();
    assert!(out.contains("/scim/v2"), "{out}");
    assert!(
        install
            .cli_ok(&["scim", "token", "list"], "")
            .contains("never")
    );
    let fails = install.cli(&["scim", "token", "create", "--client", "nope"], "");
    assert_eq!(fails.status.code(), Some(1));

    let server = install.start();
    let http = reqwest::Client::new();
    let users = http
        .get(format!("{}/scim/v2/Users", install.base()))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status().as_u16(), 200);
    assert_eq!(users.headers()["content-type"], "application/scim+json");
    let listed = install.cli_ok(&["scim", "token", "list", "--json"], "");
    let tokens: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert!(tokens[0]["last_used_at"].is_string(), "{listed}");
    let id = tokens[0]["id"].as_str().unwrap().to_owned();
    assert!(!listed.contains(bearer.rsplit('_').next().unwrap()));

    let sweep = install.cli_ok(&["sso", "sweep"], "");
    assert!(sweep.contains("no Microsoft connection"), "{sweep}");

    install.cli_ok(&["scim", "token", "revoke", &id], "");
    let after = http
        .get(format!("{}/scim/v2/Users", install.base()))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 401);
    server.stop();
}
