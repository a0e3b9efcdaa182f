//! Managing clients: creation rules, the admin pages, disabling and removing.

use actix_web::http::StatusCode;

use crate::common::portal::{TA, onboarded, portals, realm};
use crate::common::staff::admin;
use gatehouse::domain::user::Realm;
use gatehouse::service::ServiceError;
use gatehouse::service::admin::AdminActor;

#[actix_web::test]
async fn slugs_are_validated_and_unique() {
    let (app, _fake) = portals().await;
    for bad in [
        "A",
        "x",
        "has space",
        "Upper",
        "under_score",
        &"a".repeat(41),
    ] {
        let result = app
            .services
            .create_client(AdminActor::cli(), bad.into(), "X".into())
            .await;
        assert!(
            matches!(result, Err(ServiceError::Invalid(_))),
            "{bad}: {result:?}"
        );
    }
    let result = app
        .services
        .create_client(AdminActor::cli(), "acme".into(), "Another Acme".into())
        .await;
    assert!(
        matches!(result, Err(ServiceError::Conflict(_))),
        "{result:?}"
    );
    let result = app
        .services
        .create_client(AdminActor::cli(), "okay".into(), "   ".into())
        .await;
    assert!(matches!(result, Err(ServiceError::Invalid(_))));
    assert_eq!(
        app.services.list_clients().unwrap().len(),
        2,
        "nothing created"
    );
}

