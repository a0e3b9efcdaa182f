//! SSO-only means "only providers" (DESIGN §3, §10): staff SSO-only may rest on any
//! usable provider of the realm — an OpenID provider that is on, configured and
//! tested, without Microsoft — and the admin who keeps access may have their account
//! linked at any such provider. The admin page's conditions and button, the service
//! (what the CLI calls) and the client realm's rules all count every provider.

use actix_web::http::StatusCode;

use crate::common::idp::{add_provider, app_with_issuers, person, sign_in_via};
use crate::common::sso::visit_authorize;
use gatehouse::domain::user::Realm;
use gatehouse::service::ServiceError;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;
use gatehouse::service::sso::providers::ProviderInput;

const PASSWORD: &str = "correct horse battery";

#[actix_web::test]
async fn staff_sso_only_can_rest_on_a_tested_openid_provider_and_an_admin_linked_there() {
    let (app, fake) = app_with_issuers().await;
    // No Microsoft settings at all: only Okta.
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        ProviderInput::default(),
    )
    .await;
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut ann = app.browser();
    ann.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    ann.enrol(&app).await;

    let turn_on = || app.services.set_staff_sso_only(AdminActor::cli(), true);
    let result = turn_on().await;
    assert!(
        matches!(&result, Err(ServiceError::Conflict(m)) if m.contains("connection test") && m.contains("linked")),
        "untested provider, nobody linked: {result:?}"
    );
    let page = ann.get("/admin/sso").await;
    assert!(
        page.has("id=\"sso-only-why\""),
        "button disabled: {}",
        page.body
    );

    assert!(
        app.services
            .test_provider(AdminActor::cli(), Realm::Staff, "okta")
            .await
            .unwrap()
            .passed
    );
    let result = turn_on().await;
    assert!(
        matches!(&result, Err(ServiceError::Conflict(m)) if !m.contains("connection test") && m.contains("linked")),
        "tested provider, nobody linked: {result:?}"
    );

    // Ann links her Okta account: both conditions hold, on the page too.
    ann.get("/account").await;
    fake.next_login(person("ann-sub", "ann@example.com"));
    let page = ann.post("/account/sso/link", &[("provider", "okta")]).await;
    let callback = visit_authorize(page.location()).await;
    assert_eq!(ann.get(&callback).await.location(), "/account");
    let page = ann.get("/admin/sso").await;
    assert!(
        !page.has("id=\"sso-only-why\""),
        "button enabled: {}",
        page.body
    );
    assert!(!page.has("✗"), "every condition holds: {}", page.body);

    // A change of what the test checked voids it.
    app.services
        .update_provider(
            AdminActor::cli(),
            Realm::Staff,
            "okta",
            ProviderInput {
                client_id: Some("another-client".into()),
                ..ProviderInput::default()
            },
        )
        .await
        .unwrap();
    let result = turn_on().await;
    assert!(
        matches!(&result, Err(ServiceError::Conflict(m)) if m.contains("connection test")),
        "{result:?}"
    );
    app.services
        .update_provider(
            AdminActor::cli(),
            Realm::Staff,
            "okta",
            ProviderInput {
                client_id: Some(crate::common::idp::OIDC_CLIENT.into()),
                ..ProviderInput::default()
            },
        )
        .await
        .unwrap();
    app.services
        .test_provider(AdminActor::cli(), Realm::Staff, "okta")
        .await
        .unwrap();

    // Turned on from the admin page.
    ann.get("/admin/sso").await;
    let page = ann.post("/admin/sso/sso-only", &[("state", "on")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(app.services.login_options(Realm::Staff).unwrap().sso_only);

    // Passwords are refused now; Okta signs Ann in.
    let mut other = app.browser();
    other.get("/login").await;
    let page = other
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_ne!(page.status, StatusCode::SEE_OTHER, "password refused");
    let page = sign_in_via(
        &mut other,
        &fake,
        "/login/sso/okta",
        person("ann-sub", "ann@example.com"),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(other.session().is_some());

    // The last provider cannot go while SSO-only is on.
    let result = app
        .services
        .set_provider_enabled(AdminActor::cli(), Realm::Staff, "okta", false)
        .await;
    assert!(
        matches!(result, Err(ServiceError::Conflict(_))),
        "{result:?}"
    );
}

#[actix_web::test]
async fn only_a_link_at_a_provider_that_is_on_makes_a_safe_admin() {
    let (app, fake) = app_with_issuers().await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        ProviderInput::default(),
    )
    .await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "kc",
        "keycloak",
        ProviderInput::default(),
    )
    .await;
    for id in ["okta", "kc"] {
        app.services
            .test_provider(AdminActor::cli(), Realm::Staff, id)
            .await
            .unwrap();
    }
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut ann = app.browser();
    ann.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    ann.enrol(&app).await;
    ann.get("/account").await;
    fake.next_login(person("ann-sub", "ann@example.com"));
    let page = ann.post("/account/sso/link", &[("provider", "kc")]).await;
    let callback = visit_authorize(page.location()).await;
    assert_eq!(ann.get(&callback).await.location(), "/account");
    // Keycloak, where Ann is linked, is turned off: Okta alone cannot let her in.
    app.services
        .set_provider_enabled(AdminActor::cli(), Realm::Staff, "kc", false)
        .await
        .unwrap();
    let result = app
        .services
        .set_staff_sso_only(AdminActor::cli(), true)
        .await;
    assert!(
        matches!(&result, Err(ServiceError::Conflict(m)) if m.contains("linked")),
        "{result:?}"
    );
    app.services
        .set_provider_enabled(AdminActor::cli(), Realm::Staff, "kc", true)
        .await
        .unwrap();
    assert!(
        app.services
            .set_staff_sso_only(AdminActor::cli(), true)
            .await
            .is_ok()
    );
    // Under SSO-only, Keycloak cannot be turned off or removed: Okta is on and
    // tested, but no admin could get in through it.
    let result = app
        .services
        .set_provider_enabled(AdminActor::cli(), Realm::Staff, "kc", false)
        .await;
    assert!(
        matches!(result, Err(ServiceError::Conflict(_))),
        "{result:?}"
    );
    let result = app
        .services
        .remove_provider(AdminActor::cli(), Realm::Staff, "kc")
        .await;
    assert!(
        matches!(result, Err(ServiceError::Conflict(_))),
        "{result:?}"
    );
    // Okta, where nobody is linked, may go.
    app.services
        .set_provider_enabled(AdminActor::cli(), Realm::Staff, "okta", false)
        .await
        .unwrap();
}

