//! A user of one client never reaches another client's portal or the staff side, by
//! any path: cookies, sessions, tokens, invitations.

use actix_web::http::StatusCode;

use crate::common::portal::{TA, TB, invite, member, onboarded, portal_sso, portals, realm};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::UserStatus;

#[actix_web::test]
async fn a_users_sign_in_by_password_and_totp_and_by_microsoft() {
    let (app, fake) = portals().await;
    let (mut alice, secret) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    let secret = secret.expect("MFA is required by default");
    let page = alice.get("/p/acme/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("Acme") && page.has("alice@acme.example"),
        "branded with the client's name"
    );
    alice.post("/p/acme/logout", &[]).await;
    app.next_step();
    let page = alice
        .sign_in_at(
            "/p/acme",
            &app,
            "alice@acme.example",
            "alices long password",
            Some(&secret),
        )
        .await;
    assert_eq!(page.location(), "/p/acme/account");
    assert!(
        alice.cookie("gh_session_p_acme").is_some(),
        "a per-client cookie"
    );
    assert!(alice.session().is_none(), "no staff cookie");

    // Carol is invited and signs in with her Microsoft account from tenant A.
    invite(&app, "acme", "carol@acme.example").await;
    let mut carol = app.browser();
    let login = carol.get("/p/acme/login").await;
    assert!(login.has("Sign in with Microsoft") && login.has("/p/acme/login/sso"));
    let page = portal_sso(
        &mut carol,
        &fake,
        "acme",
        member(TA, "oid-carol", "carol@acme.example"),
    )
    .await;
    assert_eq!(page.location(), "/p/acme/account", "{}", page.body);
    assert_eq!(carol.get("/p/acme/account").await.status, StatusCode::OK);
    let query = fake.last_authorize_query().unwrap();
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "client_id" && v == crate::common::portal::PORTAL_ID)
    );
    let carol_user = app
        .services
        .user_by_email(realm(&app, "acme"), "carol@acme.example")
        .unwrap();
    assert_eq!(carol_user.status, UserStatus::Active);
    assert_eq!(carol_user.sso_links[0].tenant, TA);
}

#[actix_web::test]
async fn a_valid_token_from_tenant_b_is_refused_in_as_flow() {
    let (app, fake) = portals().await;
    app.services
        .update_client(
            gatehouse::service::admin::AdminActor::cli(),
            "acme".into(),
            gatehouse::service::clients::ClientUpdate {
                jit: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut browser = app.browser();
    let page = portal_sso(
        &mut browser,
        &fake,
        "acme",
        member(TB, "oid-intruder", "intruder@beta.example"),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(browser.cookie("gh_session_p_acme").is_none());
    assert!(
        app.services
            .list_users(realm(&app, "acme"))
            .unwrap()
            .is_empty(),
        "nobody provisioned"
    );
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert_eq!(event.kind, AuditKind::SsoFailed);
    assert!(event.detail.contains("tid"), "{}", event.detail);
}

#[actix_web::test]
async fn an_a_session_gets_nothing_elsewhere() {
    let (app, _fake) = portals().await;
    let (mut alice, _) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    let token = alice.cookie("gh_session_p_acme").unwrap();
    for (path, login) in [
        ("/p/beta/account", "/p/beta/login"),
        ("/account", "/login"),
        ("/admin", "/login"),
        ("/admin/clients", "/login"),
    ] {
        let page = alice.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.location().starts_with(login),
            "{path} → {}",
            page.location()
        );
    }
    // Even A's session id placed in B's or the staff cookie grants nothing.
    for cookie in ["gh_session_p_beta", "gh_session"] {
        let mut forger = app.browser();
        forger.cookies.insert(cookie.into(), token.clone());
        for path in ["/p/beta/account", "/account", "/admin"] {
            assert_eq!(
                forger.get(path).await.status,
                StatusCode::SEE_OTHER,
                "{cookie} at {path}"
            );
        }
    }
    assert_eq!(
        alice.get("/p/acme/account").await.status,
        StatusCode::OK,
        "still fine at home"
    );
}

#[actix_web::test]
async fn a_staff_session_gets_nothing_in_a_portal() {
    let (app, _fake) = portals().await;
    app.create_admin("ops@example.com", "a long passphrase")
        .await;
    let mut ops = app.browser();
    ops.sign_in(&app, "ops@example.com", "a long passphrase", None)
        .await;
    ops.enrol(&app).await;
    assert_eq!(ops.get("/admin").await.status, StatusCode::OK);
    let staff_token = ops.session().unwrap();
    let page = ops.get("/p/acme/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/p/acme/login"));
    let mut forger = app.browser();
    forger
        .cookies
        .insert("gh_session_p_acme".into(), staff_token);
    assert_eq!(
        forger.get("/p/acme/account").await.status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn an_a_invitation_is_refused_at_b_and_at_staff() {
    let (app, _fake) = portals().await;
    let path = invite(&app, "acme", "dave@acme.example").await;
    let token = path.rsplit('/').next().unwrap().to_owned();
    let mut browser = app.browser();
    for other in [
        format!("/p/beta/invite/{token}"),
        format!("/invite/{token}"),
    ] {
        assert_eq!(
            browser.get(&other).await.status,
            StatusCode::NOT_FOUND,
            "{other}"
        );
        browser.get("/login").await;
        let page = browser
            .post(
                &other,
                &[
                    ("password", "daves long password"),
                    ("password_confirm", "daves long password"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{other}");
    }
    assert!(
        app.services
            .user_by_email(realm(&app, "beta"), "dave@acme.example")
            .is_err()
    );
    assert_eq!(
        browser.get(&path).await.status,
        StatusCode::OK,
        "still valid where it belongs"
    );
}

#[actix_web::test]
async fn unknown_slugs_are_404() {
    let (app, _fake) = portals().await;
    let mut browser = app.browser();
    for path in [
        "/p/nope/login",
        "/p/nope/account",
        "/p/nope/login/sso",
        "/p/x/brand.css",
        "/p/ACME/login",
    ] {
        assert_eq!(
            browser.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
