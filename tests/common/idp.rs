//! Generic OpenID providers in tests: the fake (tests/common/fake_entra) serves
//! generic issuers at `{base}/oidc/{name}`; these helpers add one to a realm of an
//! app pointed at the fake, and sign in through `/login/sso/{provider}`.

use actix_web::http::StatusCode;

use super::fake_entra::{FakeEntra, FakeUser, IssuerOptions};
use super::sso::{app_with_entra, visit_authorize};
use super::{Browser, Page, TestApp};
use gatehouse::domain::sso::provider::ProviderKind;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::providers::ProviderInput;

pub const OIDC_CLIENT: &str = "gatehouse-rp";
pub const OIDC_SECRET: &str = "oidc-secret-value-0123456789";

/// An app pointed at the fake, with generic issuers `okta` and `keycloak` (the same
/// client id and secret at both).
pub async fn app_with_issuers() -> (TestApp, FakeEntra) {
    let (app, fake) = app_with_entra().await;
    for name in ["okta", "keycloak"] {
        fake.add_issuer(name, IssuerOptions::default());
        fake.register_app(name, OIDC_CLIENT, OIDC_SECRET);
    }
    (app, fake)
}

/// Adds and enables provider `id` of `realm` for generic issuer `issuer_name`.
pub async fn add_provider(
    app: &TestApp,
    fake: &FakeEntra,
    realm: Realm,
    id: &str,
    issuer_name: &str,
    input: ProviderInput,
) {
    let input = ProviderInput {
        name: input.name.or(Some(format!("{issuer_name} ({id})"))),
        issuer: Some(fake.generic_issuer(issuer_name)),
        client_id: Some(OIDC_CLIENT.into()),
        client_secret: Some(OIDC_SECRET.into()),
        ..input
    };
    app.services
        .add_provider(AdminActor::cli(), realm, id, ProviderKind::Oidc, input)
        .await
        .expect("add provider");
    app.services
        .set_provider_enabled(AdminActor::cli(), realm, id, true)
        .await
        .expect("enable provider");
}

/// A person at a generic issuer: `sub` = `sub`.
pub fn person(sub: &str, email: &str) -> FakeUser {
    FakeUser {
        tid: String::new(),
        oid: sub.into(),
        name: format!("Person {sub}"),
        email: Some(email.into()),
        preferred_username: Some(email.into()),
        idp: None,
    }
}

/// Signs in as `who` from `start` (e.g. `/login/sso/okta`); the callback's page.
pub async fn sign_in_via(
    browser: &mut Browser,
    fake: &FakeEntra,
    start: &str,
    who: FakeUser,
) -> Page {
    fake.next_login(who);
    let page = browser.get(start).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "start: {}", page.body);
    let callback = visit_authorize(page.location()).await;
    browser.get(&callback).await
}
