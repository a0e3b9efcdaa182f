//! Staff sign-in with Microsoft: the happy paths, identity resolution, linking and
//! test sign-in, against the fake Entra.

use actix_web::http::StatusCode;

use crate::common::sso::{
    CLIENT_ID, TENANT, app_with_entra, configure_staff_sso, sso_sign_in, start_and_authorize, user,
};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::{Realm, Role, UserStatus};
use gatehouse::service::admin::AdminActor;

#[actix_web::test]
async fn an_invited_user_signs_in_and_is_linked_then_found_by_oid() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    app.services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "dana@contoso.com".into(),
            "Dana".into(),
            Role::Member,
        )
        .await
        .unwrap();

    let mut browser = app.browser();
    let login = browser.get("/login").await;
    assert!(
        login.has("Sign in with Microsoft") && login.has("/login/sso"),
        "button shown"
    );
    let page = sso_sign_in(&mut browser, &fake, user("oid-dana", "Dana@Contoso.com")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/account");
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.has("dana@contoso.com"));

    let dana = app
        .services
        .user_by_email(Realm::Staff, "dana@contoso.com")
        .unwrap();
    assert_eq!(dana.status, UserStatus::Active);
    assert_eq!(dana.sso_links.len(), 1);
    assert_eq!(
        (
            dana.sso_links[0].tenant.as_str(),
            dana.sso_links[0].subject.as_str()
        ),
        (TENANT, "oid-dana")
    );
    assert!(
        dana.totp.is_none(),
        "SSO users never get a local TOTP prompt"
    );

    // The authorize request was a proper code flow with PKCE S256.
    let query = fake.last_authorize_query().unwrap();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("response_type").as_deref(), Some("code"));
    assert_eq!(get("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
    assert!(get("code_challenge").is_some_and(|c| c.len() >= 43));
    assert_eq!(get("scope").as_deref(), Some("openid profile email"));
    assert_eq!(
        get("redirect_uri").as_deref(),
        Some("http://localhost:8080/sso/callback")
    );
    assert!(get("state").is_some() && get("nonce").is_some());
    let token = fake.last_token_request().unwrap();
    assert!(
        token.iter().any(|(k, _)| k == "code_verifier"),
        "PKCE verifier sent"
    );

    // Later the email and UPN change in Entra: the oid still finds Dana.
    browser.post("/logout", &[]).await;
    let page = sso_sign_in(
        &mut browser,
        &fake,
        user("oid-dana", "dana.renamed@contoso.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    assert_eq!(
        app.services.list_users(Realm::Staff).unwrap().len(),
        1,
        "no new user"
    );
    let events: Vec<AuditKind> = app
        .services
        .audit_log(50, None)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.kind)
        .collect();
    assert!(events.contains(&AuditKind::SsoLogin) && events.contains(&AuditKind::SsoLinked));
}

#[actix_web::test]
async fn jit_creates_members_only_for_allowed_domains() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "contoso.com").await;
    let mut browser = app.browser();
    let page = sso_sign_in(&mut browser, &fake, user("oid-new", "newbie@contoso.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    let created = app
        .services
        .user_by_email(Realm::Staff, "newbie@contoso.com")
        .unwrap();
    assert_eq!(
        (created.role, created.status),
        (Role::Member, UserStatus::Active)
    );

    let mut other = app.browser();
    let page = sso_sign_in(&mut other, &fake, user("oid-out", "outsider@fabrikam.com")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.has("not registered here"), "{}", page.body);
    assert!(other.session().is_none());
    assert!(
        app.services
            .user_by_email(Realm::Staff, "outsider@fabrikam.com")
            .is_err()
    );
}

#[actix_web::test]
async fn jit_off_refuses_unknown_users_with_a_clear_page() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let mut browser = app.browser();
    let page = sso_sign_in(&mut browser, &fake, user("oid-x", "stranger@contoso.com")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.has("not registered here") && page.has("Ask your administrator"),
        "{}",
        page.body
    );
    assert!(browser.session().is_none());
    let last = app.services.audit_log(1, None).unwrap();
    assert_eq!(last[0].1.kind, AuditKind::SsoFailed);
}

