//! Every way a Microsoft sign-in can be forged, replayed or broken ends with no
//! session, a clear page and an audit event.

use actix_web::http::StatusCode;

use crate::common::fake_entra::Hostile;
use crate::common::sso::{
    app_with_entra, configure_staff_sso, sso_sign_in, start_and_authorize, user,
};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::{Realm, Role};
use gatehouse::service::admin::AdminActor;

async fn last_event(app: &crate::common::TestApp) -> gatehouse::domain::audit::AuditEvent {
    app.services.audit_log(1, None).unwrap().remove(0).1
}

#[actix_web::test]
async fn hostile_tokens_are_refused() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    let cases = [
        (Hostile::BadSignature, "signature"),
        (Hostile::AlgNone, ""),
        (Hostile::Hs256WithClientSecret, ""),
        (Hostile::IssPlusOne, "issuer"),
        (Hostile::AudPlusOne, "audience"),
        (Hostile::ExtraAudienceWithoutAzp, "azp"),
        (Hostile::Expired, "expired"),
        (Hostile::NotYetValid, "nbf"),
        (Hostile::IssuedADayAgo, "iat"),
        (Hostile::WrongNonce, "nonce"),
        (Hostile::MissingNonce, "nonce"),
        (Hostile::WrongTid, "tid"),
        (Hostile::ConsumerTenant, ""),
        (Hostile::EmbeddedJwk, "key"),
        (Hostile::UnknownKid, "key"),
    ];
    for (i, (hostile, reason)) in cases.into_iter().enumerate() {
        // Keep each unknown-key case from being rate-limited by the previous one.
        crate::common::sso::advance(&app, &fake, 120);
        let mut browser = app.browser();
        fake.hostile(hostile);
        let page = sso_sign_in(
            &mut browser,
            &fake,
            user(&format!("oid-{i}"), &format!("u{i}@contoso.com")),
        )
        .await;
        assert_ne!(
            page.status,
            StatusCode::SEE_OTHER,
            "{hostile:?} must not sign in"
        );
        assert!(
            page.status.is_client_error(),
            "{hostile:?}: {}",
            page.status
        );
        assert!(browser.session().is_none(), "{hostile:?}: no session");
        assert!(
            app.services
                .user_by_email(Realm::Staff, &format!("u{i}@contoso.com"))
                .is_err(),
            "{hostile:?}: nobody created"
        );
        let event = last_event(&app).await;
        assert_eq!(event.kind, AuditKind::SsoFailed, "{hostile:?}");
        assert!(
            event.detail.to_lowercase().contains(reason),
            "{hostile:?}: audit detail {:?} mentions {reason}",
            event.detail
        );
    }
    // A valid token with an extra audience and azp = our client is fine.
    fake.hostile(Hostile::ExtraAudienceWithAzp);
    let mut browser = app.browser();
    let page = sso_sign_in(&mut browser, &fake, user("oid-ok", "ok@contoso.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
}

#[actix_web::test]
async fn a_rotated_signing_key_is_accepted_after_one_refetch() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    let mut browser = app.browser();
    sso_sign_in(&mut browser, &fake, user("oid-r", "r@contoso.com")).await;
    let fetches = fake.jwks_fetches();
    fake.rotate_key();
    let mut browser = app.browser();
    let page = sso_sign_in(&mut browser, &fake, user("oid-r", "r@contoso.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    assert_eq!(fake.jwks_fetches(), fetches + 1, "exactly one re-fetch");
    // Further sign-ins use the cached new key.
    let mut browser = app.browser();
    sso_sign_in(&mut browser, &fake, user("oid-r", "r@contoso.com")).await;
    assert_eq!(fake.jwks_fetches(), fetches + 1);
}

#[actix_web::test]
async fn unknown_key_refetches_are_rate_limited() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    let fetches = fake.jwks_fetches();
    for _ in 0..3 {
        fake.hostile(Hostile::UnknownKid);
        let mut browser = app.browser();
        sso_sign_in(&mut browser, &fake, user("oid-k", "k@contoso.com")).await;
    }
    assert!(
        fake.jwks_fetches() <= fetches + 2,
        "at most one re-fetch per minute (discovery may re-read once)"
    );
}

#[actix_web::test]
async fn state_must_be_present_genuine_unused_and_from_this_browser() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    fake.next_login(user("oid-s", "s@contoso.com"));
    let mut browser = app.browser();
    let callback = start_and_authorize(&mut browser, "/login/sso").await;
    let (path, query) = callback.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let code = pairs.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    let state = pairs.iter().find(|(k, _)| k == "state").unwrap().1.clone();

    // Missing state.
    let page = browser.get(&format!("{path}?code={code}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    // Altered state.
    let mut altered = state.clone();
    altered.replace_range(0..1, if altered.starts_with('A') { "B" } else { "A" });
    let page = browser
        .get(&format!("{path}?code={code}&state={altered}"))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    // Another browser (no binding cookie) presenting the real callback.
    let mut thief = app.browser();
    let page = thief.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(thief.session().is_none());
    // The theft consumed the transaction: the real browser must start again.
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.has("already used") || page.has("not valid"),
        "{}",
        page.body
    );
    assert!(browser.session().is_none());
    let failures = app
        .services
        .audit_log(10, None)
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.kind == AuditKind::SsoFailed)
        .count();
    assert_eq!(failures, 4, "every refusal audited");
}

