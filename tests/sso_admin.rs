//! Staff SSO administration: settings, validation, the admin page and the connection
//! test (SSO-only is in `sso_only`).

use actix_web::http::StatusCode;

use crate::common::sso::{CLIENT_ID, CLIENT_SECRET, TENANT, app_with_entra, configure_staff_sso};
use gatehouse::service::ServiceError;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::admin::SsoUpdate;

fn update(tenant: &str, client: &str, secret: &str) -> SsoUpdate {
    SsoUpdate {
        tenant: Some(tenant.into()),
        client_id: Some(client.into()),
        client_secret: Some(secret.into()),
        ..Default::default()
    }
}

#[actix_web::test]
async fn the_connection_test_explains_wrong_tenant_secret_and_expiry() {
    let (app, fake) = app_with_entra().await;
    let cli = AdminActor::cli;
    app.services
        .update_staff_sso(
            cli(),
            update(
                "00000000-1111-4222-8333-444444444444",
                CLIENT_ID,
                CLIENT_SECRET,
            ),
        )
        .await
        .unwrap();
    let test = app.services.test_staff_sso(cli()).await.unwrap();
    assert!(!test.passed);
    assert!(
        test.items[0].detail.contains("does not know this tenant")
            && test.items[0].detail.contains("AADSTS90002"),
        "{:?}",
        test.items
    );

    app.services
        .update_staff_sso(cli(), update(TENANT, CLIENT_ID, "wrong-secret"))
        .await
        .unwrap();
    let test = app.services.test_staff_sso(cli()).await.unwrap();
    assert!(!test.passed);
    let secret_item = test
        .items
        .iter()
        .find(|i| i.name.contains("secret"))
        .unwrap();
    assert!(
        secret_item.detail.contains("client secret is wrong")
            && secret_item.detail.contains("AADSTS7000215"),
        "{secret_item:?}"
    );
    assert!(
        test.items[0].passed && test.items[1].passed,
        "discovery and keys still fine"
    );

    app.services
        .update_staff_sso(
            cli(),
            update(
                TENANT,
                "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
                CLIENT_SECRET,
            ),
        )
        .await
        .unwrap();
    let test = app.services.test_staff_sso(cli()).await.unwrap();
    assert!(
        test.items.iter().any(|i| i.detail.contains("AADSTS700016")),
        "{:?}",
        test.items
    );

    fake.expire_secret(CLIENT_ID, CLIENT_SECRET);
    app.services
        .update_staff_sso(cli(), update(TENANT, CLIENT_ID, CLIENT_SECRET))
        .await
        .unwrap();
    let test = app.services.test_staff_sso(cli()).await.unwrap();
    assert!(
        test.items
            .iter()
            .any(|i| i.detail.contains("expired") && i.detail.contains("AADSTS7000222")),
        "{:?}",
        test.items
    );
    assert!(!app.services.staff_sso().unwrap().tested_ok());
}

#[actix_web::test]
async fn a_passed_test_counts_until_the_settings_change() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    assert!(app.services.staff_sso().unwrap().tested_ok());
    // Changing JIT does not invalidate the test; a new secret does.
    app.services
        .update_staff_sso(
            AdminActor::cli(),
            SsoUpdate {
                jit: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(app.services.staff_sso().unwrap().tested_ok());
    app.services
        .update_staff_sso(
            AdminActor::cli(),
            SsoUpdate {
                client_secret: Some(CLIENT_SECRET.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!app.services.staff_sso().unwrap().tested_ok());
    let _ = fake;
}

#[actix_web::test]
async fn a_tenant_given_by_domain_resolves_to_its_id() {
    let (app, fake) = app_with_entra().await;
    fake.add_domain("contoso.com", TENANT);
    app.services
        .update_staff_sso(
            AdminActor::cli(),
            update("Contoso.com", CLIENT_ID, CLIENT_SECRET),
        )
        .await
        .unwrap();
    app.services
        .set_staff_sso_enabled(AdminActor::cli(), true)
        .await
        .unwrap();
    let test = app
        .services
        .test_staff_sso(AdminActor::cli())
        .await
        .unwrap();
    assert!(test.passed, "{:?}", test.items);
    assert_eq!(
        app.services.staff_sso().unwrap().tenant_id.as_deref(),
        Some(TENANT)
    );
}

#[actix_web::test]
async fn settings_are_validated() {
    let (app, _fake) = app_with_entra().await;
    for bad in [
        update("common", CLIENT_ID, CLIENT_SECRET),
        update("organizations", CLIENT_ID, CLIENT_SECRET),
        update(
            "9188040d-6c67-4c5b-b112-36a304b66dad",
            CLIENT_ID,
            CLIENT_SECRET,
        ),
        update("not a tenant", CLIENT_ID, CLIENT_SECRET),
        update(TENANT, "not-a-guid", CLIENT_SECRET),
        SsoUpdate {
            secret_expires: Some("31/12/2026".into()),
            ..Default::default()
        },
        SsoUpdate {
            allowed_domains: Some("contoso.com, not a domain".into()),
            ..Default::default()
        },
    ] {
        let result = app
            .services
            .update_staff_sso(AdminActor::cli(), bad.clone())
            .await;
        assert!(
            matches!(result, Err(ServiceError::Invalid(_))),
            "{bad:?}: {result:?}"
        );
    }
    assert_eq!(
        app.services.staff_sso().unwrap().revision,
        0,
        "nothing saved"
    );
    let result = app
        .services
        .set_staff_sso_enabled(AdminActor::cli(), true)
        .await;
    assert!(
        matches!(result, Err(ServiceError::Invalid(_))),
        "cannot enable before configuring"
    );
}

#[actix_web::test]
async fn admin_page_saves_settings_and_never_shows_the_secret() {
    let (app, _fake) = app_with_entra().await;
    app.create_admin("ann@contoso.com", "correct horse battery")
        .await;
    let mut admin = app.browser();
    admin
        .sign_in(&app, "ann@contoso.com", "correct horse battery", None)
        .await;
    admin.enrol(&app).await;
    let page = admin.get("/admin/sso").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("http://localhost:8080/sso/callback") && page.has("single tenant"),
        "redirect URI and guidance"
    );
    let page = admin
        .submit(
            "/admin/sso",
            &[
                ("tenant_id", TENANT),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("secret_expires", "2027-06-30"),
                ("jit", "on"),
                ("allowed_domains", "contoso.com"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("Settings saved") && page.has("set, expires on 2027-06-30"));
    assert!(!page.has(CLIENT_SECRET), "secret never shown");
    let page = admin.submit("/admin/sso/test", &[]).await;
    assert!(page.has("Connection test passed"), "{}", page.body);
    let page = admin.submit("/admin/sso/enable", &[]).await;
    assert!(page.has("Microsoft sign-in is on"));
    let page = admin.post("/admin/sso", &[("tenant_id", "common")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("multi-tenant"));
    for path in ["/admin/sso", "/admin", "/login"] {
        assert!(!admin.get(path).await.has(CLIENT_SECRET), "{path}");
    }
    let sso = app.services.staff_sso().unwrap();
    assert!(sso.enabled && sso.jit && sso.allowed_domains == ["contoso.com"]);
}
