//! A client's portal looks like the client's own on every page: error pages keep its
//! branding and lead back into the portal (never to the staff sign-in), authenticator
//! apps show the client's name, and nothing says "Gatehouse" unless the admin wants it.

use actix_web::http::StatusCode;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;

use crate::common::portal::{invite, onboarded};
use crate::common::{Page, TestApp};

/// A client `acme` ("Acme Ltd", teal accent) on a fresh install.
async fn acme() -> TestApp {
    let app = TestApp::new().await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme Ltd".into())
        .await
        .unwrap();
    set(
        &app,
        ClientUpdate {
            accent: Some("#0f766e".into()),
            ..Default::default()
        },
    )
    .await;
    app
}

async fn set(app: &TestApp, update: ClientUpdate) {
    app.services
        .update_client(AdminActor::cli(), "acme".into(), update)
        .await
        .unwrap();
}

/// The page is in Acme's branding, every link stays in the portal (or is one of our
/// assets), and the word "Gatehouse" appears nowhere a person reads.
fn assert_portal_page(page: &Page, what: &str) {
    assert!(page.has("Acme Ltd"), "{what}: client name\n{}", page.body);
    assert!(page.has("/p/acme/brand.css"), "{what}: accent stylesheet");
    for link in page.links() {
        assert!(
            link.starts_with("/p/acme/") || link.starts_with("/assets/") || link == "#main",
            "{what}: link {link} leaves the portal"
        );
    }
    let readable = page.body.replace("/assets/gatehouse.", "");
    assert!(
        !readable.contains("Gatehouse"),
        "{what}: says Gatehouse\n{}",
        page.body
    );
}

#[actix_web::test]
async fn error_pages_on_a_portal_keep_its_branding_and_lead_back_into_it() {
    let app = acme().await;
    let mut visitor = app.browser();

    // A mistyped or used invitation link.
    let page = visitor.get("/p/acme/invite/not-a-real-token").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.has("Link not valid"));
    assert_portal_page(&page, "invalid invitation");
    assert!(page.links().contains(&"/p/acme/login".to_owned()));

    // A page that does not exist under the portal.
    let page = visitor.get("/p/acme/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_portal_page(&page, "unknown page");

    // An expired sign-in step.
    let page = visitor.get("/p/acme/login/mfa").await;
    assert!(page.status.is_client_error() || page.status.is_redirection());
    if page.status.is_client_error() {
        assert_portal_page(&page, "expired sign-in");
    }

    // The portal switched off.
    app.services
        .set_client_enabled(AdminActor::cli(), "acme".into(), false)
        .await
        .unwrap();
    let page = visitor.get("/p/acme/login").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.has("Portal disabled"));
    assert_portal_page(&page, "disabled portal");

    // Staff error pages are unchanged.
    let page = visitor.get("/invite/not-a-real-token").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.has("Acme Ltd") && page.has("Protected by Gatehouse"));
}

#[actix_web::test]
async fn throttling_on_a_portal_keeps_its_branding_and_retry_after() {
    let app = acme().await;
    invite(&app, "acme", "pat@acme.example").await;
    let mut last = None;
    for i in 0..12 {
        let mut browser = app.browser();
        browser.ip = format!("198.51.100.{}", i + 1).parse().unwrap();
        browser.get("/p/acme/login").await;
        let page = browser
            .post(
                "/p/acme/login",
                &[
                    ("email", "pat@acme.example"),
                    ("password", "wrong password!"),
                ],
            )
            .await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            last = Some(page);
            break;
        }
    }
    let page = last.expect("throttled after repeated failures");
    assert!(page.header("retry-after").is_some(), "Retry-After kept");
    assert_portal_page(&page, "throttled");
}

#[actix_web::test]
async fn authenticator_apps_show_the_clients_name_and_the_footer_is_the_clients() {
    let app = acme().await;
    // The default: the client's display name as issuer, no footer.
    let (mut pat, _) =
        onboarded(&app, "acme", "pat@acme.example", "a long portal passphrase").await;
    let account = pat.get("/p/acme/account").await;
    assert_portal_page(&account, "account page");
    assert!(
        !account.has("<footer"),
        "no footer unless the admin sets one"
    );
    assert!(
        !account.has("Role"),
        "a portal user's role means nothing to them"
    );

    let mut sam = app.browser();
    let path = invite(&app, "acme", "sam@acme.example").await;
    sam.get(&path).await;
    let page = sam
        .post(
            &path,
            &[
                ("password", "another long passphrase"),
                ("password_confirm", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/p/acme/mfa/setup");
    let setup = sam.get("/p/acme/mfa/setup").await;
    let uri = setup.input_value("otpauth").expect("otpauth link");
    assert!(uri.starts_with("otpauth://totp/Acme%20Ltd:"), "{uri}");
    assert!(uri.contains("issuer=Acme%20Ltd"), "{uri}");
    assert!(!uri.contains("Gatehouse"), "{uri}");
    assert_portal_page(&setup, "enrolment");

    // A configured name and footer.
    set(
        &app,
        ClientUpdate {
            totp_issuer: Some("Acme Support".into()),
            footer: Some("Acme Ltd · support@acme.example".into()),
            ..Default::default()
        },
    )
    .await;
    let mut tom = app.browser();
    let path = invite(&app, "acme", "tom@acme.example").await;
    tom.get(&path).await;
    tom.post(
        &path,
        &[
            ("password", "yet another passphrase"),
            ("password_confirm", "yet another passphrase"),
        ],
    )
    .await;
    let setup = tom.get("/p/acme/mfa/setup").await;
    let uri = setup.input_value("otpauth").expect("otpauth link");
    assert!(uri.contains("issuer=Acme%20Support"), "{uri}");
    assert!(setup.has("Acme Ltd · support@acme.example"), "footer shown");

    // Staff enrolment still says Gatehouse, and staff pages keep their footer.
    let mut visitor = app.browser();
    assert!(visitor.get("/login").await.has("Protected by Gatehouse"));
}

#[actix_web::test]
async fn names_and_footers_are_checked_and_changes_are_audited_with_old_and_new() {
    let app = acme().await;
    for bad in ["x".repeat(81), "line one\nline two".to_owned()] {
        let refused = app
            .services
            .update_client(
                AdminActor::cli(),
                "acme".into(),
                ClientUpdate {
                    footer: Some(bad.clone()),
                    ..Default::default()
                },
            )
            .await;
        assert!(refused.is_err(), "{bad:?} refused");
    }
    set(
        &app,
        ClientUpdate {
            name: Some("Acme Limited".into()),
            mfa_required: Some(false),
            ..Default::default()
        },
    )
    .await;
    let log = app.services.audit_log(10, None).unwrap();
    let details: Vec<String> = log.iter().map(|(_, e)| e.detail.clone()).collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("name: Acme Ltd → Acme Limited")
                && d.contains("MFA required: on → off")),
        "{details:#?}"
    );
    assert!(
        details.iter().any(|d| d.contains("accent: none → #0f766e")),
        "{details:#?}"
    );
}
