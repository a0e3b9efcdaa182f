//! Staff guests are a setting (off by default), and the Microsoft sign-in refusal page
//! does not tell which emails have accounts here.

use actix_web::http::StatusCode;

use crate::common::binary::Install;
use crate::common::sso::{app_with_entra, configure_staff_sso, sso_sign_in, user};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::Realm;

/// A B2B guest of the staff tenant, from another directory.
fn guest(oid: &str, email: &str) -> crate::common::fake_entra::FakeUser {
    let mut guest = user(oid, email);
    guest.idp = Some("https://sts.windows.net/99999999-8888-4777-8666-555555555555/".into());
    guest
}

#[actix_web::test]
async fn staff_guests_are_refused_by_default_and_let_in_by_the_checkbox() {
    let (app, fake) = app_with_entra().await;
    // Just-in-time with no domain list: before, any guest of the tenant became staff.
    configure_staff_sso(&app, true, "").await;
    let mut visitor = app.browser();
    let page = sso_sign_in(&mut visitor, &fake, guest("oid-g", "gus@fabrikam.com")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(visitor.session().is_none());
    assert!(
        app.services
            .user_by_email(Realm::Staff, "gus@fabrikam.com")
            .is_err(),
        "no staff account for a guest"
    );
    let last = app.services.audit_log(1, None).unwrap();
    assert!(last[0].1.detail.contains("guest"), "{:?}", last[0].1);
    // Members of the tenant still come in.
    let mut member = app.browser();
    let page = sso_sign_in(&mut member, &fake, user("oid-m", "meg@contoso.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);

    // An admin ticks "guests" on /admin/sso.
    let mut admin = app.browser();
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    admin
        .sign_in(&app, "ann@example.com", "correct horse battery", None)
        .await;
    let (secret, _) = admin.enrol(&app).await;
    admin.post("/logout", &[]).await;
    app.next_step();
    admin
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let page = admin.get("/admin/sso").await;
    assert!(page.has("name=\"allow_guests\""), "checkbox shown");
    assert!(!page.has("name=\"allow_guests\" value=\"on\" checked"));
    let page = admin
        .post(
            "/admin/sso",
            &[
                ("jit", "on"),
                ("allowed_domains", ""),
                ("allow_guests", "on"),
            ],
        )
        .await;
    assert!(
        page.status.is_redirection() || page.status == StatusCode::OK,
        "{}",
        page.status
    );
    let page = admin.get("/admin/sso").await;
    assert!(
        page.has("name=\"allow_guests\" value=\"on\" checked"),
        "saved"
    );

    let mut visitor = app.browser();
    let page = sso_sign_in(&mut visitor, &fake, guest("oid-g", "gus@fabrikam.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    assert!(
        app.services
            .user_by_email(Realm::Staff, "gus@fabrikam.com")
            .is_ok()
    );
}

#[actix_web::test]
async fn sso_set_guests_on_and_off_from_the_command_line() {
    let install = Install::new();
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    let shown = install.cli_ok(&["sso", "show"], "");
    assert!(
        shown.contains("guests:          refused"),
        "off by default:\n{shown}"
    );
    install.cli_ok(&["sso", "set", "--guests", "on"], "");
    let shown = install.cli_ok(&["--json", "sso", "show"], "");
    let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(json["allow_guests"], true);
    install.cli_ok(&["sso", "set", "--guests", "off"], "");
    let shown = install.cli_ok(&["sso", "show"], "");
    assert!(shown.contains("guests:          refused"), "{shown}");
    let audit = install.cli_ok(&["audit"], "");
    assert!(
        audit.contains("guests allowed") && audit.contains("guests refused"),
        "{audit}"
    );
}

#[actix_web::test]
async fn not_linked_and_not_registered_look_the_same() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    app.create_admin("ann@contoso.com", "correct horse battery")
        .await;

    let mut a = app.browser();
    let exists = sso_sign_in(&mut a, &fake, user("oid-ann", "ann@contoso.com")).await;
    let mut b = app.browser();
    let stranger = sso_sign_in(&mut b, &fake, user("oid-bob", "bob@contoso.com")).await;

    assert_eq!(exists.status, StatusCode::FORBIDDEN);
    assert_eq!(exists.status, stranger.status);
    assert_eq!(
        exists.body_without_csrf(),
        stranger.body_without_csrf(),
        "the page tells nothing about which emails have accounts"
    );
    assert!(
        !exists.has("exists") && !exists.has("not linked"),
        "{}",
        exists.body
    );

    // The audit trail keeps the precise reasons.
    let events = app.services.audit_log(2, None).unwrap();
    let details: Vec<&str> = events
        .iter()
        .filter(|(_, e)| e.kind == AuditKind::SsoFailed)
        .map(|(_, e)| e.detail.as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("ann@contoso.com exists but is not linked")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("bob@contoso.com: not registered")),
        "{details:?}"
    );
}
