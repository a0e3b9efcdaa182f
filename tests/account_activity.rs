//! "Recent activity" on `/account` and `/p/{slug}/account` (issue 14, point 5): the
//! user's own security events from the audit log, with or without email — never
//! another user's, never who the administrator was, never the internal detail.

use actix_web::http::StatusCode;

use crate::common::portal::{onboarded, portals};
use crate::common::{Browser, Page, TestApp};

const PASSWORD: &str = "correct horse battery";

async fn staff(app: &TestApp, email: &str) -> (Browser, String) {
    app.create_admin(email, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(app, email, PASSWORD, None).await;
    let (secret, _) = b.enrol(app).await;
    (b, secret)
}

/// The activity card of an account page.
fn activity(page: &Page) -> String {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body
        .split("id=\"activity\"")
        .nth(1)
        .expect("an activity card")
        .split("</section>")
        .next()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn the_account_page_lists_the_users_own_security_events_only() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    let (mut bob, bob_secret) = staff(&app, "bob@example.com").await;

    // Someone fails to sign in as Bob from another address; Bob changes his password.
    let mut stranger = app.browser();
    stranger.ip = "198.51.100.7".parse().unwrap();
    stranger
        .sign_in(&app, "bob@example.com", "not his password", None)
        .await;
    bob.get("/account").await;
    app.next_step();
    bob.submit(
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("code", &app.code(&bob_secret, 0)),
            ("new_password", "bobs brand new passphrase"),
            ("new_password_confirm", "bobs brand new passphrase"),
        ],
    )
    .await;
    // Ann, an admin, signs Bob out everywhere and fails her own sign-in elsewhere.
    let bob_id = app
        .services
        .user_by_email(gatehouse::domain::user::Realm::Staff, "bob@example.com")
        .unwrap()
        .id;
    ann.get(&format!("/admin/users/{bob_id}")).await;
    ann.submit(&format!("/admin/users/{bob_id}/revoke-sessions"), &[])
        .await;
    let mut elsewhere = app.browser();
    elsewhere.ip = "192.0.2.99".parse().unwrap();
    elsewhere
        .sign_in(&app, "ann@example.com", "wrong again", None)
        .await;

    app.next_step();
    bob.sign_in(
        &app,
        "bob@example.com",
        "bobs brand new passphrase",
        Some(&bob_secret),
    )
    .await;
    let card = activity(&bob.get("/account").await);
    for shown in [
        "Signed in",
        "Authenticator app set up",
        "Failed sign-in attempt",
        "198.51.100.7",
        "Password changed",
        "Signed out everywhere",
        "an administrator",
        "someone",
        "you",
    ] {
        assert!(card.contains(shown), "{shown} in: {card}");
    }
    // Newest first.
    let newest = card.find("Signed in").unwrap();
    assert!(newest < card.find("Password changed").unwrap());
    // Never another user's events, the admin's address or the internal detail.
    for hidden in [
        "ann@example.com",
        "192.0.2.99",
        "wrong password",
        "sessions revoked",
        "bob@example.com",
    ] {
        assert!(!card.contains(hidden), "{hidden} must not be in: {card}");
    }

    // Ann's own list has her failure, not Bob's events.
    let card = activity(&ann.get("/account").await);
    assert!(card.contains("192.0.2.99"), "{card}");
    assert!(!card.contains("198.51.100.7") && !card.contains("Password changed"));
}

#[actix_web::test]
async fn a_portal_account_lists_only_its_own_realms_events() {
    let (app, _fake) = portals().await;
    let (mut pat, _) = onboarded(&app, "acme", "pat@acme.test", "pats long password").await;
    // A staff user with the same address, whose failures are in the staff realm.
    let (mut staff_pat, _) = staff(&app, "pat@acme.test").await;
    let mut stranger = app.browser();
    stranger.ip = "198.51.100.7".parse().unwrap();
    stranger
        .sign_in(&app, "pat@acme.test", "not the password", None)
        .await;
    let staff_card = activity(&staff_pat.get("/account").await);
    assert!(staff_card.contains("198.51.100.7"), "{staff_card}");

    let card = activity(&pat.get("/p/acme/account").await);
    assert!(card.contains("Invitation accepted"), "{card}");
    assert!(card.contains("Signed in") || card.contains("Authenticator app set up"));
    assert!(
        !card.contains("Failed sign-in attempt") && !card.contains("198.51.100.7"),
        "another realm's events stay out: {card}"
    );
}
