//! POST-redirect-GET on every form (issue 14, point 6; DESIGN §11): a form that
//! succeeded answers `303 See Other`; what the page must show once (a notice, an
//! invitation link, recovery codes, a consent link) reaches it as a one-time flash
//! bound to the browser. Reloading the result page repeats nothing: no second audit
//! event, no new link or codes, and the link or codes just shown keep working. One
//! test per form family.

use actix_web::http::StatusCode;

use crate::common::portal::portals;
use crate::common::post_redirect::audit_count as count;
use crate::common::sso::{app_with_entra, configure_staff_sso};
use crate::common::{Browser, TestApp};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::Realm;

const PASSWORD: &str = "correct horse battery";
/// The notice banner a page shows once after a form.
const BANNER: &str = "class=\"banner notice\"";

/// A form to send: (path, fields, the page it leads to, the notice shown there).
type Form<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);

fn audit_len(app: &TestApp) -> usize {
    app.services.audit_log(100_000, None).unwrap().len()
}

/// A staff admin with an authenticator, signed in; returns the browser and secret.
async fn staff(app: &TestApp, email: &str) -> (Browser, String) {
    app.create_admin(email, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(app, email, PASSWORD, None).await;
    let (secret, _) = b.enrol(app).await;
    (b, secret)
}

#[actix_web::test]
async fn reloading_the_invitation_page_keeps_the_link_alive_and_invites_nobody() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    for (list, prefix) in [
        ("/admin/users", ""),
        ("/admin/clients/acme/users", "/p/acme"),
    ] {
        ann.get(list).await;
        let (answer, shown) = ann
            .post_redirect(
                list,
                &[("email", "bob@example.com"), ("role", "member")],
                list,
            )
            .await;
        let link = shown.input_value("invite-link").expect("link shown");
        let before = audit_len(&app);
        let reloaded = ann.get(answer.location()).await;
        assert_eq!(reloaded.status, StatusCode::OK);
        assert!(reloaded.input_value("invite-link").is_none(), "shown once");
        assert_eq!(audit_len(&app), before, "nothing repeated");
        let path = link.trim_start_matches("http://localhost:8080");
        assert!(path.starts_with(&format!("{prefix}/invite/")), "{path}");
        let mut bob = app.browser();
        let page = bob.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "the link still works");
        let page = bob
            .post(
                path,
                &[
                    ("password", "bobs long password"),
                    ("password_confirm", "bobs long password"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    assert_eq!(count(&app, AuditKind::UserInvited), 2);
    assert_eq!(count(&app, AuditKind::InvitationAccepted), 2);
}

#[actix_web::test]
async fn a_flash_shows_only_in_the_browser_that_sent_the_form() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    let (mut ops, _) = staff(&app, "ops@example.com").await;
    ann.get("/admin/users").await;
    let answer = ann
        .post(
            "/admin/users",
            &[("email", "bob@example.com"), ("role", "member")],
        )
        .await;
    let elsewhere = ops.get(answer.location()).await;
    assert_eq!(elsewhere.status, StatusCode::OK);
    assert!(
        elsewhere.input_value("invite-link").is_none(),
        "another browser sees nothing"
    );
    let mine = ann.get(answer.location()).await;
    assert!(
        mine.input_value("invite-link").is_some(),
        "still there for its browser"
    );
}

#[actix_web::test]
async fn reloading_after_a_password_change_changes_nothing_and_keeps_the_session() {
    let (app, _fake) = portals().await;
    let (mut ann, secret) = staff(&app, "ann@example.com").await;
    ann.get("/account").await;
    app.next_step();
    let code = app.code(&secret, 0);
    let old_session = ann.session();
    let (answer, shown) = ann
        .post_redirect(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("code", &code),
                ("new_password", "a brand new long passphrase"),
                ("new_password_confirm", "a brand new long passphrase"),
            ],
            "/account",
        )
        .await;
    assert!(shown.has("Your password was changed"));
    assert_ne!(
        ann.session(),
        old_session,
        "the redirect carried the new session id"
    );
    let before = audit_len(&app);
    let reloaded = ann.get(answer.location()).await;
    assert_eq!(reloaded.status, StatusCode::OK, "still signed in");
    assert!(!reloaded.has("Your password was changed"), "shown once");
    assert_eq!(audit_len(&app), before);
    assert_eq!(count(&app, AuditKind::PasswordChanged), 1);
}

#[actix_web::test]
async fn reloading_the_recovery_codes_page_makes_no_new_codes() {
    let (app, _fake) = portals().await;
    let (mut ann, secret) = staff(&app, "ann@example.com").await;
    ann.get("/account").await;
    app.next_step();
    let code = app.code(&secret, 0);
    let (answer, shown) = ann
        .post_redirect(
            "/account/recovery-codes",
            &[("current_password", PASSWORD), ("code", &code)],
            "/account/recovery-codes",
        )
        .await;
    let codes = shown.codes();
    assert_eq!(codes.len(), 10);
    let stored = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap()
        .recovery_codes;
    let before = audit_len(&app);
    let reloaded = ann.get(answer.location()).await;
    assert_eq!(
        reloaded.status,
        StatusCode::SEE_OTHER,
        "back to the account page"
    );
    assert_eq!(reloaded.location(), "/account");
    assert!(reloaded.codes().is_empty(), "the codes are shown once");
    assert_eq!(audit_len(&app), before);
    let after = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap()
        .recovery_codes;
    assert_eq!(after, stored, "the codes just shown still stand");
    assert_eq!(count(&app, AuditKind::RecoveryCodesRegenerated), 1);
}

#[actix_web::test]
async fn reloading_after_enrolment_enrols_nothing_again() {
    let (app, _fake) = portals().await;
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut ann = app.browser();
    ann.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    let page = ann.get("/mfa/setup").await;
    let secret = page.input_value("secret").unwrap();
    let (answer, shown) = ann
        .post_redirect(
            "/mfa/setup",
            &[("code", &app.code(&secret, 0))],
            "/account/recovery-codes",
        )
        .await;
    assert_eq!(shown.codes().len(), 10);
    assert!(shown.has("/account"), "continue to the account page");
    let before = audit_len(&app);
    let reloaded = ann.get(answer.location()).await;
    assert_eq!(reloaded.status, StatusCode::SEE_OTHER);
    assert!(reloaded.codes().is_empty());
    assert_eq!(audit_len(&app), before);
    assert_eq!(count(&app, AuditKind::MfaEnrolled), 1);
    assert_eq!(ann.get("/account").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn reloading_admin_results_repeats_no_action() {
    let (app, _fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    let (_bob, _) = staff(&app, "bob@example.com").await;
    let bob = app
        .services
        .user_by_email(Realm::Staff, "bob@example.com")
        .unwrap();
    app.services
        .create_client(
            gatehouse::service::admin::AdminActor::cli(),
            "acme".into(),
            "Acme".into(),
        )
        .await
        .unwrap();
    ann.get("/admin/sso").await;
    let user_page = format!("/admin/users/{}", bob.id);
    let forms: [Form; 6] = [
        (
            "/admin/sso/disable",
            vec![],
            "/admin/sso",
            "Microsoft sign-in is off",
        ),
        (
            "/admin/sso/enable",
            vec![],
            "/admin/sso",
            "Microsoft sign-in is on",
        ),
        (
            "/admin/sso",
            vec![("jit", "on"), ("allowed_domains", "contoso.com")],
            "/admin/sso",
            "Settings saved",
        ),
        (
            &format!("{user_page}/make-member"),
            vec![],
            &user_page,
            "now a member",
        ),
        (
            "/admin/clients/acme",
            vec![("name", "Acme Ltd"), ("password_login", "on")],
            "/admin/clients/acme",
            "Settings saved",
        ),
        (
            "/admin/clients/acme/do/disable",
            vec![],
            "/admin/clients/acme",
            "Portal disabled",
        ),
    ];
    for (path, fields, page, notice) in forms {
        let (answer, shown) = ann.post_redirect(path, &fields, page).await;
        assert!(
            shown.has(notice) && shown.has(BANNER),
            "{path}: {}",
            shown.body
        );
        let before = audit_len(&app);
        let reloaded = ann.get(answer.location()).await;
        assert_eq!(reloaded.status, StatusCode::OK, "{path}");
        assert!(!reloaded.has(BANNER), "{path}: shown once");
        assert_eq!(audit_len(&app), before, "{path}: nothing repeated");
    }
    assert_eq!(count(&app, AuditKind::RoleChanged), 1);
}

#[actix_web::test]
async fn reloading_client_and_portal_app_results_makes_no_new_link_or_change() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    ann.get("/admin/clients/acme").await;
    let (answer, shown) = ann
        .post_redirect(
            "/admin/clients/acme/do/consent-link",
            &[],
            "/admin/clients/acme",
        )
        .await;
    assert!(shown.has("/v2.0/adminconsent?client_id="), "{}", shown.body);
    let before = audit_len(&app);
    let reloaded = ann.get(answer.location()).await;
    assert_eq!(reloaded.status, StatusCode::OK);
    assert!(!reloaded.has("/v2.0/adminconsent?client_id="), "shown once");
    assert_eq!(audit_len(&app), before, "no second link made");

    // The portal app form, and an email change on a portal user, the same way.
    ann.get("/admin/portal").await;
    let (answer, shown) = ann
        .post_redirect(
            "/admin/portal",
            &[("secret_expires", "2027-02-28")],
            "/admin/portal",
        )
        .await;
    assert!(shown.has("Portal app saved") && shown.has(BANNER));
    let before = audit_len(&app);
    let reloaded = ann.get(answer.location()).await;
    assert!(!reloaded.has(BANNER), "shown once");
    assert_eq!(audit_len(&app), before);

    let pat = crate::common::portal::invite(&app, "acme", "pat@acme.test").await;
    assert!(pat.starts_with("/p/acme/invite/"));
    let acme = crate::common::portal::realm(&app, "acme");
    let pat_id = app
        .services
        .user_by_email(acme, "pat@acme.test")
        .unwrap()
        .id;
    let page = format!("/admin/clients/acme/users/{pat_id}");
    ann.get(&page).await;
    let (answer, shown) = ann
        .post_redirect(
            &format!("{page}/set-email"),
            &[("new_email", "patricia@acme.test")],
            &page,
        )
        .await;
    assert!(shown.has("Email changed to patricia@acme.test"));
    let before = audit_len(&app);
    let reloaded = ann.get(answer.location()).await;
    assert!(!reloaded.has(BANNER), "shown once");
    assert_eq!(audit_len(&app), before);
    assert_eq!(count(&app, AuditKind::EmailChanged), 1);
}