#[actix_web::test]
async fn a_client_may_be_sso_only_through_its_openid_provider_alone() {
    let (app, fake) = app_with_issuers().await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let acme = app.services.client_realm("acme").unwrap();
    let sso_only = |on: bool| {
        app.services
            .set_client_sso_only(AdminActor::cli(), "acme".into(), on)
    };
    let result = sso_only(true).await;
    assert!(
        matches!(&result, Err(ServiceError::Conflict(m)) if m.contains("provider")),
        "no provider yet: {result:?}"
    );
    add_provider(&app, &fake, acme, "okta", "okta", ProviderInput::default()).await;
    assert!(sso_only(true).await.is_ok(), "Okta alone carries SSO-only");
    assert!(app.services.login_options(acme).unwrap().sso_only);
    // Microsoft may be switched off for the client while Okta is on.
    let result = app
        .services
        .update_client(
            AdminActor::cli(),
            "acme".into(),
            ClientUpdate {
                sso_enabled: Some(false),
                ..Default::default()
            },
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    // Okta is the last provider: it stays while SSO-only is on.
    let result = app
        .services
        .set_provider_enabled(AdminActor::cli(), acme, "okta", false)
        .await;
    assert!(
        matches!(result, Err(ServiceError::Conflict(_))),
        "{result:?}"
    );
}
