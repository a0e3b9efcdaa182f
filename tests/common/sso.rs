//! SSO test helpers: an app pointed at the fake Entra, staff SSO configured through the
//! services, and a browser step that follows Gatehouse's redirect to the fake's
//! authorize endpoint and comes back to `/sso/callback`.

use actix_web::http::StatusCode;

use super::fake_entra::{FakeEntra, FakeUser};
use super::{Browser, Page, TestApp, config_with};
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::admin::SsoUpdate;

pub const TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub const OTHER_TENANT: &str = "99999999-8888-4777-8666-555555555555";
pub const CLIENT_ID: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
pub const CLIENT_SECRET: &str = "s3cr3t~Value.from-Entra_1234567890";

/// A fake Entra with the staff tenant and app, and a Gatehouse pointed at it.
pub async fn app_with_entra() -> (TestApp, FakeEntra) {
    app_with_entra_and("").await
}

/// The same with `extra` TOML merged into the configuration.
pub async fn app_with_entra_and(extra: &str) -> (TestApp, FakeEntra) {
    let fake = FakeEntra::start().await;
    fake.add_tenant(TENANT);
    fake.add_tenant(OTHER_TENANT);
    fake.register_app(TENANT, CLIENT_ID, CLIENT_SECRET);
    let config = config_with(&format!(
        "{extra}\n[entra]\nauthority_host = '{}'\nallow_insecure_loopback = true\n",
        fake.base
    ));
    (TestApp::with_config(config).await, fake)
}

/// Saves, enables and tests the staff SSO settings; the test must pass.
pub async fn configure_staff_sso(app: &TestApp, jit: bool, domains: &str) {
    app.services
        .update_staff_sso(
            AdminActor::cli(),
            SsoUpdate {
                tenant: Some(TENANT.into()),
                client_id: Some(CLIENT_ID.into()),
                client_secret: Some(CLIENT_SECRET.into()),
                secret_expires: None,
                jit: Some(jit),
                allowed_domains: Some(domains.into()),
                allow_guests: None,
            },
        )
        .await
        .expect("save SSO settings");
    app.services
        .set_staff_sso_enabled(AdminActor::cli(), true)
        .await
        .expect("enable SSO");
    let test = app
        .services
        .test_staff_sso(AdminActor::cli())
        .await
        .expect("test runs");
    assert!(test.passed, "connection test: {:?}", test.items);
}

/// A user of the staff tenant.
pub fn user(oid: &str, email: &str) -> FakeUser {
    FakeUser {
        tid: TENANT.into(),
        oid: oid.into(),
        name: format!("User {oid}"),
        email: Some(email.into()),
        preferred_username: Some(email.into()),
        idp: None,
    }
}

/// Asks the fake authorize endpoint (as the browser would, without following the
/// redirect) and returns the callback path it sends the browser back to.
pub async fn visit_authorize(authorize_url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(authorize_url)
        .send()
        .await
        .expect("fake authorize reachable");
    assert_eq!(
        response.status().as_u16(),
        302,
        "fake authorize redirects back"
    );
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let path = location
        .strip_prefix("http://localhost:8080")
        .unwrap_or_else(|| panic!("callback goes to public_url: {location}"));
    assert!(path.starts_with("/sso/callback?"), "{path}");
    path.to_owned()
}

/// Starts a Microsoft sign-in from `start_path` (e.g. `/login/sso`), passes the fake
/// login, and returns the callback URL path without visiting it.
pub async fn start_and_authorize(browser: &mut Browser, start_path: &str) -> String {
    let page = browser.get(start_path).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "start: {}", page.body);
    visit_authorize(page.location()).await
}

/// A full Microsoft sign-in as `who`; returns the callback's response.
pub async fn sso_sign_in(browser: &mut Browser, fake: &FakeEntra, who: FakeUser) -> Page {
    fake.next_login(who);
    let callback = start_and_authorize(browser, "/login/sso").await;
    browser.get(&callback).await
}

/// Moves Gatehouse's clock and the fake's together.
pub fn advance(app: &TestApp, fake: &FakeEntra, secs: i64) {
    app.clock.advance(secs);
    let offset =
        app.now().0 - gatehouse::domain::time::Clock::now(&gatehouse::domain::time::SystemClock).0;
    fake.set_clock_offset(offset);
}
