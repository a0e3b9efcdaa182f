//! Failures look the same from outside, and repeated failures are throttled per
//! account and per address — never permanently.

use actix_web::http::StatusCode;

use crate::common::staff::enrolled_admin;
use crate::common::{Page, TestApp};
use gatehouse::service::admin::AdminActor;

async fn failed_login(app: &TestApp, email: &str, password: &str) -> Page {
    let mut browser = app.browser();
    browser.get("/login").await;
    browser
        .post("/login", &[("email", email), ("password", password)])
        .await
}

#[actix_web::test]
async fn unknown_email_wrong_password_and_disabled_account_look_identical() {
    let app = TestApp::new().await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    app.create_admin("dis@example.com", "correct horse battery")
        .await;
    let disabled = app
        .services
        .user_by_email(gatehouse::domain::user::Realm::Staff, "dis@example.com")
        .unwrap();
    app.services
        .set_enabled(AdminActor::cli(), disabled.id, false)
        .await
        .unwrap();

    let before = app.services.hashing().computed();
    let unknown = failed_login(&app, "nobody@example.com", "correct horse battery").await;
    let wrong = failed_login(&app, "ann@example.com", "wrong horse battery").await;
    let off = failed_login(&app, "dis@example.com", "correct horse battery").await;
    assert_eq!(
        app.services.hashing().computed() - before,
        3,
        "one Argon2 verification each, known or not"
    );

    for page in [&unknown, &wrong, &off] {
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(
            page.set_cookies.is_empty(),
            "no cookie set on failure: {:?}",
            page.set_cookies
        );
    }
    // Each page shows the address that was typed (and nothing else differs).
    let typed = |page: &crate::common::Page, email: &str| {
        page.body_without_csrf().replace(email, "TYPED-ADDRESS")
    };
    assert_eq!(
        typed(&unknown, "nobody@example.com"),
        typed(&wrong, "ann@example.com")
    );
    assert_eq!(
        typed(&wrong, "ann@example.com"),
        typed(&off, "dis@example.com")
    );

    // The reasons are in the audit trail, for admins only.
    let details: Vec<String> = app
        .services
        .audit_log(10, None)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.detail)
        .collect();
    for reason in ["unknown email", "wrong password", "account disabled"] {
        assert!(
            details.iter().any(|d| d == reason),
            "{reason} audited: {details:?}"
        );
    }
}

#[actix_web::test]
async fn wrong_codes_look_identical_whatever_the_kind() {
    let (app, mut browser, _, _) = enrolled_admin().await;
    browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let a = browser.post("/login/mfa", &[("code", "000000")]).await;
    let b = browser
        .post("/login/mfa", &[("code", "abcd-efgh-jkmn")])
        .await;
    let c = browser.post("/login/mfa", &[("code", "nonsense")]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body_without_csrf(), b.body_without_csrf());
    assert_eq!(b.body_without_csrf(), c.body_without_csrf());
    let _ = app;
}

#[actix_web::test]
async fn account_throttle_trips_across_addresses_and_recovers() {
    let app = TestApp::new().await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    // Five free failures, each from a different address.
    for i in 0..5 {
        let mut browser = app.browser();
        browser.ip = format!("198.51.100.{}", i + 1).parse().unwrap();
        browser.get("/login").await;
        let page = browser
            .post(
                "/login",
                &[
                    ("email", "ann@example.com"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The sixth, from yet another address, is held off even with the right password.
    let mut browser = app.browser();
    browser.ip = "192.0.2.77".parse().unwrap();
    browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = page
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(wait >= 1);
    // A different account is not affected.
    let other = failed_login(&app, "someone@example.com", "whatever pass").await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);

    // After the back-off the right password works again.
    app.clock.advance(wait);
    let page = browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "recovered after back-off: {}",
        page.body
    );
}

#[actix_web::test]
async fn address_throttle_trips_across_accounts_and_recovers() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    browser.ip = "198.51.100.200".parse().unwrap();
    browser.get("/login").await;
    for i in 0..20 {
        let email = format!("user{i}@example.com");
        let page = browser
            .post(
                "/login",
                &[("email", &email), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let page = browser
        .post(
            "/login",
            &[
                ("email", "fresh@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = page.header("retry-after").unwrap().parse().unwrap();

    // Another address is unaffected.
    let mut other = app.browser();
    other.ip = "198.51.100.201".parse().unwrap();
    other.get("/login").await;
    assert_eq!(
        other
            .post(
                "/login",
                &[
                    ("email", "fresh@example.com"),
                    ("password", "wrong password!")
                ]
            )
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    app.clock.advance(wait);
    let page = browser
        .post(
            "/login",
            &[
                ("email", "fresh@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "allowed to try again after the back-off"
    );
}

#[actix_web::test]
async fn wrong_codes_count_towards_the_account_throttle() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            browser
                .post("/login/mfa", &[("code", "000000")])
                .await
                .status,
        );
    }
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    // Five wrong codes end the pending sign-in: the password must be given again…
    assert_eq!(statuses[5], StatusCode::SEE_OTHER);
    let blocked = browser
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(blocked.location(), "/login?expired=1", "even a right code");
    // …and the wrong codes counted towards the account: the right password waits.
    browser.get("/login").await;
    let again = browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
}

#[actix_web::test]
async fn concurrent_hashes_are_capped() {
    let app = TestApp::new().await;
    assert!(app.services.hashing().permit_count() >= 1);
    let permits: Vec<_> = futures_util::future::join_all(
        (0..app.services.hashing().permit_count()).map(|_| app.services.hashing().permit()),
    )
    .await;
    // All permits held: a further login waits instead of hashing.
    let services = app.services.clone();
    let attempt = gatehouse::service::login::PasswordAttempt {
        realm: gatehouse::domain::user::Realm::Staff,
        email: "x@example.com".into(),
        password: "whatever pass".into(),
        next: None,
        origin: Default::default(),
    };
    let waiting = services.login_with_password(attempt);
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(300), waiting)
        .await
        .is_err();
    assert!(timed_out, "login must wait for a hashing permit");
    assert_eq!(app.services.hashing().computed(), 0);
    drop(permits);
}
