//! The admin pages of identity providers through the real routes, with the step-up
//! gate: add an OpenID provider, test it, turn it on, reorder, edit, test sign-in,
//! remove — for staff and for a client.

use actix_web::http::StatusCode;

use crate::common::idp::{OIDC_CLIENT, OIDC_SECRET, app_with_issuers, person, sign_in_via};
use crate::common::staff::admin;
use gatehouse::domain::user::Realm;

#[actix_web::test]
async fn staff_and_client_providers_are_managed_on_their_pages() {
    let (app, fake) = app_with_issuers().await;
    let mut browser = admin(&app).await;
    let page = browser.get("/admin/sso").await;
    assert!(page.has("/admin/sso/providers"), "linked from /admin/sso");
    let page = browser.get("/admin/sso/providers").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has("Add an OpenID Connect provider"));
    let issuer = fake.generic_issuer("okta");
    let page = browser
        .submit(
            "/admin/sso/providers",
            &[
                ("id", "okta"),
                ("name", "Okta"),
                ("issuer", &issuer),
                ("client_id", OIDC_CLIENT),
                ("client_secret", OIDC_SECRET),
                ("jit", "on"),
                ("allowed_domains", "example.com"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("Provider added"));
    assert!(!page.has(OIDC_SECRET), "the secret is never shown");
    let page = browser.submit("/admin/sso/providers/okta/test", &[]).await;
    assert!(page.has("Connection test passed"), "{}", page.body);
    let page = browser
        .submit("/admin/sso/providers/okta/enable", &[])
        .await;
    assert!(page.has("Turned on"));
    assert!(app.browser().get("/login").await.has("Sign in with Okta"));

    // A bad issuer is refused with the reason, nothing saved.
    let page = browser
        .post(
            "/admin/sso/providers",
            &[
                ("id", "bad"),
                ("issuer", "ftp://x"),
                ("client_id", "c"),
                ("client_secret", "s"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("https"));

    // Reorder: Okta goes after Microsoft? There is no Microsoft here; add a second.
    let kc = fake.generic_issuer("keycloak");
    browser
        .post(
            "/admin/sso/providers",
            &[
                ("id", "kc"),
                ("name", "Keycloak"),
                ("issuer", &kc),
                ("client_id", OIDC_CLIENT),
                ("client_secret", OIDC_SECRET),
            ],
        )
        .await;
    browser.post("/admin/sso/providers/kc/enable", &[]).await;
    browser.post("/admin/sso/providers/kc/up", &[]).await;
    let order: Vec<String> = app
        .services
        .identity_providers(Realm::Staff)
        .unwrap()
        .providers
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(order, ["kc", "okta"]);
    let login = app.browser().get("/login").await;
    let (k, o) = (
        login.body.find("Sign in with Keycloak").unwrap(),
        login.body.find("Sign in with Okta").unwrap(),
    );
    assert!(k < o, "buttons in order");

    // Edit: require MFA; the next sign-in without amr mfa is refused.
    let page = browser
        .submit(
            "/admin/sso/providers/okta/save",
            &[
                ("name", "Okta"),
                ("issuer", &issuer),
                ("client_id", OIDC_CLIENT),
                ("jit", "on"),
                ("require_verified_email", "on"),
                ("require_mfa", "on"),
                ("allowed_domains", "example.com"),
            ],
        )
        .await;
    assert!(page.has("Saved."), "{}", page.body);
    let mut user = app.browser();
    let refused = sign_in_via(
        &mut user,
        &fake,
        "/login/sso/okta",
        person("a1", "a1@example.com"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Test sign-in goes to the provider.
    let page = browser
        .post("/admin/sso/providers/okta/test-sign-in", &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location().starts_with(&format!("{issuer}/authorize?")),
        "{}",
        page.location()
    );

    // Remove.
    let page = browser.submit("/admin/sso/providers/kc/remove", &[]).await;
    assert!(page.has("Provider removed"));
    assert!(!app.browser().get("/login").await.has("Keycloak"));

    // A client's page.
    app.services
        .create_client(
            gatehouse::service::admin::AdminActor::cli(),
            "acme".into(),
            "Acme".into(),
        )
        .await
        .unwrap();
    let page = browser.get("/admin/clients/acme").await;
    assert!(page.has("/admin/clients/acme/providers"));
    let page = browser
        .submit(
            "/admin/clients/acme/providers",
            &[
                ("id", "okta"),
                ("name", "Acme Okta"),
                ("issuer", &issuer),
                ("client_id", OIDC_CLIENT),
                ("client_secret", OIDC_SECRET),
            ],
        )
        .await;
    assert!(page.has("Provider added"), "{}", page.body);
    browser
        .post("/admin/clients/acme/providers/okta/enable", &[])
        .await;
    assert!(
        app.browser()
            .get("/p/acme/login")
            .await
            .has("Sign in with Acme Okta")
    );
    assert_eq!(
        browser.get("/admin/clients/nope/providers").await.status,
        StatusCode::NOT_FOUND
    );
}