#[actix_web::test]
async fn the_admin_pages_create_and_configure_a_client() {
    let (app, _fake) = portals().await;
    let mut ops = admin(&app).await;
    let page = ops.get("/admin/clients").await;
    assert!(page.has("Acme") && page.has("Beta Ltd"));
    let page = ops
        .post(
            "/admin/clients",
            &[("name", "Gamma Co"), ("slug", "Gamma Co")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("slug"));
    let page = ops
        .post("/admin/clients", &[("name", "Gamma Co"), ("slug", "acme")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("already exists"));
    let page = ops
        .post("/admin/clients", &[("name", "Gamma Co"), ("slug", "gamma")])
        .await;
    assert_eq!(page.location(), "/admin/clients/gamma");
    let page = ops.get("/admin/clients/gamma").await;
    assert!(
        page.has("http://localhost:8080/p/gamma/login"),
        "portal URL to copy"
    );

    let settings = [
        ("name", "Gamma Company"),
        ("accent", "#12ab34"),
        ("tenant_id", TA),
        ("password_login", "on"),
        ("sso_enabled", "on"),
        ("jit", "on"),
        ("allowed_domains", "gamma.example"),
        ("idle_timeout", "15m"),
        ("absolute_timeout", "8h"),
    ];
    let page = ops.submit("/admin/clients/gamma", &settings).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("Settings saved"));
    let gamma = app.services.client_by_slug("gamma").unwrap();
    assert_eq!(gamma.name, "Gamma Company");
    assert!(
        gamma.sso_enabled && gamma.jit && gamma.password_login && !gamma.mfa_required,
        "unchecked box = off"
    );
    assert_eq!(
        (gamma.idle_timeout_secs, gamma.absolute_timeout_secs),
        (Some(900), Some(8 * 3600))
    );

    // Bad values are refused and change nothing.
    for (field, value, message) in [
        ("accent", "red", "Accent"),
        ("tenant_id", "common", "Tenant"),
        ("idle_timeout", "soon", "idle"),
        ("allowed_domains", "not a domain!", "domain"),
    ] {
        let mut fields = settings.to_vec();
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let page = ops.post("/admin/clients/gamma", &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(page.has(message), "{field}: {message}");
    }
    let mut no_method = settings.to_vec();
    no_method.retain(|(k, _)| *k != "password_login" && *k != "sso_enabled");
    assert_eq!(
        ops.post("/admin/clients/gamma", &no_method).await.status,
        StatusCode::BAD_REQUEST,
        "at least one sign-in method"
    );
    assert_eq!(
        app.services.client_by_slug("gamma").unwrap(),
        gamma,
        "unchanged"
    );

    // The portal shows the branding.
    let mut visitor = app.browser();
    let login = visitor.get("/p/gamma/login").await;
    assert!(login.has("Gamma Company") && login.has("/p/gamma/brand.css"));
    let css = visitor
        .get(
            login
                .body
                .split("href=\"/p/gamma/brand.css")
                .nth(1)
                .map(|q| {
                    format!(
                        "/p/gamma/brand.css{}",
                        q.split('"').next().unwrap().replace("&amp;", "&")
                    )
                })
                .unwrap()
                .as_str(),
        )
        .await;
    assert!(css.has("--accent: #12ab34"), "{}", css.body);

    // Consent link and test buttons.
    let page = ops
        .submit("/admin/clients/gamma/do/consent-link", &[])
        .await;
    assert!(page.has("/v2.0/adminconsent?client_id="), "{}", page.body);
    let page = ops.submit("/admin/clients/gamma/do/test", &[]).await;
    assert!(page.has("Connection test passed"), "{}", page.body);
    assert_eq!(
        ops.post("/admin/clients/gamma/do/explode", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ops.get("/admin/clients/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn portal_users_are_managed_from_the_admin_console() {
    let (app, _fake) = portals().await;
    let mut ops = admin(&app).await;
    ops.get("/admin/clients/acme/users").await;
    let page = ops
        .submit(
            "/admin/clients/acme/users",
            &[
                ("email", "eve@acme.example"),
                ("name", "Eve"),
                ("role", "member"),
            ],
        )
        .await;
    let link = page
        .input_value("invite-link")
        .unwrap_or_else(|| panic!("invitation link shown: {} {}", page.status, page.body));
    assert!(
        link.starts_with("http://localhost:8080/p/acme/invite/"),
        "{link}"
    );
    let page = ops
        .post(
            "/admin/clients/acme/users",
            &[("email", "x@acme.example"), ("role", "admin")],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::BAD_REQUEST,
        "portal users cannot be admins"
    );

    let (mut alice, _) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    let alice_id = app
        .services
        .user_by_email(realm(&app, "acme"), "alice@acme.example")
        .unwrap()
        .id;
    let page = ops
        .get(&format!("/admin/clients/acme/users/{alice_id}"))
        .await;
    assert!(page.has("alice@acme.example"));
    assert_eq!(
        ops.get(&format!("/admin/clients/beta/users/{alice_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "not B's user"
    );
    assert_eq!(
        ops.get(&format!("/admin/users/{alice_id}")).await.status,
        StatusCode::NOT_FOUND,
        "not staff"
    );
    ops.post(
        &format!("/admin/clients/acme/users/{alice_id}/revoke-sessions"),
        &[],
    )
    .await;
    assert_eq!(
        alice.get("/p/acme/account").await.status,
        StatusCode::SEE_OTHER
    );
    let page = ops
        .post(
            &format!("/admin/clients/acme/users/{alice_id}/make-admin"),
            &[],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::NOT_FOUND,
        "no roles for portal users"
    );
    ops.post(
        &format!("/admin/clients/acme/users/{alice_id}/disable"),
        &[],
    )
    .await;
    let page = alice
        .sign_in_at(
            "/p/acme",
            &app,
            "alice@acme.example",
            "alices long password",
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_disabled_client_refuses_everyone_at_once() {
    let (app, _fake) = portals().await;
    let (mut alice, secret) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    app.services
        .set_client_enabled(AdminActor::cli(), "acme".into(), false)
        .await
        .unwrap();
    let page = alice.get("/p/acme/account").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.has("Portal disabled"));
    for path in ["/p/acme/login", "/p/acme/login/sso"] {
        assert_eq!(
            alice.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        app.services
            .store()
            .read(|r| {
                use gatehouse::store::prelude::*;
                r.sessions_of_user(
                    app.services
                        .user_by_email(realm(&app, "acme"), "alice@acme.example")
                        .unwrap()
                        .id,
                )
            })
            .unwrap()
            .len(),
        0,
        "sessions revoked"
    );
    app.services
        .set_client_enabled(AdminActor::cli(), "acme".into(), true)
        .await
        .unwrap();
    app.next_step();
    let page = alice
        .sign_in_at(
            "/p/acme",
            &app,
            "alice@acme.example",
            "alices long password",
            secret.as_deref(),
        )
        .await;
    assert_eq!(
        page.location(),
        "/p/acme/account",
        "works again once enabled"
    );
}

#[actix_web::test]
async fn removing_a_client_leaves_nothing_of_it_behind() {
    let (app, fake) = portals().await;
    let before: std::collections::BTreeMap<String, u64> = app
        .services
        .store()
        .table_sizes()
        .unwrap()
        .into_iter()
        .collect();
    app.services
        .create_client(AdminActor::cli(), "doomed".into(), "Doomed Inc".into())
        .await
        .unwrap();
    app.services
        .update_client(
            AdminActor::cli(),
            "doomed".into(),
            gatehouse::service::clients::ClientUpdate {
                tenant_id: Some(TA.into()),
                sso_enabled: Some(true),
                jit: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let doomed = realm(&app, "doomed");
    onboarded(&app, "doomed", "user@doomed.example", "a long password!").await;
    crate::common::portal::invite(&app, "doomed", "pending@doomed.example").await;
    let mut sso = app.browser();
    crate::common::portal::portal_sso(
        &mut sso,
        &fake,
        "doomed",
        crate::common::portal::member(TA, "oid-d", "jit@doomed.example"),
    )
    .await;
    app.services
        .consent_link(AdminActor::cli(), "doomed".into())
        .await
        .unwrap();
    let mut failed = app.browser();
    failed
        .sign_in_at(
            "/p/doomed",
            &app,
            "user@doomed.example",
            "wrong password!",
            None,
        )
        .await;
    assert_eq!(app.services.list_users(doomed).unwrap().len(), 3);

    app.services
        .remove_client(AdminActor::cli(), "doomed".into())
        .await
        .unwrap();
    let after: std::collections::BTreeMap<String, u64> = app
        .services
        .store()
        .table_sizes()
        .unwrap()
        .into_iter()
        .collect();
    for (table, count) in &after {
        if table.starts_with("audit") {
            continue;
        }
        assert_eq!(
            count, &before[table],
            "{table}: rows of the removed client remain"
        );
    }
    let leftover = app
        .services
        .audit_log(10_000, None)
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.realm == Some(doomed))
        .count();
    assert_eq!(leftover, 0, "no audit events of the client's realm remain");
    assert!(matches!(
        app.services.client_by_slug("doomed"),
        Err(ServiceError::NotFound(_))
    ));
    assert_eq!(
        app.browser().get("/p/doomed/login").await.status,
        StatusCode::NOT_FOUND
    );
    let _ = Realm::Staff;
}

#[actix_web::test]
async fn the_portal_app_page_saves_validates_and_never_shows_the_secret() {
    let (app, _fake) = portals().await;
    let mut ops = admin(&app).await;
    let page = ops.get("/admin/portal").await;
    assert!(
        page.has("Multitenant")
            && page.has("http://localhost:8080/sso/callback")
            && page.has("http://localhost:8080/sso/consent")
    );
    assert!(!page.has(crate::common::portal::PORTAL_SECRET));
    let before = app.services.portal_app().unwrap();
    for (fields, message) in [
        (vec![("client_id", "not-a-guid")], "GUID"),
        (vec![("secret_expires", "next year")], "YYYY-MM-DD"),
    ] {
        let page = ops.post("/admin/portal", &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(page.has(message), "{message}");
    }
    assert_eq!(app.services.portal_app().unwrap(), before, "unchanged");
    let page = ops
        .submit(
            "/admin/portal",
            &[
                ("client_secret", "brand-new-secret-value"),
                ("secret_expires", "2027-02-28"),
            ],
        )
        .await;
    assert!(
        page.has("Portal app saved")
            && page.has("expires on 2027-02-28")
            && !page.has("brand-new-secret-value")
    );
}
