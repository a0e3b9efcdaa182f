//! The step-up page's two ways (issue 13, item 3): password + code fails uniformly and
//! is throttled like sign-in; a Microsoft sign-in counts only when Microsoft
//! authenticated the admin afresh and the account is theirs.

use actix_web::http::StatusCode;

use crate::common::sso::{app_with_entra, configure_staff_sso, user, visit_authorize};
use crate::common::staff::enrolled_admin;
use gatehouse::domain::session::STEP_UP_WINDOW_SECS;
use gatehouse::domain::user::Realm;

const PASSWORD: &str = "correct horse battery";

#[actix_web::test]
async fn a_wrong_step_up_fails_uniformly_and_is_throttled_like_sign_in() {
    let (app, mut ann, secret, codes) = enrolled_admin().await;
    ann.sign_in(&app, "ann@example.com", PASSWORD, Some(&secret))
        .await;
    app.clock.advance(STEP_UP_WINDOW_SECS + 1);
    ann.get("/admin/confirm?next=%2Fadmin%2Fsso").await;
    app.next_step();
    let good_code = app.code(&secret, 0);
    let attempts = [
        ("wrong password", good_code.as_str()),
        (PASSWORD, "000000"),
        (PASSWORD, ""),
        (PASSWORD, "not-a-code"),
    ];
    let mut bodies = Vec::new();
    for (password, code) in attempts {
        let page = ann
            .post(
                "/admin/confirm",
                &[
                    ("password", password),
                    ("code", code),
                    ("next", "/admin/sso"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{password}/{code}");
        assert!(page.has("The password or code is not right."));
        bodies.push(page.body_without_csrf());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "one uniform failure"
    );
    let failures = app
        .services
        .audit_log(100, None)
        .unwrap()
        .iter()
        .filter(|(_, e)| e.kind.as_str() == "login failed")
        .count();
    assert!(failures >= 4, "failures audited ({failures})");

    // The sign-in throttle counts them: soon even the right answer waits, and so does
    // a sign-in to the same account.
    let mut throttled = false;
    for _ in 0..4 {
        let page = ann
            .post(
                "/admin/confirm",
                &[("password", "wrong again"), ("code", "123456")],
            )
            .await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "step-up failures are throttled");
    let page = ann
        .post(
            "/admin/confirm",
            &[("password", PASSWORD), ("code", codes[0].as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let mut other = app.browser();
    other.get("/login").await;
    let page = other
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "same throttle");

    // After the wait, a recovery code works as the second factor.
    app.clock.advance(20 * 60);
    let page = ann
        .post(
            "/admin/confirm",
            &[
                ("password", PASSWORD),
                ("code", codes[0].as_str()),
                ("next", "/admin/sso"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/admin/sso");
}

#[actix_web::test]
async fn a_fresh_microsoft_sign_in_is_a_step_up_and_an_old_one_is_not() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut ann = app.browser();
    ann.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    ann.enrol(&app).await;
    // Ann links her Microsoft account, then signs in with it.
    fake.next_login(user("oid-ann", "ann@example.com"));
    ann.get("/account").await;
    let page = ann.post("/account/sso/link", &[]).await;
    let callback = visit_authorize(page.location()).await;
    ann.get(&callback).await;
    ann.post("/logout", &[]).await;
    let page = ann.get("/login/sso").await;
    let callback = visit_authorize(page.location()).await;
    let page = ann.get(&callback).await;
    assert_eq!(page.location(), "/account", "signed in with Microsoft");

    app.clock.advance(STEP_UP_WINDOW_SECS + 1);
    crate::common::sso::advance(&app, &fake, 0);
    let confirm = ann.get("/admin/confirm?next=%2Fadmin%2Fsso").await;
    assert!(confirm.has("Confirm with Microsoft"), "{}", confirm.body);

    // A provider that answers from its own old session: refused.
    fake.ignore_reauth(true);
    let page = ann
        .post("/admin/confirm/microsoft", &[("next", "/admin/sso")])
        .await;
    let callback = visit_authorize(page.location()).await;
    let authorize = fake.last_authorize_query().unwrap();
    assert!(authorize.contains(&("prompt".into(), "login".into())));
    assert!(authorize.contains(&("max_age".into(), "0".into())));
    let page = ann.get(&callback).await;
    assert_ne!(
        page.status,
        StatusCode::SEE_OTHER,
        "stale auth_time refused"
    );
    let page = ann.post("/admin/sso/sso-only", &[("state", "on")]).await;
    assert!(
        page.location().starts_with("/admin/confirm"),
        "still not stepped up"
    );

    // Another Microsoft account than the linked one: refused.
    fake.ignore_reauth(false);
    fake.next_login(user("oid-mallory", "mallory@example.com"));
    ann.get("/admin/confirm").await;
    let page = ann
        .post("/admin/confirm/microsoft", &[("next", "/admin/sso")])
        .await;
    let callback = visit_authorize(page.location()).await;
    let page = ann.get(&callback).await;
    assert_ne!(
        page.status,
        StatusCode::SEE_OTHER,
        "unlinked account refused"
    );

    // Ann herself, freshly authenticated: back to the page, and changes work.
    fake.next_login(user("oid-ann", "ann@example.com"));
    ann.get("/admin/confirm").await;
    let page = ann
        .post("/admin/confirm/microsoft", &[("next", "/admin/sso")])
        .await;
    let callback = visit_authorize(page.location()).await;
    let page = ann.get(&callback).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/admin/sso");
    ann.get("/admin/sso").await;
    let page = ann.post("/admin/sso/disable", &[]).await;
    assert!(
        !page.location().starts_with("/admin/confirm"),
        "{}",
        page.body
    );
    assert!(!app.services.sso_enabled(Realm::Staff).unwrap());
}
