//! SSO-only switched on while a password form is open: the invitation acceptance and
//! the password change posted afterwards are refused and change nothing. (The check
//! also runs inside their write transaction, so a switch during the password hash
//! cannot slip through either.)

use actix_web::http::StatusCode;

use crate::common::sso::{app_with_entra, configure_staff_sso, sso_sign_in, user};
use crate::sso_only::linked_admin;
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::{Realm, Role, UserStatus};
use gatehouse::service::admin::AdminActor;

#[actix_web::test]
async fn forms_opened_before_sso_only_are_refused_after_it() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let (_, ann_secret) = linked_admin(&app, &fake).await;
    let invitation = app
        .services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "carol@contoso.com".into(),
            "Carol".into(),
            Role::Member,
        )
        .await
        .unwrap();
    let invite_path = invitation
        .link
        .trim_start_matches("http://localhost:8080")
        .to_owned();
    // Both forms are on screen before the switch.
    let mut carol = app.browser();
    let page = carol.get(&invite_path).await;
    assert!(page.has("name=\"password\""), "password form offered");
    let mut ann = app.browser();
    let page = sso_sign_in(&mut ann, &fake, user("oid-ann", "ann@contoso.com")).await;
    assert_eq!(page.location(), "/account");
    let page = ann.get("/account").await;
    assert!(page.has("Change password"));

    app.services
        .set_staff_sso_only(AdminActor::cli(), true)
        .await
        .unwrap();
    app.next_step();

    let page = carol
        .post(
            &invite_path,
            &[
                ("password", "carols long password"),
                ("password_confirm", "carols long password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(carol.session().is_none());
    let carol = app
        .services
        .user_by_email(Realm::Staff, "carol@contoso.com")
        .unwrap();
    assert_eq!(carol.status, UserStatus::Invited);
    assert!(carol.password_hash.is_none(), "no password was set");

    let before = app
        .services
        .user_by_email(Realm::Staff, "ann@contoso.com")
        .unwrap()
        .password_hash;
    let page = ann
        .post(
            "/account/password",
            &[
                ("current_password", "correct horse battery"),
                ("code", &app.code(&ann_secret, 0)),
                ("new_password", "another long passphrase"),
                ("new_password_confirm", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    let after = app
        .services
        .user_by_email(Realm::Staff, "ann@contoso.com")
        .unwrap()
        .password_hash;
    assert_eq!(before, after, "password unchanged");
    assert!(
        !app.services
            .audit_log(20, None)
            .unwrap()
            .iter()
            .any(|(_, e)| matches!(
                e.kind,
                AuditKind::PasswordChanged | AuditKind::InvitationAccepted
            ))
    );
}