#[actix_web::test]
async fn an_active_password_user_is_not_linked_by_email() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    app.create_admin("ann@contoso.com", "correct horse battery")
        .await;
    let mut browser = app.browser();
    let page = sso_sign_in(&mut browser, &fake, user("oid-ann", "ann@contoso.com")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Told as "not registered": the page does not reveal that the account exists.
    assert!(page.has("not registered here"), "{}", page.body);
    let ann = app
        .services
        .user_by_email(Realm::Staff, "ann@contoso.com")
        .unwrap();
    assert!(
        ann.sso_links.is_empty(),
        "an existing account is linked only by its owner"
    );
}

#[actix_web::test]
async fn next_survives_the_round_trip() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    let mut browser = app.browser();
    fake.next_login(user("oid-n", "n@contoso.com"));
    let callback = start_and_authorize(&mut browser, "/login/sso?next=/account").await;
    let page = browser.get(&callback).await;
    assert_eq!(page.location(), "/account");
    browser.post("/logout", &[]).await;
    fake.next_login(user("oid-n", "n@contoso.com"));
    let callback = start_and_authorize(&mut browser, "/login/sso?next=https://evil.example/").await;
    assert_eq!(
        browser.get(&callback).await.location(),
        "/account",
        "hostile next ignored"
    );
}

#[actix_web::test]
async fn a_signed_in_user_links_and_unlinks_their_microsoft_account() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let (secret, _) = {
        app.create_admin("ann@contoso.com", "correct horse battery")
            .await;
        let mut b = app.browser();
        b.sign_in(&app, "ann@contoso.com", "correct horse battery", None)
            .await;
        b.enrol(&app).await
    };
    app.next_step();
    let mut browser = app.browser();
    browser
        .sign_in(
            &app,
            "ann@contoso.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let account = browser.get("/account").await;
    assert!(account.has("Link a Microsoft account"));

    fake.next_login(user("oid-ann", "ann@contoso.com"));
    let page = browser.post("/account/sso/link", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let callback = crate::common::sso::visit_authorize(page.location()).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    let ann = app
        .services
        .user_by_email(Realm::Staff, "ann@contoso.com")
        .unwrap();
    assert_eq!(ann.sso_links.len(), 1);

    // Now Ann can sign in with Microsoft.
    let mut other = app.browser();
    let page = sso_sign_in(&mut other, &fake, user("oid-ann", "ann@contoso.com")).await;
    assert_eq!(page.location(), "/account");

    // …and unlink it again (her password still works, so it is allowed).
    browser.get("/account").await;
    let page = browser
        .post(
            "/account/sso/unlink",
            &[("tenant", TENANT), ("subject", "oid-ann")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.services
            .user_by_email(Realm::Staff, "ann@contoso.com")
            .unwrap()
            .sso_links
            .is_empty()
    );
    let events: Vec<AuditKind> = app
        .services
        .audit_log(50, None)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.kind)
        .collect();
    assert!(events.contains(&AuditKind::SsoLinked) && events.contains(&AuditKind::SsoUnlinked));
}

#[actix_web::test]
async fn an_sso_only_user_cannot_unlink_their_last_way_in() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    let mut browser = app.browser();
    sso_sign_in(&mut browser, &fake, user("oid-j", "jit@contoso.com")).await;
    browser.get("/account").await;
    let page = browser
        .post(
            "/account/sso/unlink",
            &[("tenant", TENANT), ("subject", "oid-j")],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(
        app.services
            .user_by_email(Realm::Staff, "jit@contoso.com")
            .unwrap()
            .sso_links
            .len(),
        1
    );
}

#[actix_web::test]
async fn test_sign_in_shows_claims_without_a_session() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    app.create_admin("ann@contoso.com", "correct horse battery")
        .await;
    let mut admin = app.browser();
    admin
        .sign_in(&app, "ann@contoso.com", "correct horse battery", None)
        .await;
    admin.enrol(&app).await;
    let before = admin.session().unwrap();
    admin.get("/admin/sso").await;
    fake.next_login(user("oid-t", "tester@contoso.com"));
    let page = admin.post("/admin/sso/test-sign-in", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let callback = crate::common::sso::visit_authorize(page.location()).await;
    let page = admin.get(&callback).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for shown in [TENANT, "oid-t", "tester@contoso.com", "User oid-t"] {
        assert!(page.has(shown), "{shown} shown");
    }
    assert_eq!(admin.session().unwrap(), before, "no new session");
    assert!(
        app.services
            .user_by_email(Realm::Staff, "tester@contoso.com")
            .is_err(),
        "nobody created"
    );
}
