//! Bursts of concurrent guesses (issue 13, item 1): every attempt at a guessable secret
//! is reserved with the throttle before any work, so however many arrive at once only
//! the allowed few are evaluated — counted as Argon2 computations for passwords and as
//! refusals in the audit trail for codes — for staff and for a portal.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use futures_util::future::join_all;
use gatehouse::domain::audit::AuditKind;

use crate::common::portal::{onboarded, portals};
use crate::common::staff::enrolled_admin;
use crate::common::{Browser, TestApp};

/// The most attempts a burst may get evaluated (the account's free failures, 5, and
/// one for luck).
const MOST_EVALUATED: u64 = 6;

/// Sends `fields` to `path` from `n` copies of `browser` at once; returns how many
/// answers of each status came back.
async fn burst(
    browser: &Browser,
    path: &str,
    n: usize,
    fields: impl Fn(usize) -> Vec<(String, String)>,
) -> BTreeMap<u16, usize> {
    let answers = join_all((0..n).map(|i| {
        let mut copy = browser.fork();
        let fields = fields(i);
        async move {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            copy.post(path, &fields).await.status
        }
    }))
    .await;
    let mut counts = BTreeMap::new();
    for status in answers {
        *counts.entry(status.as_u16()).or_default() += 1;
    }
    counts
}

/// Gives the right password on the sign-in page under `prefix` and opens the code
/// page of the pending sign-in.
async fn at_the_code_step(browser: &mut Browser, prefix: &str, email: &str, password: &str) {
    browser.get(&format!("{prefix}/login")).await;
    let page = browser
        .post(
            &format!("{prefix}/login"),
            &[("email", email), ("password", password)],
        )
        .await;
    assert_eq!(page.location(), format!("{prefix}/login/mfa"));
    browser.get(&format!("{prefix}/login/mfa")).await;
}

fn failed_sign_ins(app: &TestApp) -> u64 {
    let events = app.services.audit_log(100_000, None).unwrap();
    events
        .iter()
        .filter(|(_, e)| e.kind == AuditKind::LoginFailed)
        .count() as u64
}

fn password_guesses(email: &str) -> impl Fn(usize) -> Vec<(String, String)> {
    let email = email.to_owned();
    move |i| {
        vec![
            ("email".to_owned(), email.clone()),
            ("password".to_owned(), format!("guess number {i}")),
        ]
    }
}

/// Six-digit codes that are wrong now (none within the accepted clock skew).
fn code_guesses(app: &TestApp, secret: &str) -> impl Fn(usize) -> Vec<(String, String)> {
    let right: Vec<String> = (-1..=1).map(|s| app.code(secret, s)).collect();
    move |i| {
        let code = (i..)
            .map(|n| format!("{:06}", n * 7_919 % 1_000_000))
            .find(|c| !right.contains(c))
            .unwrap_or_default();
        vec![("code".to_owned(), code)]
    }
}

/// At most a few evaluated, and every answer one of `allowed` (refusals, waits, and
/// for codes the way back to the password once the pending sign-in has ended).
fn assert_at_most_a_few(
    what: &str,
    evaluated: u64,
    answers: &BTreeMap<u16, usize>,
    allowed: &[u16],
) {
    assert!(
        evaluated <= MOST_EVALUATED,
        "{what}: {evaluated} evaluated; answers {answers:?}"
    );
    assert!(
        answers.keys().all(|s| allowed.contains(s)),
        "{what}: only {allowed:?}: {answers:?}"
    );
}

const PASSWORD_ANSWERS: &[u16] = &[401, 429];
const CODE_ANSWERS: &[u16] = &[303, 401, 429];

#[actix_web::test]
async fn a_burst_of_staff_passwords_is_evaluated_only_a_few_times() {
    let app = TestApp::new().await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut browser = app.browser();
    browser.get("/login").await;
    let before = app.services.hashing().computed();
    let answers = burst(&browser, "/login", 300, password_guesses("ann@example.com")).await;
    let hashed = app.services.hashing().computed() - before;
    assert_at_most_a_few("staff passwords", hashed, &answers, PASSWORD_ANSWERS);
    assert!(
        answers.get(&429).copied().unwrap_or(0) >= 294,
        "{answers:?}"
    );
}

#[actix_web::test]
async fn a_burst_of_portal_passwords_is_evaluated_only_a_few_times() {
    let (app, _fake) = portals().await;
    onboarded(&app, "beta", "pat@beta.example", "a long portal passphrase").await;
    let mut browser = app.browser();
    browser.get("/p/beta/login").await;
    let before = app.services.hashing().computed();
    let answers = burst(
        &browser,
        "/p/beta/login",
        300,
        password_guesses("pat@beta.example"),
    )
    .await;
    let hashed = app.services.hashing().computed() - before;
    assert_at_most_a_few("portal passwords", hashed, &answers, PASSWORD_ANSWERS);
}

