//! Customer-portal test setup: a fake Entra with two client tenants, the portal app
//! consented in both, client `a` (tenant A, password + Microsoft) and client `b`
//! (tenant B, password + TOTP only).

use super::fake_entra::{FakeEntra, FakeUser};
use super::sso::visit_authorize;
use super::{Browser, Page, TestApp, config_with};
use gatehouse::domain::user::{Realm, Role};
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;

pub const TA: &str = "aaaaaaaa-0000-4000-8000-00000000000a";
pub const TB: &str = "bbbbbbbb-0000-4000-8000-00000000000b";
pub const PORTAL_ID: &str = "cccccccc-1111-4222-8333-444444444444";
pub const PORTAL_SECRET: &str = "portal~Secret.Value_9876543210";

pub async fn portals() -> (TestApp, FakeEntra) {
    let fake = FakeEntra::start().await;
    for tenant in [TA, TB] {
        fake.add_tenant(tenant);
        fake.register_app(tenant, PORTAL_ID, PORTAL_SECRET);
    }
    let app = TestApp::with_config(config_with(&format!(
        "[entra]\nauthority_host = '{}'\nallow_insecure_loopback = true\n",
        fake.base
    )))
    .await;
    let cli = AdminActor::cli;
    app.services
        .update_portal_app(
            cli(),
            Some(PORTAL_ID.into()),
            Some(PORTAL_SECRET.into()),
            None,
        )
        .await
        .unwrap();
    app.services
        .create_client(cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    app.services
        .create_client(cli(), "beta".into(), "Beta Ltd".into())
        .await
        .unwrap();
    app.services
        .update_client(
            cli(),
            "acme".into(),
            ClientUpdate {
                tenant_id: Some(TA.into()),
                sso_enabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.services
        .update_client(
            cli(),
            "beta".into(),
            ClientUpdate {
                tenant_id: Some(TB.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (app, fake)
}

pub fn realm(app: &TestApp, slug: &str) -> Realm {
    app.services.client_realm(slug).unwrap()
}

/// Invites `email` to `slug`'s portal; returns the invitation path.
pub async fn invite(app: &TestApp, slug: &str, email: &str) -> String {
    let invitation = app
        .services
        .invite(
            AdminActor::cli(),
            realm(app, slug),
            email.into(),
            "Portal User".into(),
            Role::Member,
        )
        .await
        .unwrap();
    invitation
        .link
        .trim_start_matches("http://localhost:8080")
        .to_owned()
}

/// A portal user who accepted an invitation and enrolled TOTP (when required);
/// returns their browser (signed in) and TOTP secret.
pub async fn onboarded(
    app: &TestApp,
    slug: &str,
    email: &str,
    password: &str,
) -> (Browser, Option<String>) {
    let path = invite(app, slug, email).await;
    let mut browser = app.browser();
    browser.get(&path).await;
    let page = browser
        .post(
            &path,
            &[("password", password), ("password_confirm", password)],
        )
        .await;
    if page.location().ends_with("/mfa/setup") {
        let (secret, _) = browser.enrol_at(&format!("/p/{slug}"), app).await;
        (browser, Some(secret))
    } else {
        assert_eq!(
            page.location(),
            format!("/p/{slug}/account"),
            "{}",
            page.body
        );
        (browser, None)
    }
}

/// A member of tenant `tid`.
pub fn member(tid: &str, oid: &str, email: &str) -> FakeUser {
    FakeUser {
        tid: tid.into(),
        oid: oid.into(),
        name: format!("Member {oid}"),
        email: Some(email.into()),
        preferred_username: Some(email.into()),
        idp: None,
    }
}

/// A Microsoft sign-in at `slug`'s portal as `who`; returns the callback's answer.
pub async fn portal_sso(
    browser: &mut Browser,
    fake: &FakeEntra,
    slug: &str,
    who: FakeUser,
) -> Page {
    fake.next_login(who);
    let page = browser.get(&format!("/p/{slug}/login/sso")).await;
    assert_eq!(
        page.status,
        actix_web::http::StatusCode::SEE_OTHER,
        "start: {}",
        page.body
    );
    let callback = visit_authorize(page.location()).await;
    browser.get(&callback).await
}
