//! The staff side's own look: an admin sets the organisation name and logo on
//! /admin/branding; the staff sign-in (logo on the card), account and admin pages,
//! page titles and staff emails carry them; bad input is refused and changes nothing;
//! a client's portal never shows them.

use actix_web::http::StatusCode;
use gatehouse::domain::audit::AuditKind;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::branding::StaffBrandingUpdate;

use crate::common::smtp::SmtpServer;
use crate::common::staff::admin;
use crate::common::{Browser, Page, TestApp, config_with};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRtiny";
const BOUNDARY: &str = "gatehouseStaffLogoBoundary";

fn multipart(token: Option<&str>, logo: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(token) = token {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n").as_bytes());
    }
    body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend_from_slice(logo);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads `logo` from the branding page (with or without the page's CSRF token).
async fn upload(ops: &mut Browser, logo: &[u8], with_token: bool) -> Page {
    ops.get("/admin/branding").await;
    let token = ops.csrf.clone().unwrap();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    ops.post_raw(
        "/admin/branding/logo",
        &content_type,
        multipart(with_token.then_some(token.as_str()), logo),
    )
    .await
}

/// Saves the organisation name from the branding page.
async fn save_name(ops: &mut Browser, name: &str) -> Page {
    ops.get("/admin/branding").await;
    ops.post("/admin/branding", &[("org_name", name)]).await
}

/// The page's `<title>`.
fn title(page: &Page) -> String {
    page.body
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .unwrap_or_default()
        .to_owned()
}

/// The address of the sign-in card's logo, if the page has one.
fn card_logo(page: &Page) -> Option<(String, String)> {
    let img = page.body.split("<img class=\"card-logo\"").nth(1)?;
    let attr = |name: &str| {
        img.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .map(|v| v.replace("&amp;", "&"))
            .unwrap_or_default()
    };
    Some((attr("src"), attr("alt")))
}

fn branding_events(app: &TestApp) -> Vec<String> {
    app.services
        .audit_log(1000, None)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| e.kind == AuditKind::SettingsChanged && e.detail.contains("staff branding"))
        .map(|e| e.detail)
        .collect()
}

#[actix_web::test]
async fn without_a_setting_the_staff_pages_say_gatehouse_and_have_no_logo() {
    let app = TestApp::new().await;
    let mut visitor = app.browser();
    let login = visitor.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(title(&login), "Sign in · Gatehouse");
    assert!(card_logo(&login).is_none(), "{}", login.body);
    assert_eq!(visitor.get("/logo").await.status, StatusCode::NOT_FOUND);
    let invite = visitor.get("/invite/not-a-real-token").await;
    assert!(title(&invite).ends_with("· Gatehouse"), "{}", invite.body);
}

#[actix_web::test]
async fn an_admin_sets_the_name_and_logo_and_the_staff_pages_show_them() {
    let app = TestApp::new().await;
    let mut ops = admin(&app).await;

    let page = ops.get("/admin/branding").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("aria-current=\"page\">Branding</a>"),
        "{}",
        page.body
    );
    assert_eq!(page.input_value("org_name").as_deref(), Some(""));

    // The name: 303 to the page, which says so once and shows the new value.
    let saved = save_name(&mut ops, "  Northwind Traders ").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(saved.location().starts_with("/admin/branding"));
    let page = ops.follow(&saved).await;
    assert!(page.has("Organisation name saved."), "{}", page.body);
    assert_eq!(
        page.input_value("org_name").as_deref(),
        Some("Northwind Traders")
    );
    assert_eq!(title(&page), "Branding · Northwind Traders admin");
    assert!(page.has("Northwind Traders admin"), "console header");

    // The logo, uploaded like a client's.
    let uploaded = upload(&mut ops, PNG, true).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let page = ops.follow(&uploaded).await;
    assert!(page.has("Logo saved."), "{}", page.body);

    // The staff sign-in: name in the title and top bar, logo on the card.
    let mut visitor = app.browser();
    let login = visitor.get("/login").await;
    assert_eq!(title(&login), "Sign in · Northwind Traders");
    assert!(login.has("Northwind Traders"));
    let (src, alt) = card_logo(&login).expect("a logo on the sign-in card");
    assert!(src.starts_with("/logo?v="), "{src}");
    assert_eq!(alt, "Northwind Traders logo");

    // The logo itself: its own type, never sniffed, under the strict CSP.
    let logo = visitor.get(&src).await;
    assert_eq!(logo.status, StatusCode::OK);
    assert_eq!(logo.header("content-type"), Some("image/png"));
    assert_eq!(logo.header("x-content-type-options"), Some("nosniff"));
    assert!(
        logo.header("content-security-policy")
            .is_some_and(|csp| csp.contains("default-src 'none'")),
        "{:?}",
        logo.header("content-security-policy")
    );
    assert!(
        logo.body.ends_with("PNG\r\n\x1a\n\0\0\0\rIHDRtiny"),
        "the bytes uploaded"
    );

    // The staff account page.
    let account = ops.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(
        title(&account).ends_with("· Northwind Traders"),
        "{}",
        title(&account)
    );
    assert!(account.has("src=\"/logo?v="), "logo in the top bar");

    // A staff error page (a mistyped invitation link) keeps the look too.
    let invite = visitor.get("/invite/not-a-real-token").await;
    assert_eq!(invite.status, StatusCode::NOT_FOUND);
    assert!(
        title(&invite).ends_with("· Northwind Traders"),
        "{}",
        invite.body
    );

    // Audited old → new; the logo named, never its bytes.
    let events = branding_events(&app);
    assert!(
        events
            .iter()
            .any(|d| d.contains("organisation name: none → Northwind Traders")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|d| d.contains("logo: none → set")),
        "{events:?}"
    );

    // Removing both brings the plain look back.
    ops.get("/admin/branding").await;
    let removed = ops
        .post("/admin/branding", &[("action", "remove-logo")])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.services.staff_look().unwrap().name,
        "Northwind Traders",
        "removing the logo keeps the name"
    );
    assert_eq!(visitor.get("/logo").await.status, StatusCode::NOT_FOUND);
    save_name(&mut ops, "").await;
    let login = visitor.get("/login").await;
    assert_eq!(title(&login), "Sign in · Gatehouse");
    assert!(card_logo(&login).is_none());
}

