//! Steps the passkey tests share: registering a software key on the account page,
//! reaching the second step, answering a ceremony, and reading the audit log.

use actix_web::http::StatusCode;

use super::passkey::{SoftKey, passkey_form};
use super::{Browser, TestApp};
use gatehouse::domain::audit::{AuditEvent, AuditKind};

pub const PASSWORD: &str = "correct horse battery";

pub fn audit(app: &TestApp) -> Vec<AuditEvent> {
    app.services
        .audit_log(500, None)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect()
}

pub fn audited(app: &TestApp, kind: AuditKind, detail: &str) -> bool {
    audit(app)
        .iter()
        .any(|e| e.kind == kind && e.detail.contains(detail))
}

/// Registers a passkey named `name` from `{prefix}/account/passkeys`.
pub async fn register(browser: &mut Browser, prefix: &str, key: &mut SoftKey, name: &str) {
    let page = browser.get(&format!("{prefix}/account/passkeys")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let action = format!("{prefix}/account/passkeys");
    let (ceremony, options) = passkey_form(&page, &action).expect("an add-passkey form");
    assert!(options.contains("\"attestation\":\"none\""), "{options}");
    let credential = key.create(&options);
    let page = browser
        .post(
            &action,
            &[
                ("ceremony", &ceremony),
                ("name", name),
                ("credential", &credential),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), format!("{action}?added=1"));
    let page = browser.get(&format!("{action}?added=1")).await;
    assert!(page.has(name), "the new passkey is listed");
}

/// Ann, a staff admin with TOTP and one passkey, signed out. Returns her TOTP
/// secret and her passkey.
pub async fn ann_with_passkey(app: &TestApp) -> (String, SoftKey) {
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut browser = app.browser();
    browser
        .sign_in(app, "ann@example.com", PASSWORD, None)
        .await;
    let (secret, _) = browser.enrol(app).await;
    let mut key = SoftKey::new();
    register(&mut browser, "", &mut key, "Ann's laptop").await;
    browser.post("/logout", &[]).await;
    (secret, key)
}

/// The password step for `email`, leaving the browser at the second step's page.
pub async fn password_step(app: &TestApp, prefix: &str, email: &str) -> (Browser, String, String) {
    let mut browser = app.browser();
    browser.get(&format!("{prefix}/login")).await;
    let page = browser
        .post(
            &format!("{prefix}/login"),
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        page.location(),
        format!("{prefix}/login/mfa"),
        "{}",
        page.body
    );
    let page = browser.get(&format!("{prefix}/login/mfa")).await;
    assert!(
        page.has("Use a passkey"),
        "the second step offers the passkey"
    );
    assert!(page.has("name=\"code\""), "and still the code");
    let (ceremony, options) =
        passkey_form(&page, &format!("{prefix}/login/mfa/passkey")).expect("passkey form");
    (browser, ceremony, options)
}

/// A fresh browser on `{prefix}/login` with passkey sign-in offered.
pub async fn passwordless_page(app: &TestApp, prefix: &str) -> (Browser, String, String) {
    let mut browser = app.browser();
    let page = browser.get(&format!("{prefix}/login")).await;
    assert!(page.has("Sign in with a passkey"), "{}", page.body);
    assert!(page.has("autocomplete=\"username webauthn\""));
    let (ceremony, options) =
        passkey_form(&page, &format!("{prefix}/login/passkey")).expect("passkey sign-in form");
    (browser, ceremony, options)
}

pub async fn answer(browser: &mut Browser, action: &str, ceremony: &str, credential: &str) -> u16 {
    let page = browser
        .post(
            action,
            &[("ceremony", ceremony), ("credential", credential)],
        )
        .await;
    if page.status == StatusCode::SEE_OTHER {
        assert!(page.location().ends_with("/account"), "{}", page.location());
    } else {
        assert!(page.has("That passkey was not accepted."), "{}", page.body);
    }
    page.status.as_u16()
}

/// Posts `credential` to `action` and asserts the refusal every passkey failure
/// gets: 401, and no session in the realm at `prefix` afterwards.
pub async fn assert_refused(
    browser: &mut Browser,
    action: &str,
    ceremony: &str,
    credential: &str,
    prefix: &str,
) {
    assert_eq!(answer(browser, action, ceremony, credential).await, 401);
    assert!(!signed_in(browser, prefix).await);
}

pub async fn signed_in(browser: &mut Browser, prefix: &str) -> bool {
    browser.get(&format!("{prefix}/account")).await.status == StatusCode::OK
}
