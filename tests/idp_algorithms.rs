//! The algorithm allow-list of generic OpenID providers (DESIGN §10): RS256, PS256 and
//! ES256, each only when the provider's discovery document lists it in
//! `id_token_signing_alg_values_supported`; a token signed otherwise, or whose header
//! pairs an algorithm with a key of another type, is refused with no session.

use actix_web::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::common::TestApp;
use crate::common::fake_entra::{FakeEntra, IssuerOptions, SigningAlg};
use crate::common::idp::{
    OIDC_CLIENT, OIDC_SECRET, add_provider, app_with_issuers, person, sign_in_via,
};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::Realm;
use gatehouse::service::sso::providers::ProviderInput;

fn jit() -> ProviderInput {
    ProviderInput {
        jit: Some(true),
        allowed_domains: Some("example.com".into()),
        ..ProviderInput::default()
    }
}

/// Adds generic issuer `name` with `options` and a staff provider of the same id.
async fn issuer(app: &TestApp, fake: &FakeEntra, name: &str, options: IssuerOptions) {
    fake.add_issuer(name, options);
    fake.register_app(name, OIDC_CLIENT, OIDC_SECRET);
    add_provider(app, fake, Realm::Staff, name, name, jit()).await;
}

fn listed(algs: &[&str]) -> Option<Vec<String>> {
    Some(algs.iter().map(|a| a.to_string()).collect())
}

/// The header of the last ID token the fake issued.
fn last_header(fake: &FakeEntra) -> Value {
    let token = fake.last_id_token().expect("an ID token was issued");
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

#[actix_web::test]
async fn es256_and_ps256_tokens_are_accepted_when_discovery_lists_them() {
    let (app, fake) = app_with_issuers().await;
    for (name, signing, alg) in [
        ("ecprovider", SigningAlg::Es256, "ES256"),
        ("pssprovider", SigningAlg::Ps256, "PS256"),
    ] {
        issuer(
            &app,
            &fake,
            name,
            IssuerOptions {
                algorithms: listed(&[alg]),
                signing,
                ..IssuerOptions::default()
            },
        )
        .await;
        let email = format!("{name}@example.com");
        let mut browser = app.browser();
        let page = sign_in_via(
            &mut browser,
            &fake,
            &format!("/login/sso/{name}"),
            person(&format!("sub-{name}"), &email),
        )
        .await;
        assert_eq!(page.location(), "/account", "{alg}: {}", page.body);
        assert!(browser.session().is_some(), "{alg}: signed in");
        assert_eq!(last_header(&fake)["alg"], alg, "the fake signed {alg}");
        let user = app.services.user_by_email(Realm::Staff, &email).unwrap();
        assert_eq!(user.sso_links[0].tenant, fake.generic_issuer(name));
        assert_eq!(user.sso_links[0].subject, format!("sub-{name}"));
    }
}

#[actix_web::test]
async fn an_algorithm_the_provider_does_not_list_is_refused() {
    let (app, fake) = app_with_issuers().await;
    // (provider, what discovery lists, how tokens are really signed)
    let cases = [
        ("rsonlyes", vec!["RS256"], SigningAlg::Es256),
        ("rsonlyps", vec!["RS256"], SigningAlg::Ps256),
        ("esonlyrs", vec!["ES256"], SigningAlg::Rs256),
        ("rspses", vec!["RS256", "PS256"], SigningAlg::Es256),
    ];
    for (name, algs, signing) in cases {
        issuer(
            &app,
            &fake,
            name,
            IssuerOptions {
                algorithms: listed(&algs),
                signing,
                ..IssuerOptions::default()
            },
        )
        .await;
        let email = format!("{name}@example.com");
        let mut browser = app.browser();
        let page = sign_in_via(
            &mut browser,
            &fake,
            &format!("/login/sso/{name}"),
            person(&format!("sub-{name}"), &email),
        )
        .await;
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
    }
}

#[actix_web::test]
async fn an_es256_header_naming_an_rsa_key_is_refused() {
    let (app, fake) = app_with_issuers().await;
    // Both algorithms are allowed and both keys are published: only the pairing of
    // `alg: ES256` with the RSA key's kid is wrong (the signature is a valid ES256
    // one, by the published P-256 key under its own kid).
    issuer(
        &app,
        &fake,
        "mixed",
        IssuerOptions {
            algorithms: listed(&["RS256", "ES256"]),
            es256_header_with_rsa_kid: true,
            ..IssuerOptions::default()
        },
    )
    .await;
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/mixed",
        person("sub-mixed", "mixed@example.com"),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(browser.session().is_none());
    assert_eq!(last_header(&fake)["alg"], "ES256");
    assert!(
        app.services
            .user_by_email(Realm::Staff, "mixed@example.com")
            .is_err()
    );
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert_eq!(event.kind, AuditKind::SsoFailed);

    // The same provider signing a consistent ES256 token signs in.
    fake.add_issuer(
        "mixed",
        IssuerOptions {
            algorithms: listed(&["RS256", "ES256"]),
            signing: SigningAlg::Es256,
            ..IssuerOptions::default()
        },
    );
    let mut browser = app.browser();
    let page = sign_in_via(
        &mut browser,
        &fake,
        "/login/sso/mixed",
        person("sub-mixed", "mixed@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
}