#[actix_web::test]
async fn bad_branding_is_refused_with_a_reason_and_changes_nothing() {
    let app = TestApp::new().await;
    let mut ops = admin(&app).await;
    let before = app.services.staff_look().unwrap();

    let long = "N".repeat(81);
    for (name, what) in [
        (long.as_str(), "too long"),
        ("Northwind\nTraders", "new line"),
        ("Northwind\u{7}", "control character"),
        ("North\u{1b}[2Jwind", "escape sequence"),
    ] {
        let page = save_name(&mut ops, name).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{what}");
        assert!(
            page.has("at most 80 characters on one line"),
            "{what}: {}",
            page.body
        );
    }

    let page = upload(
        &mut ops,
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        true,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("PNG or JPEG"), "{}", page.body);
    let page = upload(&mut ops, b"GIF89a not allowed", true).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let huge = [PNG.to_vec(), vec![0u8; 70 * 1024]].concat();
    assert_eq!(
        upload(&mut ops, &huge, true).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        upload(&mut ops, PNG, false).await.status,
        StatusCode::FORBIDDEN,
        "no CSRF token"
    );
    ops.get("/admin/branding").await;
    let page = ops
        .post_without_csrf("/admin/branding", &[("org_name", "Sneaky")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "no CSRF token");
    let page = ops
        .post("/admin/branding", &[("action", "delete-everything")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);

    assert_eq!(app.services.staff_look().unwrap(), before);
    assert!(branding_events(&app).is_empty());
    let login = app.browser().get("/login").await;
    assert_eq!(title(&login), "Sign in · Gatehouse");
}

#[actix_web::test]
async fn only_an_admin_reaches_the_branding_page() {
    let app = TestApp::new().await;
    let mut visitor = app.browser();
    let page = visitor.get("/admin/branding").await;
    assert!(page.status.is_redirection(), "{}", page.status);
    assert!(page.location().starts_with("/login"));
    let page = visitor
        .post_without_csrf("/admin/branding", &[("org_name", "X")])
        .await;
    assert!(page.status.is_client_error() || page.status.is_redirection());
    assert_eq!(app.services.staff_look().unwrap().name, "Gatehouse");
}

#[actix_web::test]
async fn the_staff_look_never_reaches_a_portal() {
    let app = TestApp::new().await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme Ltd".into())
        .await
        .unwrap();
    let mut ops = admin(&app).await;
    save_name(&mut ops, "Northwind Traders").await;
    upload(&mut ops, PNG, true).await;
    assert!(app.services.staff_look().unwrap().has_logo);

    let mut visitor = app.browser();
    for path in [
        "/p/acme/login",
        "/p/acme/invite/not-a-token",
        "/p/acme/no-such-page",
    ] {
        let page = visitor.get(path).await;
        assert!(page.has("Acme Ltd"), "{path}");
        assert!(!page.has("Northwind"), "{path}: staff name\n{}", page.body);
        assert!(
            !page.has("src=\"/logo"),
            "{path}: staff logo\n{}",
            page.body
        );
        assert!(card_logo(&page).is_none(), "{path}");
    }
    assert_eq!(
        visitor.get("/p/acme/logo").await.status,
        StatusCode::NOT_FOUND,
        "the client has no logo of its own"
    );
}

#[actix_web::test]
async fn staff_emails_carry_the_organisation_name() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = TestApp::with_config(config_with(&smtp.config())).await;
    let mut ops = admin(&app).await;
    save_name(&mut ops, "Northwind Traders").await;
    let mut b = app.browser();
    b.get("/login/forgot").await;
    b.post("/login/forgot", &[("email", "ops@example.com")])
        .await;
    let mail = smtp.wait_subject("ops@example.com", "Reset your", 1).await;
    assert_eq!(mail.subject, "Reset your Northwind Traders password");
    assert!(mail.html.contains("Northwind Traders"));
}

#[actix_web::test]
async fn authenticator_apps_and_the_code_steps_show_the_organisation_name() {
    let app = TestApp::new().await;
    app.services
        .set_staff_branding(
            AdminActor::cli(),
            StaffBrandingUpdate {
                org_name: Some("Northwind Traders".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.create_admin("kim@example.com", "a long passphrase")
        .await;
    let mut b = app.browser();
    b.sign_in(&app, "kim@example.com", "a long passphrase", None)
        .await;
    let setup = b.get("/mfa/setup").await;
    assert!(
        title(&setup).ends_with("· Northwind Traders"),
        "{}",
        title(&setup)
    );
    let uri = setup.input_value("otpauth").expect("otpauth link");
    assert!(
        uri.starts_with("otpauth://totp/Northwind%20Traders:"),
        "{uri}"
    );
    assert!(uri.contains("issuer=Northwind%20Traders"), "{uri}");
    assert!(!uri.contains("Gatehouse"), "{uri}");

    b.enrol(&app).await;
    b.post("/logout", &[]).await;
    b.get("/login").await;
    let step = b
        .post(
            "/login",
            &[
                ("email", "kim@example.com"),
                ("password", "a long passphrase"),
            ],
        )
        .await;
    assert_eq!(step.location(), "/login/mfa");
    let code = b.follow(&step).await;
    assert_eq!(title(&code), "Enter your code · Northwind Traders");
}