#[actix_web::test]
async fn a_burst_of_codes_on_a_pending_staff_sign_in_is_evaluated_only_a_few_times() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    at_the_code_step(&mut browser, "", "ann@example.com", "correct horse battery").await;
    let before = failed_sign_ins(&app);
    let answers = burst(&browser, "/login/mfa", 200, code_guesses(&app, &secret)).await;
    let refused = failed_sign_ins(&app) - before;
    assert_at_most_a_few("staff codes", refused, &answers, CODE_ANSWERS);
    // The pending sign-in ended with the wrong codes: even the right code now sends
    // the visitor back to give the password again.
    let page = browser
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(page.location(), "/login?expired=1", "{}", page.status);
}

#[actix_web::test]
async fn a_burst_of_codes_on_a_pending_portal_sign_in_is_evaluated_only_a_few_times() {
    let (app, _fake) = portals().await;
    let (_, secret) = onboarded(&app, "beta", "pat@beta.example", "a long portal passphrase").await;
    let secret = secret.expect("beta requires TOTP");
    app.next_step();
    let mut browser = app.browser();
    at_the_code_step(
        &mut browser,
        "/p/beta",
        "pat@beta.example",
        "a long portal passphrase",
    )
    .await;
    let before = failed_sign_ins(&app);
    let answers = burst(
        &browser,
        "/p/beta/login/mfa",
        200,
        code_guesses(&app, &secret),
    )
    .await;
    let refused = failed_sign_ins(&app) - before;
    assert_at_most_a_few("portal codes", refused, &answers, CODE_ANSWERS);
}

#[actix_web::test]
async fn a_burst_of_recovery_codes_is_evaluated_only_a_few_times() {
    let (app, mut browser, _, _) = enrolled_admin().await;
    at_the_code_step(&mut browser, "", "ann@example.com", "correct horse battery").await;
    let before = failed_sign_ins(&app);
    // Well-formed recovery codes (three groups of four) that were never issued.
    let answers = burst(&browser, "/login/mfa", 200, |i| {
        let letters = b"abcdefghjkmnpqrs";
        let group: String = (0..4)
            .map(|d| char::from(letters[(i >> (4 * d)) & 15]))
            .collect();
        vec![("code".to_owned(), format!("zzzz-{group}-zzzz"))]
    })
    .await;
    let refused = failed_sign_ins(&app) - before;
    assert_at_most_a_few("recovery codes", refused, &answers, CODE_ANSWERS);
}

#[actix_web::test]
async fn a_burst_of_current_passwords_at_re_authentication_is_evaluated_only_a_few_times() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    browser.get("/account").await;
    let before = app.services.hashing().computed();
    let answers = burst(&browser, "/account/password", 300, |i| {
        vec![
            ("current_password".to_owned(), format!("guess number {i}")),
            ("code".to_owned(), "000000".to_owned()),
            (
                "new_password".to_owned(),
                "another long passphrase".to_owned(),
            ),
            (
                "new_password_confirm".to_owned(),
                "another long passphrase".to_owned(),
            ),
        ]
    })
    .await;
    let hashed = app.services.hashing().computed() - before;
    assert!(hashed <= MOST_EVALUATED, "{hashed} evaluated: {answers:?}");
    assert!(
        answers.keys().all(|s| [400, 429].contains(s)),
        "{answers:?}"
    );
}

#[actix_web::test]
async fn a_noisy_address_does_not_lock_out_an_account_that_signed_in_from_it() {
    // Ann has signed in (password and code) from the address she shares with the
    // noise: one proxy, one office.
    let (app, mut ann, _, _) = enrolled_admin().await;
    app.create_admin("bob@example.com", "another long passphrase")
        .await;
    let mut noise = app.browser();
    noise.get("/login").await;
    for i in 0..30 {
        noise
            .post(
                "/login",
                &[
                    ("email", &format!("nobody{i}@example.com")),
                    ("password", "wrong wrong wrong"),
                ],
            )
            .await;
    }
    // The address is now over its limit: someone who never signed in from it waits…
    let mut bob = app.browser();
    bob.get("/login").await;
    let page = bob
        .post(
            "/login",
            &[
                ("email", "bob@example.com"),
                ("password", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // …but Ann, who did, still gets in with her right password.
    ann.get("/login").await;
    let page = ann
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/login/mfa");
}

#[actix_web::test]
async fn a_burst_of_step_up_passwords_is_evaluated_only_a_few_times() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    browser.get("/admin/confirm?next=%2Fadmin%2Fsso").await;
    let before = app.services.hashing().computed();
    let answers = burst(&browser, "/admin/confirm", 300, |i| {
        vec![
            ("password".to_owned(), format!("guess number {i}")),
            ("code".to_owned(), "000000".to_owned()),
            ("next".to_owned(), "/admin/sso".to_owned()),
        ]
    })
    .await;
    let hashed = app.services.hashing().computed() - before;
    assert_at_most_a_few("step-up", hashed, &answers, PASSWORD_ANSWERS);
}
