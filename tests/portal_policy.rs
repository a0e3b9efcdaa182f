//! Each client's switches apply to its own portal only, enforced by the server.

use actix_web::http::StatusCode;

use crate::common::portal::{TA, invite, member, onboarded, portal_sso, portals, realm};
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;

async fn update(app: &crate::common::TestApp, slug: &str, update: ClientUpdate) {
    app.services
        .update_client(AdminActor::cli(), slug.into(), update)
        .await
        .unwrap();
}

#[actix_web::test]
async fn sso_only_for_a_refuses_every_password_path_for_a_while_b_keeps_passwords() {
    let (app, fake) = portals().await;
    let (mut alice, alice_secret) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    let alice_secret = alice_secret.unwrap();
    let (mut bob, bob_secret) =
        onboarded(&app, "beta", "bob@beta.example", "bobs long password").await;
    let pending_invite = invite(&app, "acme", "late@acme.example").await;

    let revoked = app
        .services
        .set_client_sso_only(AdminActor::cli(), "acme".into(), true)
        .await
        .unwrap();
    assert!(revoked >= 1);
    assert_eq!(
        alice.get("/p/acme/account").await.status,
        StatusCode::SEE_OTHER,
        "Alice's password session ended"
    );
    assert_eq!(
        bob.get("/p/beta/account").await.status,
        StatusCode::OK,
        "B untouched"
    );

    let mut visitor = app.browser();
    let login = visitor.get("/p/acme/login").await;
    assert!(!login.has("name=\"password\"") && login.has("Sign in with Microsoft"));
    assert!(
        !login.has("Emergency access"),
        "no break-glass for portal users"
    );
    let login = visitor.get("/p/acme/login?emergency=1").await;
    assert!(
        !login.has("name=\"password\""),
        "no emergency form in portals either"
    );
    // Direct POSTs, with a CSRF token from another page.
    visitor.get("/p/beta/login").await;
    app.next_step();
    let page = visitor
        .post(
            "/p/acme/login",
            &[
                ("email", "alice@acme.example"),
                ("password", "alices long password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(visitor.cookie("gh_session_p_acme").is_none());
    let page = visitor
        .post(
            &pending_invite,
            &[
                ("password", "lates long password"),
                ("password_confirm", "lates long password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = visitor
        .post(
            "/p/acme/login/mfa",
            &[("code", &app.code(&alice_secret, 0))],
        )
        .await;
    assert!(
        page.location().starts_with("/p/acme/login"),
        "no pending step to complete"
    );

    // B still signs in with password + TOTP.
    bob.post("/p/beta/logout", &[]).await;
    let page = bob
        .sign_in_at(
            "/p/beta",
            &app,
            "bob@beta.example",
            "bobs long password",
            bob_secret.as_deref(),
        )
        .await;
    assert_eq!(page.location(), "/p/beta/account");

    // Alice signs in with Microsoft (linking needs an invitation or a link; use JIT).
    update(
        &app,
        "acme",
        ClientUpdate {
            jit: Some(true),
            ..Default::default()
        },
    )
    .await;
    let mut carol = app.browser();
    let page = portal_sso(
        &mut carol,
        &fake,
        "acme",
        member(TA, "oid-c", "carol@acme.example"),
    )
    .await;
    assert_eq!(page.location(), "/p/acme/account");

    // Turning it off restores passwords.
    app.services
        .set_client_sso_only(AdminActor::cli(), "acme".into(), false)
        .await
        .unwrap();
    app.next_step();
    let page = alice
        .sign_in_at(
            "/p/acme",
            &app,
            "alice@acme.example",
            "alices long password",
            Some(&alice_secret),
        )
        .await;
    assert_eq!(page.location(), "/p/acme/account");
}

#[actix_web::test]
async fn mfa_not_required_for_b_while_a_still_requires_it() {
    let (app, _fake) = portals().await;
    update(
        &app,
        "beta",
        ClientUpdate {
            mfa_required: Some(false),
            ..Default::default()
        },
    )
    .await;
    let (mut bob, secret) = onboarded(&app, "beta", "bob@beta.example", "bobs long password").await;
    assert!(secret.is_none(), "no enrolment for B");
    assert_eq!(bob.get("/p/beta/account").await.status, StatusCode::OK);
    bob.post("/p/beta/logout", &[]).await;
    let page = bob
        .sign_in_at(
            "/p/beta",
            &app,
            "bob@beta.example",
            "bobs long password",
            None,
        )
        .await;
    assert_eq!(
        page.location(),
        "/p/beta/account",
        "straight in with the password"
    );

    let (_, secret) = onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    assert!(secret.is_some(), "A still enrols TOTP");
    let mut alice = app.browser();
    let page = alice
        .sign_in_at(
            "/p/acme",
            &app,
            "alice@acme.example",
            "alices long password",
            None,
        )
        .await;
    assert_eq!(page.location(), "/p/acme/login/mfa");
}

#[actix_web::test]
async fn jit_creates_users_only_for_allowed_domains() {
    let (app, fake) = portals().await;
    update(
        &app,
        "acme",
        ClientUpdate {
            jit: Some(true),
            allowed_domains: Some("acme.example".into()),
            ..Default::default()
        },
    )
    .await;
    let mut in_domain = app.browser();
    let page = portal_sso(
        &mut in_domain,
        &fake,
        "acme",
        member(TA, "oid-1", "new@acme.example"),
    )
    .await;
    assert_eq!(page.location(), "/p/acme/account");
    let mut out_of_domain = app.browser();
    let page = portal_sso(
        &mut out_of_domain,
        &fake,
        "acme",
        member(TA, "oid-2", "contractor@elsewhere.example"),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let emails: Vec<String> = app
        .services
        .list_users(realm(&app, "acme"))
        .unwrap()
        .into_iter()
        .map(|u| u.email.to_string())
        .collect();
    assert_eq!(emails, ["new@acme.example"]);
}

#[actix_web::test]
async fn guests_sign_in_only_when_allowed() {
    let (app, fake) = portals().await;
    update(
        &app,
        "acme",
        ClientUpdate {
            jit: Some(true),
            ..Default::default()
        },
    )
    .await;
    let mut guest = member(TA, "oid-g", "guest@partner.example");
    guest.idp = Some("https://sts.windows.net/dddddddd-0000-4000-8000-00000000000d/".into());
    let mut browser = app.browser();
    let page = portal_sso(&mut browser, &fake, "acme", guest.clone()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(browser.cookie("gh_session_p_acme").is_none());
    update(
        &app,
        "acme",
        ClientUpdate {
            allow_guests: Some(true),
            ..Default::default()
        },
    )
    .await;
    let page = portal_sso(&mut browser, &fake, "acme", guest).await;
    assert_eq!(page.location(), "/p/acme/account", "{}", page.body);
}

#[actix_web::test]
async fn a_clients_session_lifetime_override_applies_to_its_portal_only() {
    let (app, _fake) = portals().await;
    update(
        &app,
        "beta",
        ClientUpdate {
            mfa_required: Some(false),
            idle_timeout_secs: Some(Some(5 * 60)),
            ..Default::default()
        },
    )
    .await;
    let (mut bob, _) = onboarded(&app, "beta", "bob@beta.example", "bobs long password").await;
    let (mut alice, _) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    app.clock.advance(6 * 60);
    assert_eq!(
        bob.get("/p/beta/account").await.status,
        StatusCode::SEE_OTHER,
        "B's 5-minute idle limit"
    );
    assert_eq!(
        alice.get("/p/acme/account").await.status,
        StatusCode::OK,
        "A keeps the default 30 minutes"
    );
}
