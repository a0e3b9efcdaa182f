//! The OpenID relying-party conformance cases that apply to a code-flow RP, against
//! the fake provider serving a generic issuer (`{base}/oidc/okta`): a valid sign-in
//! with PKCE S256, state and nonce, then every forged or broken token refused with no
//! session, nobody created and an audit event; key handling (no `kid`, rotation),
//! the discovery issuer, the algorithm allow-list and the client authentication the
//! discovery document names.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::fake_entra::{Hostile, IssuerOptions};
use crate::common::idp::{
    OIDC_CLIENT, OIDC_SECRET, add_provider, app_with_issuers, person, sign_in_via,
};
use crate::common::sso::advance;
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::sso::provider::ProviderKind;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::providers::ProviderInput;

fn jit(domains: &str) -> ProviderInput {
    ProviderInput {
        jit: Some(true),
        allowed_domains: Some(domains.into()),
        ..ProviderInput::default()
    }
}

#[actix_web::test]
async fn a_generic_provider_signs_in_with_pkce_state_and_nonce() {
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
    let login = app.browser().get("/login").await;
    assert!(
        login.has("Sign in with okta (okta)") && login.has("/login/sso/okta"),
        "{}",
        login.body
    );
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/okta",
        person("sub-1", "ann@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    assert!(browser.session().is_some());
    let query = fake.last_authorize_query().unwrap();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
    assert!(get("code_challenge").is_some_and(|c| c.len() >= 43));
    assert!(get("state").is_some_and(|s| s.len() >= 22));
    assert!(get("nonce").is_some_and(|s| s.len() >= 22));
    assert_eq!(get("scope").as_deref(), Some("openid profile email"));
    assert_eq!(get("client_id").as_deref(), Some(OIDC_CLIENT));
    // Discovery lists client_secret_basic: the secret goes in the header only.
    assert_eq!(
        fake.last_token_basic_auth(),
        Some((OIDC_CLIENT.to_owned(), OIDC_SECRET.to_owned()))
    );
    let form = fake.last_token_request().unwrap();
    assert!(!form.iter().any(|(k, _)| k == "client_secret"));
    let user = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    assert_eq!(user.sso_links.len(), 1);
    assert_eq!(
        user.sso_links[0].tenant,
        fake.generic_issuer("okta"),
        "keyed by (iss, sub)"
    );
    assert_eq!(user.sso_links[0].subject, "sub-1");
    // The state is single use: the same callback again signs nobody in.
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert_eq!(event.kind, AuditKind::SsoLogin);
}

#[actix_web::test]
async fn forged_and_broken_tokens_are_refused() {
    let (app, fake) = app_with_issuers().await;
    add_provider(&app, &fake, Realm::Staff, "okta", "okta", jit("")).await;
    enum Spoil {
        Hostile(Hostile),
        Claims(serde_json::Value),
    }
    let cases = [
        ("wrong iss", Spoil::Hostile(Hostile::IssPlusOne), "issuer"),
        ("wrong aud", Spoil::Hostile(Hostile::AudPlusOne), "audience"),
        (
            "extra aud without azp",
            Spoil::Hostile(Hostile::ExtraAudienceWithoutAzp),
            "azp",
        ),
        (
            "missing sub",
            Spoil::Claims(json!({"sub": null})),
            "malformed",
        ),
        ("empty sub", Spoil::Claims(json!({"sub": ""})), "sub"),
        (
            "missing aud",
            Spoil::Claims(json!({"aud": null})),
            "audience",
        ),
        (
            "missing iat",
            Spoil::Claims(json!({"iat": null})),
            "malformed",
        ),
        (
            "bad signature",
            Spoil::Hostile(Hostile::BadSignature),
            "signature",
        ),
        ("alg none", Spoil::Hostile(Hostile::AlgNone), ""),
        (
            "HS256 with the client secret",
            Spoil::Hostile(Hostile::Hs256WithClientSecret),
            "",
        ),
        ("wrong nonce", Spoil::Hostile(Hostile::WrongNonce), "nonce"),
        (
            "missing nonce",
            Spoil::Hostile(Hostile::MissingNonce),
            "nonce",
        ),
        ("expired", Spoil::Hostile(Hostile::Expired), "expired"),
        (
            "issued a day ago",
            Spoil::Hostile(Hostile::IssuedADayAgo),
            "iat",
        ),
        ("not yet valid", Spoil::Hostile(Hostile::NotYetValid), "nbf"),
        ("embedded jwk", Spoil::Hostile(Hostile::EmbeddedJwk), "key"),
    ];
    for (i, (name, spoil, reason)) in cases.into_iter().enumerate() {
        advance(&app, &fake, 120);
        match spoil {
            Spoil::Hostile(h) => fake.hostile(h),
            Spoil::Claims(c) => fake.claims(c),
        }
        let email = format!("u{i}@example.com");
        let mut browser = app.browser();
        let page = sign_in_via(
            &mut browser,
            &fake,
            "/login/sso/okta",
            person(&format!("s{i}"), &email),
        )
        .await;
        fake.claims(json!({}));
        assert!(
            page.status.is_client_error(),
            "{name}: {} {}",
            page.status,
            page.body
        );
        assert!(browser.session().is_none(), "{name}: no session");
        assert!(
            app.services.user_by_email(Realm::Staff, &email).is_err(),
            "{name}: nobody created"
        );
        let event = app.services.audit_log(1, None).unwrap().remove(0).1;
        assert_eq!(event.kind, AuditKind::SsoFailed, "{name}");
        assert!(
            event.detail.to_lowercase().contains(reason),
            "{name}: audit detail {:?} mentions {reason}",
            event.detail
        );
    }
    // And a valid token still signs in afterwards.
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/okta",
        person("ok", "ok@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
}

/// A token without `kid` is accepted when exactly one published key fits. With
/// several, Gatehouse refuses it rather than trying each key (documented choice: a
/// provider that publishes several keys names the one it used).
#[actix_web::test]
async fn tokens_without_kid_need_a_single_published_key() {
    let (app, fake) = app_with_issuers().await;
    add_provider(&app, &fake, Realm::Staff, "okta", "okta", jit("")).await;
    fake.omit_kid(true);
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/okta",
        person("one", "one@example.com"),
    )
    .await;
    assert_eq!(
        page.location(),
        "/account",
        "one key, no kid: {}",
        page.body
    );

    fake.publish_second_key(true);
    app.services
        .test_provider(AdminActor::cli(), Realm::Staff, "okta")
        .await
        .unwrap();
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/okta",
        person("two", "two@example.com"),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(browser.session().is_none());
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert!(
        event.detail.contains("several published keys"),
        "{}",
        event.detail
    );
}

#[actix_web::test]
async fn a_rotated_key_is_fetched_once() {
    let (app, fake) = app_with_issuers().await;
    add_provider(&app, &fake, Realm::Staff, "okta", "okta", jit("")).await;
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/okta",
        person("r1", "r1@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account");
    let before = fake.jwks_fetches();
    fake.rotate_key();
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/okta",
        person("r2", "r2@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "after rotation: {}", page.body);
    assert_eq!(fake.jwks_fetches(), before + 1, "exactly one re-fetch");
    // An unknown kid right after is not worth another fetch (rate-limited).
    fake.hostile(Hostile::UnknownKid);
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/okta",
        person("r3", "r3@example.com"),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(fake.jwks_fetches(), before + 1, "rate-limited");
}

#[actix_web::test]
async fn discovery_must_name_the_configured_issuer_and_acceptable_algorithms() {
    let (app, fake) = app_with_issuers().await;
    fake.add_issuer(
        "evil",
        IssuerOptions {
            issuer_override: Some(fake.generic_issuer("okta")),
            ..IssuerOptions::default()
        },
    );
    fake.register_app("evil", OIDC_CLIENT, OIDC_SECRET);
    add_provider(&app, &fake, Realm::Staff, "evil", "evil", jit("")).await;
    let test = app
        .services
        .test_provider(AdminActor::cli(), Realm::Staff, "evil")
        .await
        .unwrap();
    assert!(!test.passed);
    assert!(
        test.items[0].detail.contains("expected exactly"),
        "{:?}",
        test.items
    );
    let mut browser = app.browser();
    let page = browser.get("/login/sso/evil").await;
    assert_ne!(page.status, StatusCode::SEE_OTHER, "no sign-in starts");

    for algorithms in [vec!["HS256"], vec!["none"]] {
        let name = format!("alg{}", algorithms[0].to_lowercase());
        fake.add_issuer(
            &name,
            IssuerOptions {
                algorithms: Some(algorithms.iter().map(|a| a.to_string()).collect()),
                ..IssuerOptions::default()
            },
        );
        fake.register_app(&name, OIDC_CLIENT, OIDC_SECRET);
        add_provider(&app, &fake, Realm::Staff, &name, &name, jit("")).await;
        let test = app
            .services
            .test_provider(AdminActor::cli(), Realm::Staff, &name)
            .await
            .unwrap();
        assert!(!test.passed, "{algorithms:?}");
        assert!(
            test.items[0].detail.contains("RS256, PS256 or ES256"),
            "{:?}",
            test.items
        );
    }
}

#[actix_web::test]
async fn client_secret_post_when_discovery_says_so_and_wrong_secrets_show_in_the_test() {
    let (app, fake) = app_with_issuers().await;
    fake.add_issuer(
        "postonly",
        IssuerOptions {
            auth_methods: Some(vec!["client_secret_post".into()]),
            ..IssuerOptions::default()
        },
    );
    fake.register_app("postonly", OIDC_CLIENT, OIDC_SECRET);
    add_provider(&app, &fake, Realm::Staff, "post", "postonly", jit("")).await;
    let test = app
        .services
        .test_provider(AdminActor::cli(), Realm::Staff, "post")
        .await
        .unwrap();
    assert!(test.passed, "{:?}", test.items);
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/post",
        person("p1", "p1@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    assert_eq!(fake.last_token_basic_auth(), None);
    let form = fake.last_token_request().unwrap();
    assert!(form.contains(&("client_secret".to_owned(), OIDC_SECRET.to_owned())));

    app.services
        .update_provider(
            AdminActor::cli(),
            Realm::Staff,
            "post",
            ProviderInput {
                client_secret: Some("wrong".into()),
                ..ProviderInput::default()
            },
        )
        .await
        .unwrap();
    let test = app
        .services
        .test_provider(AdminActor::cli(), Realm::Staff, "post")
        .await
        .unwrap();
    assert!(!test.passed);
    assert!(
        test.items[2].detail.contains("invalid_client"),
        "{:?}",
        test.items
    );
    let providers = app.services.identity_providers(Realm::Staff).unwrap();
    assert_eq!(providers.providers[0].kind, ProviderKind::Oidc);
}
