//! Who a generic provider's sign-in is (DESIGN §2, §10): identities keyed by
//! (iss, sub) per provider, never linked by email across providers or without
//! `email_verified = true`; just-in-time by domain; portals; and `require_mfa`
//! proven by the token — `amr`/`acr` for `oidc`, the authentication context in `acrs`
//! (requested through the `claims` parameter) for Entra.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::fake_entra::IssuerOptions;
use crate::common::idp::{
    OIDC_CLIENT, OIDC_SECRET, add_provider, app_with_issuers, person, sign_in_via,
};
use crate::common::sso::{configure_staff_sso, sso_sign_in, user};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::{Realm, Role, UserStatus};
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::providers::ProviderInput;

fn jit(domains: &str) -> ProviderInput {
    ProviderInput {
        jit: Some(true),
        allowed_domains: Some(domains.into()),
        ..ProviderInput::default()
    }
}

async fn last_detail(app: &crate::common::TestApp) -> (AuditKind, String) {
    let e = app.services.audit_log(1, None).unwrap().remove(0).1;
    (e.kind, e.detail)
}

#[actix_web::test]
async fn two_providers_with_the_same_sub_are_two_identities() {
    let (app, fake) = app_with_issuers().await;
    add_provider(&app, &fake, Realm::Staff, "okta", "okta", jit("")).await;
    add_provider(&app, &fake, Realm::Staff, "kc", "keycloak", jit("")).await;
    let mut a = app.browser();
    let page = sign_in_via(
        &mut a,
        &fake,
        "/login/sso/okta",
        person("same-sub", "a@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account");
    let mut b = app.browser();
    let page = sign_in_via(
        &mut b,
        &fake,
        "/login/sso/kc",
        person("same-sub", "b@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    let ua = app
        .services
        .user_by_email(Realm::Staff, "a@example.com")
        .unwrap();
    let ub = app
        .services
        .user_by_email(Realm::Staff, "b@example.com")
        .unwrap();
    assert_ne!(ua.id, ub.id);
    assert_eq!(ua.sso_links[0].tenant, fake.generic_issuer("okta"));
    assert_eq!(ub.sso_links[0].tenant, fake.generic_issuer("keycloak"));
}

#[actix_web::test]
async fn the_same_email_from_a_second_provider_never_links() {
    let (app, fake) = app_with_issuers().await;
    add_provider(&app, &fake, Realm::Staff, "okta", "okta", jit("")).await;
    add_provider(&app, &fake, Realm::Staff, "kc", "keycloak", jit("")).await;
    let mut a = app.browser();
    let page = sign_in_via(
        &mut a,
        &fake,
        "/login/sso/okta",
        person("ann-okta", "ann@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account");
    // Someone at the second provider with the same (verified) address.
    let mut b = app.browser();
    let page = sign_in_via(
        &mut b,
        &fake,
        "/login/sso/kc",
        person("ann-kc", "ann@example.com"),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.has("Not registered here"));
    assert!(b.session().is_none());
    let ann = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    assert_eq!(ann.sso_links.len(), 1, "still only the first provider");
    let (kind, detail) = last_detail(&app).await;
    assert_eq!(kind, AuditKind::SsoFailed);
    assert!(detail.contains("not linked"), "{detail}");
    // A password user of the same address is not linked either.
    app.services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "pat@example.com".into(),
            "Pat".into(),
            Role::Member,
        )
        .await
        .unwrap();
    // (invited users are linked on a verified sign-in: see the next test)
}

#[actix_web::test]
async fn an_unverified_email_never_links_or_provisions() {
    let (app, fake) = app_with_issuers().await;
    add_provider(&app, &fake, Realm::Staff, "okta", "okta", jit("")).await;
    app.services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "inv@example.com".into(),
            "Inv".into(),
            Role::Member,
        )
        .await
        .unwrap();
    for verified in [json!(false), json!(null)] {
        fake.claims(json!({ "email_verified": verified }));
        for (sub, email) in [("x-inv", "inv@example.com"), ("x-new", "new@example.com")] {
            let mut b = app.browser();
            let page = sign_in_via(&mut b, &fake, "/login/sso/okta", person(sub, email)).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{verified} {email}: {}",
                page.body
            );
            assert!(b.session().is_none());
        }
        let (_, detail) = last_detail(&app).await;
        assert!(detail.contains("not verified"), "{detail}");
    }
    assert!(
        app.services
            .user_by_email(Realm::Staff, "new@example.com")
            .is_err()
    );
    let inv = app
        .services
        .user_by_email(Realm::Staff, "inv@example.com")
        .unwrap();
    assert_eq!(inv.status, UserStatus::Invited);
    assert!(inv.sso_links.is_empty());
    // Verified: the invitation is taken and the new address provisioned.
    fake.claims(json!({}));
    let mut b = app.browser();
    let page = sign_in_via(
        &mut b,
        &fake,
        "/login/sso/okta",
        person("x-inv", "inv@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    let inv = app
        .services
        .user_by_email(Realm::Staff, "inv@example.com")
        .unwrap();
    assert_eq!(inv.status, UserStatus::Active);
    // With require_verified_email off, an unverified address may provision.
    app.services
        .update_provider(
            AdminActor::cli(),
            Realm::Staff,
            "okta",
            ProviderInput {
                require_verified_email: Some(false),
                ..ProviderInput::default()
            },
        )
        .await
        .unwrap();
    fake.claims(json!({ "email_verified": false }));
    let mut b = app.browser();
    let page = sign_in_via(
        &mut b,
        &fake,
        "/login/sso/okta",
        person("x-new", "new@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
}

#[actix_web::test]
async fn just_in_time_only_for_allowed_domains() {
    let (app, fake) = app_with_issuers().await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        jit("example.com"),
    )
    .await;
    let mut b = app.browser();
    let page = sign_in_via(
        &mut b,
        &fake,
        "/login/sso/okta",
        person("o1", "out@other.org"),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        app.services
            .user_by_email(Realm::Staff, "out@other.org")
            .is_err()
    );
    let page = sign_in_via(
        &mut b,
        &fake,
        "/login/sso/okta",
        person("i1", "in@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account");
    let user = app
        .services
        .user_by_email(Realm::Staff, "in@example.com")
        .unwrap();
    assert_eq!((user.role, user.status), (Role::Member, UserStatus::Active));
    // A disabled provider offers nothing and starts nothing.
    app.services
        .set_provider_enabled(AdminActor::cli(), Realm::Staff, "okta", false)
        .await
        .unwrap();
    assert!(!app.browser().get("/login").await.has("/login/sso/okta"));
    assert_eq!(
        app.browser().get("/login/sso/okta").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_portal_signs_in_through_its_own_oidc_provider_only() {
    let (app, fake) = app_with_issuers().await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let acme = app.services.client_realm("acme").unwrap();
    add_provider(&app, &fake, acme, "okta", "okta", jit("acme.example")).await;
    let login = app.browser().get("/p/acme/login").await;
    assert!(login.has("/p/acme/login/sso/okta"), "{}", login.body);
    assert!(
        !app.browser().get("/login").await.has("/login/sso/okta"),
        "not on the staff page"
    );
    assert_eq!(
        app.browser().get("/login/sso/okta").await.status,
        StatusCode::NOT_FOUND
    );
    let mut b = app.browser();
    let page = sign_in_via(
        &mut b,
        &fake,
        "/p/acme/login/sso/okta",
        person("c1", "c@acme.example"),
    )
    .await;
    assert_eq!(page.location(), "/p/acme/account", "{}", page.body);
    assert!(app.services.user_by_email(acme, "c@acme.example").is_ok());
    assert!(
        app.services
            .user_by_email(Realm::Staff, "c@acme.example")
            .is_err()
    );
}

#[actix_web::test]
async fn require_mfa_for_oidc_needs_amr_mfa_or_a_listed_acr() {
    let (app, fake) = app_with_issuers().await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        ProviderInput {
            require_mfa: Some(true),
            mfa_acr_values: Some("urn:example:mfa".into()),
            ..jit("")
        },
    )
    .await;
    for claims in [
        json!({}),
        json!({"amr": ["pwd"]}),
        json!({"acr": "urn:example:pwd"}),
    ] {
        fake.claims(claims.clone());
        let mut b = app.browser();
        let page = sign_in_via(
            &mut b,
            &fake,
            "/login/sso/okta",
            person("m1", "m@example.com"),
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{claims}");
        assert!(
            page.has("Multi-factor authentication required"),
            "{}",
            page.body
        );
        assert!(b.session().is_none());
        assert!(
            app.services
                .user_by_email(Realm::Staff, "m@example.com")
                .is_err(),
            "nobody created"
        );
    }
    for claims in [
        json!({"amr": ["pwd", "mfa"]}),
        json!({"acr": "urn:example:mfa"}),
    ] {
        fake.claims(claims.clone());
        let mut b = app.browser();
        let page = sign_in_via(
            &mut b,
            &fake,
            "/login/sso/okta",
            person("m1", "m@example.com"),
        )
        .await;
        assert_eq!(page.location(), "/account", "{claims}: {}", page.body);
        // Apps behind forward-auth learn that MFA was proven at the provider.
        let answer =
            crate::common::forward_auth::check(&mut b, "/api/authz/auth-request", &[]).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.header("remote-auth"), Some("sso+mfa"), "{claims}");
    }
}

#[actix_web::test]
async fn require_mfa_for_entra_asks_for_the_authentication_context_and_checks_acrs() {
    let (app, fake) = crate::common::sso::app_with_entra().await;
    configure_staff_sso(&app, true, "").await;
    // Off by default: no claims parameter, and a token without acrs signs in.
    let mut b = app.browser();
    let page = sso_sign_in(&mut b, &fake, user("e0", "e0@contoso.com")).await;
    assert_eq!(page.location(), "/account");
    let q = fake.last_authorize_query().unwrap();
    assert!(!q.iter().any(|(k, _)| k == "claims"));

    app.services
        .update_provider(
            AdminActor::cli(),
            Realm::Staff,
            "microsoft",
            ProviderInput {
                require_mfa: Some(true),
                auth_context: Some("c1".into()),
                ..ProviderInput::default()
            },
        )
        .await
        .unwrap();
    let mut b = app.browser();
    let page = sso_sign_in(&mut b, &fake, user("e1", "e1@contoso.com")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.has("Multi-factor authentication required"));
    assert!(b.session().is_none());
    let q = fake.last_authorize_query().unwrap();
    let claims = q
        .iter()
        .find(|(k, _)| k == "claims")
        .map(|(_, v)| v.clone())
        .expect("claims parameter");
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(
        claims,
        json!({"id_token": {"acrs": {"essential": true, "value": "c1"}}})
    );

    fake.claims(json!({"acrs": ["c2"], "amr": ["mfa"]}));
    let mut b = app.browser();
    let page = sso_sign_in(&mut b, &fake, user("e1", "e1@contoso.com")).await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "another context (and amr) do not count"
    );

    fake.claims(json!({"acrs": ["c1"]}));
    let mut b = app.browser();
    let page = sso_sign_in(&mut b, &fake, user("e1", "e1@contoso.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    // Requiring MFA without naming the context is refused with an explanation.
    let err = app
        .services
        .update_provider(
            AdminActor::cli(),
            Realm::Staff,
            "microsoft",
            ProviderInput {
                auth_context: Some(String::new()),
                ..ProviderInput::default()
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("authentication context"), "{err}");
}

#[actix_web::test]
async fn issuer_options_default_is_standard() {
    // The helpers' defaults: basic auth, RS256 (guards the fake against drifting).
    let (_app, fake) = app_with_issuers().await;
    fake.add_issuer("plain", IssuerOptions::default());
    fake.register_app("plain", OIDC_CLIENT, OIDC_SECRET);
    let doc: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        fake.generic_issuer("plain")
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(doc["issuer"], fake.generic_issuer("plain"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
}
