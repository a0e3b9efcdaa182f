//! Staff admins for tests: a fresh app with an enrolled admin, or an admin signed in
//! (password + TOTP) on an app the test already has.

use super::{Browser, TestApp};

/// Signs in a fresh admin with TOTP; returns (app, browser, secret, recovery codes).
pub async fn enrolled_admin() -> (TestApp, Browser, String, Vec<String>) {
    let app = TestApp::new().await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut browser = app.browser();
    browser
        .sign_in(&app, "ann@example.com", "correct horse battery", None)
        .await;
    let (secret, codes) = browser.enrol(&app).await;
    browser.post("/logout", &[]).await;
    app.next_step();
    (app, browser, secret, codes)
}

/// A signed-in staff admin with TOTP enrolled.
pub async fn admin(app: &TestApp) -> Browser {
    app.create_admin("ops@example.com", "a long passphrase")
        .await;
    let mut b = app.browser();
    b.sign_in(app, "ops@example.com", "a long passphrase", None)
        .await;
    b.enrol(app).await;
    b
}
