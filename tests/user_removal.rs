//! Admin recovery in the console (issue 14, point 4): removing staff and portal users
//! and correcting their email address, from the user pages. A removed user's live
//! session is refused at the very next request (forward-auth included), their open
//! invitation dies, the address can be invited again, and the audit keeps the event.

use actix_web::http::StatusCode;

use crate::common::forward_auth::check;
use crate::common::portal::{invite, onboarded, portals, realm};
use crate::common::{Browser, TestApp};
use gatehouse::domain::audit::{Actor, AuditKind};
use gatehouse::domain::session::STEP_UP_WINDOW_SECS;
use gatehouse::domain::user::{Realm, UserId};
use gatehouse::service::ServiceError;

const STAFF: &str = "/api/authz/auth-request";
const ACME: &str = "/api/authz/auth-request?client=acme";
const PASSWORD: &str = "correct horse battery";

async fn status(browser: &mut Browser, path: &str) -> StatusCode {
    check(browser, path, &[]).await.status
}

/// A staff admin with an authenticator, signed in; returns the browser and secret.
async fn staff(app: &TestApp, email: &str) -> (Browser, String) {
    app.create_admin(email, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(app, email, PASSWORD, None).await;
    let (secret, _) = b.enrol(app).await;
    (b, secret)
}

fn id_of(app: &TestApp, realm: Realm, email: &str) -> UserId {
    app.services.user_by_email(realm, email).unwrap().id
}

fn removals(app: &TestApp) -> usize {
    app.services
        .audit_log(1000, None)
        .unwrap()
        .iter()
        .filter(|(_, e)| e.kind == AuditKind::UserRemoved)
        .count()
}

#[actix_web::test]
async fn removing_a_staff_user_ends_their_session_at_once_and_frees_the_address() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    let (mut bob, _) = staff(&app, "bob@example.com").await;
    assert_eq!(status(&mut bob, STAFF).await, StatusCode::OK);
    let bob_id = id_of(&app, Realm::Staff, "bob@example.com");
    let user_page = format!("/admin/users/{bob_id}");
    let page = ann.get(&user_page).await;
    assert!(page.has("Remove user") && page.has("Change email"));

    // Without ticking the box nothing happens.
    let page = ann.post(&format!("{user_page}/remove"), &[]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("Tick the box"));
    assert_eq!(status(&mut bob, STAFF).await, StatusCode::OK);

    let page = ann
        .post(&format!("{user_page}/remove"), &[("confirm", "yes")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "POST-redirect-GET");
    assert!(page.location().starts_with("/admin/users?done="));
    let list = ann.follow(&page).await;
    assert!(list.has("Removed bob@example.com"), "{}", list.body);

    // Bob's live session is refused on the very next request, forward-auth included.
    assert_eq!(status(&mut bob, STAFF).await, StatusCode::UNAUTHORIZED);
    assert_eq!(bob.get("/account").await.status, StatusCode::SEE_OTHER);
    assert!(matches!(
        app.services.user_by_id(bob_id),
        Err(ServiceError::NotFound(_))
    ));
    assert_eq!(ann.get(&user_page).await.status, StatusCode::NOT_FOUND);
    // The audit keeps the event, by Ann, about Bob.
    let (_, event) = app.services.audit_log(1, None).unwrap().remove(0);
    assert_eq!(event.kind, AuditKind::UserRemoved);
    assert_eq!(event.subject, Some(bob_id));
    assert_eq!(event.subject_email, "bob@example.com");
    assert!(matches!(event.actor, Actor::User(_)));
    assert_eq!(event.actor_email, "ann@example.com");

    // Reloading the result page repeats nothing.
    let again = ann.get(page.location()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        !again.has("Removed bob@example.com"),
        "the notice is shown once"
    );
    assert_eq!(removals(&app), 1);

    // The address can be invited again, and that invitation works.
    let page = ann
        .submit(
            "/admin/users",
            &[("email", "Bob@Example.com"), ("role", "member")],
        )
        .await;
    let link = page.input_value("invite-link").expect("a new invitation");
    let mut new_bob = app.browser();
    let path = link.trim_start_matches("http://localhost:8080");
    assert_eq!(new_bob.get(path).await.status, StatusCode::OK);
    assert_ne!(id_of(&app, Realm::Staff, "bob@example.com"), bob_id);
}

#[actix_web::test]
async fn an_admin_cannot_remove_themselves_and_the_step_up_gate_applies() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    let (_bob, _) = staff(&app, "bob@example.com").await;
    let ann_id = id_of(&app, Realm::Staff, "ann@example.com");
    let bob_id = id_of(&app, Realm::Staff, "bob@example.com");
    ann.get(&format!("/admin/users/{ann_id}")).await;
    let page = ann
        .post(
            &format!("/admin/users/{ann_id}/remove"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.has("cannot remove your own account"), "{}", page.body);
    assert!(app.services.user_by_id(ann_id).is_ok());

    // After the step-up window the form leads to the confirmation, removing nothing.
    app.clock.advance(STEP_UP_WINDOW_SECS + 1);
    let page = ann
        .post(
            &format!("/admin/users/{bob_id}/remove"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/admin/confirm?next="));
    assert!(app.services.user_by_id(bob_id).is_ok());
    assert_eq!(removals(&app), 0);
}

#[actix_web::test]
async fn removing_a_portal_user_ends_their_session_and_kills_open_invitations() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    let (mut pat, _) = onboarded(&app, "acme", "pat@acme.test", "pats long password").await;
    assert_eq!(status(&mut pat, ACME).await, StatusCode::OK);
    let acme = realm(&app, "acme");
    let pat_id = id_of(&app, acme, "pat@acme.test");

    // A portal user is not reachable under the staff pages.
    ann.get("/admin/users").await;
    let page = ann
        .post(
            &format!("/admin/users/{pat_id}/remove"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let base = "/admin/clients/acme/users";
    ann.get(&format!("{base}/{pat_id}")).await;
    let page = ann
        .submit(&format!("{base}/{pat_id}/remove"), &[("confirm", "yes")])
        .await;
    assert!(page.has("Removed pat@acme.test"), "{}", page.body);
    assert_eq!(status(&mut pat, ACME).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        pat.get("/p/acme/account").await.status,
        StatusCode::SEE_OTHER
    );

    // An invited user's link dies with them.
    let path = invite(&app, "acme", "quinn@acme.test").await;
    let quinn_id = id_of(&app, acme, "quinn@acme.test");
    let mut quinn = app.browser();
    assert_eq!(quinn.get(&path).await.status, StatusCode::OK);
    ann.submit(&format!("{base}/{quinn_id}/remove"), &[("confirm", "yes")])
        .await;
    assert_eq!(quinn.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(removals(&app), 2);
}

#[actix_web::test]
async fn an_admin_changes_an_email_and_a_taken_address_is_refused() {
    let (app, _fake) = portals().await;
    let (mut ann, _) = staff(&app, "ann@example.com").await;
    let (mut bob, bob_secret) = staff(&app, "bob@example.com").await;
    let (_pat, _) = onboarded(&app, "acme", "pat@acme.test", "pats long password").await;
    let bob_id = id_of(&app, Realm::Staff, "bob@example.com");
    let user_page = format!("/admin/users/{bob_id}");
    ann.get(&user_page).await;

    // Taken in the realm (compared without case): refused clearly, nothing changes.
    let page = ann
        .post(
            &format!("{user_page}/set-email"),
            &[("new_email", "ANN@example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.has("already has the address"), "{}", page.body);
    let page = ann
        .post(
            &format!("{user_page}/set-email"),
            &[("new_email", "bob at example")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.services.user_by_id(bob_id).unwrap().email.as_str(),
        "bob@example.com"
    );

    // Another realm's address is no clash.
    let page = ann
        .post(
            &format!("{user_page}/set-email"),
            &[("new_email", "Pat@Acme.test")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = ann.follow(&page).await;
    assert!(page.has("Email changed to pat@acme.test"), "{}", page.body);
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert_eq!(event.kind, AuditKind::EmailChanged);
    assert_eq!(event.subject, Some(bob_id));

    // Bob signs in with the new address (still with his authenticator), not the old.
    bob.post("/logout", &[]).await;
    app.next_step();
    let old = bob.sign_in(&app, "bob@example.com", PASSWORD, None).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = bob
        .sign_in(&app, "pat@acme.test", PASSWORD, Some(&bob_secret))
        .await;
    assert_eq!(new.location(), "/account");
}

#[actix_web::test]
async fn a_removed_users_microsoft_account_no_longer_signs_in_until_invited_again() {
    use crate::common::sso::{app_with_entra, configure_staff_sso, sso_sign_in, user};
    use gatehouse::domain::user::Role;
    use gatehouse::service::admin::AdminActor;

    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let invite = |app: &TestApp| {
        let services = app.services.clone();
        async move {
            services
                .invite(
                    AdminActor::cli(),
                    Realm::Staff,
                    "bob@contoso.com".into(),
                    "Bob".into(),
                    Role::Member,
                )
                .await
                .unwrap()
                .user
                .id
        }
    };
    let first = invite(&app).await;
    let mut bob = app.browser();
    let page = sso_sign_in(&mut bob, &fake, user("oid-bob", "bob@contoso.com")).await;
    assert_eq!(page.location(), "/account", "linked on first sign-in");
    assert_eq!(status(&mut bob, STAFF).await, StatusCode::OK);

    let removed = app
        .services
        .remove_user(AdminActor::cli(), first)
        .await
        .unwrap();
    assert_eq!(removed.sessions_ended, 1);
    assert_eq!(removed.user.sso_links.len(), 1);
    assert_eq!(status(&mut bob, STAFF).await, StatusCode::UNAUTHORIZED);

    // The same Microsoft account is a stranger now (no just-in-time accounts here).
    let mut again = app.browser();
    let page = sso_sign_in(&mut again, &fake, user("oid-bob", "bob@contoso.com")).await;
    assert!(
        page.has("not registered here"),
        "{} {}",
        page.status,
        page.body
    );
    assert!(
        app.services
            .user_by_email(Realm::Staff, "bob@contoso.com")
            .is_err()
    );

    // Invited again, it links to the new user, not the old one.
    let second = invite(&app).await;
    assert_ne!(second, first);
    let mut bob = app.browser();
    let page = sso_sign_in(&mut bob, &fake, user("oid-bob", "bob@contoso.com")).await;
    assert_eq!(page.location(), "/account");
    let new_bob = app.services.user_by_id(second).unwrap();
    assert_eq!(new_bob.sso_links.len(), 1);
}
