//! The sign-in pages as a person meets them: the address stays after a failure, a held
//! off attempt keeps the form and says the wait in words, signing out says so,
//! enrolment can be cancelled, the code step is focused and recovery codes get their own
//! field with a full keyboard, the account page has unique ids, and the sign-in page
//! before setup says what to do.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;

use crate::common::staff::enrolled_admin;
use crate::common::{Page, TestApp};

/// Every `id="…"` on the page, with how often it appears.
fn ids(page: &Page) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for part in page.body.split(" id=\"").skip(1) {
        let id = part.split('"').next().unwrap_or_default().to_owned();
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

fn assert_unique_ids(page: &Page, what: &str) {
    let repeated: Vec<_> = ids(page).into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(repeated.is_empty(), "{what}: repeated ids {repeated:?}");
    // Every label points at an element that exists.
    for part in page.body.split("<label for=\"").skip(1) {
        let target = part.split('"').next().unwrap_or_default();
        assert!(
            page.body.contains(&format!("id=\"{target}\"")),
            "{what}: label for missing #{target}"
        );
    }
}

/// The `<input …>` tag whose id is `id`.
fn input_tag<'a>(page: &'a Page, id: &str) -> &'a str {
    let at = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("#{id} on the page"));
    let start = page.body[..at].rfind('<').unwrap();
    let end = at + page.body[at..].find('>').unwrap();
    &page.body[start..end]
}

#[actix_web::test]
async fn a_failed_sign_in_keeps_the_address_and_focuses_the_password() {
    let (app, _, _, _) = enrolled_admin().await;
    let mut browser = app.browser();
    let page = browser.get("/login").await;
    assert!(input_tag(&page, "email").contains("autofocus"));
    browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[
                ("email", "someone@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("someone@example.com")
    );
    assert!(input_tag(&page, "password").contains("autofocus"));
    assert!(!input_tag(&page, "email").contains("autofocus"));
}

#[actix_web::test]
async fn a_held_off_attempt_keeps_the_form_and_says_the_wait_in_words() {
    let (app, _, _, _) = enrolled_admin().await;
    let mut held = None;
    for i in 0..12 {
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
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            held = Some(page);
            break;
        }
    }
    let page = held.expect("held off after repeated failures");
    let wait: i64 = page.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    // The form is still there, with the address as typed.
    assert_eq!(
        page.input_value("email").as_deref(),
        Some("ann@example.com")
    );
    assert!(page.has("name=\"password\""));
    // The wait in words ("1 second", "40 seconds", "about 3 minutes"), never "1 seconds",
    // and the number the page script counts down.
    assert!(page.has("Too many failed attempts. Wait "), "{}", page.body);
    assert!(!page.has("1 seconds"));
    assert!(page.has(&format!("data-countdown=\"{wait}\"")));
}

#[actix_web::test]
async fn signing_out_says_so_and_enrolment_can_be_cancelled() {
    let (app, mut admin, secret, _) = enrolled_admin().await;
    admin
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let page = admin.post("/logout", &[]).await;
    assert_eq!(page.location(), "/login?signed_out=1");
    let page = admin.get(page.location()).await;
    assert!(page.has("You have signed out."));

    // A new member in enrolment cancels it: the half-finished sign-in ends.
    let link = app
        .services
        .invite(
            gatehouse::service::admin::AdminActor::cli(),
            gatehouse::domain::user::Realm::Staff,
            "new@example.com".into(),
            "New Person".into(),
            gatehouse::domain::user::Role::Member,
        )
        .await
        .unwrap()
        .link;
    let path = link.trim_start_matches("http://localhost:8080").to_owned();
    let mut new = app.browser();
    new.get(&path).await;
    let page = new
        .post(
            &path,
            &[
                ("password", "a long new passphrase"),
                ("password_confirm", "a long new passphrase"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/mfa/setup");
    let setup = new.get("/mfa/setup").await;
    assert!(setup.has("Cancel and sign out"));
    assert!(input_tag(&setup, "code").contains("autofocus"));
    let cancel = setup
        .post_forms()
        .into_iter()
        .find(|(action, _)| action == "/logout")
        .expect("a cancel form posting to /logout");
    assert_eq!(cancel.0, "/logout");
    let page = new.post("/logout", &[]).await;
    assert_eq!(page.location(), "/login?signed_out=1");
    let page = new.get("/mfa/setup").await;
    assert_eq!(page.location(), "/login?expired=1", "the enrolment is over");
}

#[actix_web::test]
async fn the_code_step_is_focused_and_recovery_codes_get_a_full_keyboard() {
    let (app, _, _, codes) = enrolled_admin().await;
    let mut browser = app.browser();
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
    let page = browser.get("/login/mfa").await;
    assert_unique_ids(&page, "code step");
    let code = input_tag(&page, "code");
    assert!(code.contains("autofocus") && code.contains("inputmode=\"numeric\""));
    assert!(code.contains("autocomplete=\"one-time-code\""));
    let recovery = input_tag(&page, "recovery-code");
    assert!(recovery.contains("inputmode=\"text\""), "{recovery}");
    assert!(!recovery.contains("one-time-code"));
    // The recovery form signs in with a recovery code.
    let page = browser.post("/login/mfa", &[("code", &codes[0])]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

#[actix_web::test]
async fn the_account_page_has_unique_ids_and_every_label_has_its_field() {
    let (app, mut admin, secret, _) = enrolled_admin().await;
    admin
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let page = admin.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_unique_ids(&page, "/account");
    // The two forms that ask for the current password each have their own field.
    assert!(page.has("id=\"codes-current-password\""));
    assert!(page.has("id=\"password-current-password\""));
}

#[actix_web::test]
async fn the_sign_in_page_before_setup_says_what_to_do() {
    let app = TestApp::new().await;
    let mut visitor = app.browser();
    let page = visitor.get("/login").await;
    assert!(page.has("no administrator"), "{}", page.body);
    assert!(page.has("setup link"));
    // Once an admin exists, the hint is gone.
    let (app, _, _, _) = enrolled_admin().await;
    let page = app.browser().get("/login").await;
    assert!(!page.has("no administrator"));
}