#[actix_web::test]
async fn a_callback_works_only_once() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    fake.next_login(user("oid-once", "once@contoso.com"));
    let mut browser = app.browser();
    let callback = start_and_authorize(&mut browser, "/login/sso").await;
    let first = browser.get(&callback).await;
    assert_eq!(first.location(), "/account", "{}", first.body);
    let session = browser.session().unwrap();
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(browser.session().unwrap(), session, "no second session");
}

#[actix_web::test]
async fn an_expired_transaction_says_try_again() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    fake.next_login(user("oid-e", "e@contoso.com"));
    let mut browser = app.browser();
    let callback = start_and_authorize(&mut browser, "/login/sso").await;
    crate::common::sso::advance(&app, &fake, 11 * 60);
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.has("Sign-in expired") && page.has("try again"),
        "{}",
        page.body
    );
    assert!(browser.session().is_none());
}

#[actix_web::test]
async fn microsoft_errors_are_shown_escaped() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    fake.next_error(
        "access_denied",
        "AADSTS65004: User declined <script>alert(1)</script>",
    );
    let mut browser = app.browser();
    let callback = start_and_authorize(&mut browser, "/login/sso").await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.has("User declined"), "{}", page.body);
    assert!(!page.has("<script>alert(1)"), "description is HTML-escaped");
    assert!(page.has("&lt;script&gt;"));
    assert_eq!(last_event(&app).await.kind, AuditKind::SsoFailed);
}

#[actix_web::test]
async fn redirects_from_the_authority_are_never_followed() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    // Clear the cached discovery so the next sign-in talks to the authority again.
    app.services.entra().forget();
    fake.redirect_everything_to(Some("http://127.0.0.1:9/evil"));
    let mut browser = app.browser();
    let page = browser.get("/login/sso").await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY);
    assert!(page.has("Microsoft is not answering"));
    let test = app
        .services
        .test_staff_sso(AdminActor::cli())
        .await
        .unwrap();
    assert!(!test.passed);
    assert!(
        test.items[0].detail.contains("redirect"),
        "{:?}",
        test.items
    );
}

#[actix_web::test]
async fn an_unreachable_authority_gives_a_clear_page() {
    let port = crate::common::binary::free_port();
    let config = crate::common::config_with(&format!(
        "[entra]\nauthority_host = 'http://127.0.0.1:{port}'\nallow_insecure_loopback = true\n"
    ));
    let app = crate::common::TestApp::with_config(config).await;
    app.services
        .update_staff_sso(
            AdminActor::cli(),
            gatehouse::service::sso::admin::SsoUpdate {
                tenant: Some(crate::common::sso::TENANT.into()),
                client_id: Some(crate::common::sso::CLIENT_ID.into()),
                client_secret: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.services
        .set_staff_sso_enabled(AdminActor::cli(), true)
        .await
        .unwrap();
    let mut browser = app.browser();
    let page = browser.get("/login/sso").await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY, "{}", page.body);
    assert!(page.has("could not be reached"));
    let test = app
        .services
        .test_staff_sso(AdminActor::cli())
        .await
        .unwrap();
    assert!(
        !test.passed && test.items[0].detail.contains("could not be reached"),
        "{:?}",
        test.items
    );
    let _ = Role::Member;
}

#[actix_web::test]
async fn a_token_of_another_kind_is_not_a_state_and_is_not_consumed() {
    let (app, _fake) = app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    let invitation = app
        .services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "inv@contoso.com".into(),
            "Inv".into(),
            Role::Member,
        )
        .await
        .unwrap();
    let path = invitation
        .link
        .trim_start_matches("http://localhost:8080")
        .to_owned();
    let token = path.rsplit('/').next().unwrap();
    let mut browser = app.browser();
    let page = browser
        .get(&format!("/sso/callback?code=x&state={token}"))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        browser.get(&path).await.status,
        StatusCode::OK,
        "the invitation still works"
    );
}
