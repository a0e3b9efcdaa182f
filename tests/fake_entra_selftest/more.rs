//! The fake Entra self-test, continued: hostile tokens, key rotation, redirects, admin
//! consent, authorize refusals, and a sign-in through openidconnect itself.

use super::*;

#[actix_web::test]
async fn hostile_tokens_are_what_they_claim() {
    let fake = fake().await;
    let keys = jwks(&fake, TENANT).await;
    let published = &keys[0];
    let (embedded_kid, unknown_kid) = fake.attacker_kids();
    let now = now();
    for hostile in Hostile::ALL {
        let (jwt, pending) = id_token_with(&fake, hostile).await;
        let (h, c) = (&jwt.header, &jwt.claims);
        let valid_rs256 =
            h["alg"] == "RS256" && h["kid"] == published["kid"] && rs256_verifies(published, &jwt);
        match hostile {
            Hostile::None
            | Hostile::IssPlusOne
            | Hostile::AudPlusOne
            | Hostile::ExtraAudienceWithoutAzp
            | Hostile::ExtraAudienceWithAzp
            | Hostile::Expired
            | Hostile::NotYetValid
            | Hostile::IssuedADayAgo
            | Hostile::WrongNonce
            | Hostile::MissingNonce
            | Hostile::WrongTid
            | Hostile::ConsumerTenant => assert!(valid_rs256, "{hostile:?} is signed correctly"),
            Hostile::BadSignature => {
                assert_eq!(h["kid"], published["kid"]);
                assert_eq!(jwt.signature.len(), 256);
                assert!(!rs256_verifies(published, &jwt));
            }
            Hostile::AlgNone => {
                assert_eq!(h["alg"], "none");
                assert!(jwt.signature.is_empty());
            }
            Hostile::Hs256WithClientSecret => {
                assert_eq!(h["alg"], "HS256");
                assert_eq!(
                    jwt.signature,
                    hs256(SECRET.as_bytes(), jwt.signing_input.as_bytes())
                );
            }
            Hostile::EmbeddedJwk => {
                assert_eq!(h["alg"], "RS256");
                assert_eq!(h["kid"], embedded_kid.as_str());
                assert_ne!(h["kid"], published["kid"]);
                assert_eq!(h["jwk"]["kid"], embedded_kid.as_str());
                assert!(
                    rs256_verifies(&h["jwk"], &jwt),
                    "signed by the embedded key"
                );
                assert!(!rs256_verifies(published, &jwt));
            }
            Hostile::UnknownKid => {
                assert_eq!(h["alg"], "RS256");
                assert_eq!(h["kid"], unknown_kid.as_str());
                assert_ne!(h["kid"], published["kid"]);
                assert!(h.get("jwk").is_none());
                assert!(!rs256_verifies(published, &jwt));
            }
        }
        let iss_ok = c["iss"] == fake.issuer(TENANT);
        let aud_ok = c["aud"] == CLIENT;
        let nonce_ok = c["nonce"] == pending.nonce.as_str();
        let tid_ok = c["tid"] == TENANT;
        let (iat, nbf, exp) = (
            c["iat"].as_i64().unwrap(),
            c["nbf"].as_i64().unwrap(),
            c["exp"].as_i64().unwrap(),
        );
        let times_ok = (iat - now).abs() < 60 && nbf == iat && exp == iat + 3600;
        match hostile {
            Hostile::IssPlusOne => {
                assert_eq!(c["iss"], format!("{}1", fake.issuer(TENANT)));
                assert!(aud_ok && nonce_ok && tid_ok && times_ok);
            }
            Hostile::AudPlusOne => {
                assert_eq!(c["aud"], format!("{CLIENT}1"));
                assert!(iss_ok && nonce_ok && tid_ok && times_ok);
            }
            Hostile::ExtraAudienceWithoutAzp | Hostile::ExtraAudienceWithAzp => {
                assert_eq!(c["aud"], serde_json::json!([CLIENT, GRAPH_APP_ID]));
                if hostile == Hostile::ExtraAudienceWithAzp {
                    assert_eq!(c["azp"], CLIENT);
                } else {
                    assert!(c.get("azp").is_none());
                }
                assert!(iss_ok && nonce_ok && tid_ok && times_ok);
            }
            Hostile::Expired => {
                assert!(exp < now && iat <= now - 7200 + 60 && nbf == iat);
                assert!(iss_ok && aud_ok && nonce_ok && tid_ok);
            }
            Hostile::NotYetValid => {
                assert!(nbf > now + 3000 && exp > nbf);
                assert!(iss_ok && aud_ok && nonce_ok && tid_ok);
            }
            Hostile::IssuedADayAgo => {
                assert!(iat <= now - 86400 + 60 && exp > now);
                assert!(iss_ok && aud_ok && nonce_ok && tid_ok);
            }
            Hostile::WrongNonce => {
                assert!(c["nonce"].is_string() && !nonce_ok);
                assert!(iss_ok && aud_ok && tid_ok && times_ok);
            }
            Hostile::MissingNonce => {
                assert!(c.get("nonce").is_none());
                assert!(iss_ok && aud_ok && tid_ok && times_ok);
            }
            Hostile::WrongTid => {
                assert!(c["tid"].is_string() && !tid_ok);
                assert!(iss_ok && aud_ok && nonce_ok && times_ok);
            }
            Hostile::ConsumerTenant => {
                assert_eq!(c["tid"], CONSUMER_TENANT);
                assert_eq!(c["iss"], fake.issuer(CONSUMER_TENANT));
                assert!(aud_ok && nonce_ok && times_ok);
            }
            _ => assert!(
                iss_ok && aud_ok && nonce_ok && tid_ok && times_ok,
                "{hostile:?} has valid claims"
            ),
        }
        assert_eq!(c["oid"], user().oid, "{hostile:?}");
    }
    // Hostility lasts for one token only.
    let (spoiled, _) = id_token_with(&fake, Hostile::AlgNone).await;
    assert_eq!(spoiled.header["alg"], "none");
    let pending = authorize(&fake, TENANT).await;
    let answer = redeem(&fake, &pending, SECRET, &pending.verifier).await;
    let next = decode(answer.1["id_token"].as_str().unwrap());
    assert!(rs256_verifies(published, &next));
}

#[actix_web::test]
async fn rotate_key_publishes_only_the_new_key() {
    let fake = fake().await;
    let before = fake.current_kid();
    let (old, _) = id_token_with(&fake, Hostile::None).await;
    let old_key = jwks(&fake, TENANT).await[0].clone();
    assert_eq!(old.header["kid"], before.as_str());

    fake.rotate_key();
    let after = fake.current_kid();
    assert_ne!(before, after);
    let keys = jwks(&fake, TENANT).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], after.as_str());
    let (new, _) = id_token_with(&fake, Hostile::None).await;
    assert_eq!(new.header["kid"], after.as_str());
    assert!(rs256_verifies(&keys[0], &new));
    assert!(!rs256_verifies(&keys[0], &old));
    assert!(!rs256_verifies(&old_key, &new));

    // Rotating past the fixture keys still gives fresh kids.
    let mut seen = vec![before, after];
    for _ in 0..5 {
        fake.rotate_key();
        let kid = fake.current_kid();
        assert!(!seen.contains(&kid));
        seen.push(kid);
    }
    assert_eq!(fake.jwks_fetches(), 2);
}

#[actix_web::test]
async fn redirect_everything_answers_302_everywhere() {
    let fake = fake().await;
    let target = format!("{}/elsewhere", fake.base);
    fake.redirect_everything_to(Some(&target));
    let client = http();
    let urls = [
        fake.discovery_url(TENANT),
        format!("{}/{TENANT}/discovery/v2.0/keys", fake.base),
        authorize_url(&fake, TENANT, "s", "n", "c"),
    ];
    for url in &urls {
        let res = client.get(url).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 302, "{url}");
        assert_eq!(res.headers()["location"], target.as_str());
    }
    let res = client
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", fake.base))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 302);
    assert_eq!(fake.discovery_fetches(), 0);
    assert_eq!(fake.jwks_fetches(), 0);
    assert_eq!(fake.last_token_request(), None);
    assert_eq!(fake.requests().len(), 4);
    assert!(!fake.requests().iter().any(|r| r.contains("/elsewhere")));

    fake.redirect_everything_to(None);
    fake.outage(Some(503));
    let res = client.get(fake.discovery_url(TENANT)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 503);
    fake.outage(None);
    assert_eq!(get_json(&fake.discovery_url(TENANT)).await.0, 200);
}

#[actix_web::test]
async fn admin_consent_success_and_error_shapes() {
    let fake = fake().await;
    fake.add_tenant(OTHER_TENANT);
    let consent_url = |tenant: &str| {
        let mut url =
            url::Url::parse(&format!("{}/{tenant}/v2.0/adminconsent", fake.base)).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", CLIENT)
            .append_pair("scope", "openid profile email")
            .append_pair("redirect_uri", "http://127.0.0.1:9/sso/consent")
            .append_pair("state", "consent-state");
        url.to_string()
    };
    let grant = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("scope", GRAPH_DEFAULT),
    ];
    // Before consent the app does not exist in the other tenant.
    let before = post_token(&fake, OTHER_TENANT, &grant).await;
    assert_aadsts(&before, 400, "unauthorized_client", 700016);

    let location = fake.follow_authorize(&consent_url(OTHER_TENANT)).await;
    assert!(
        location.starts_with("http://127.0.0.1:9/sso/consent?"),
        "{location}"
    );
    let q = query_of(&location);
    assert_eq!(param(&q, "admin_consent"), Some("True"));
    assert_eq!(param(&q, "tenant"), Some(OTHER_TENANT));
    assert_eq!(param(&q, "scope"), Some("openid profile email"));
    assert_eq!(param(&q, "state"), Some("consent-state"));
    assert_eq!(param(&q, "error"), None);
    assert_eq!(
        param(&fake.last_consent_query().unwrap(), "client_id"),
        Some(CLIENT)
    );
    assert_eq!(post_token(&fake, OTHER_TENANT, &grant).await.0, 200);

    fake.consent_next(ConsentOutcome::Error {
        error: "access_denied".into(),
        description: "AADSTS65004: User declined to consent to access the app.".into(),
    });
    let q = query_of(&fake.follow_authorize(&consent_url(OTHER_TENANT)).await);
    assert_eq!(param(&q, "admin_consent"), Some("True"));
    assert_eq!(param(&q, "error"), Some("access_denied"));
    assert_eq!(
        param(&q, "error_description"),
        Some("AADSTS65004: User declined to consent to access the app.")
    );
    assert_eq!(param(&q, "state"), Some("consent-state"));
    assert_eq!(param(&q, "tenant"), None);

    fake.consent_claims_tenant(Some(TENANT));
    let q = query_of(&fake.follow_authorize(&consent_url(OTHER_TENANT)).await);
    assert_eq!(
        param(&q, "tenant"),
        Some(TENANT),
        "the overridden tenant is reported"
    );
    assert_eq!(param(&q, "error"), None);

    let res = http()
        .get(consent_url("fabrikam.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("AADSTS90002"));
}

#[actix_web::test]
async fn authorize_errors_and_refusals() {
    let fake = fake().await;
    let (_, challenge) = pkce();

    fake.next_error(
        "access_denied",
        "AADSTS50105: The signed in user is not assigned to a role.",
    );
    let location = fake
        .follow_authorize(&authorize_url(&fake, TENANT, "abc", "n", &challenge))
        .await;
    let q = query_of(&location);
    assert_eq!(param(&q, "error"), Some("access_denied"));
    assert_eq!(
        param(&q, "error_description"),
        Some("AADSTS50105: The signed in user is not assigned to a role.")
    );
    assert_eq!(param(&q, "state"), Some("abc"));
    assert_eq!(param(&q, "code"), None);
    // The error was for one request only.
    let location = fake
        .follow_authorize(&authorize_url(&fake, TENANT, "abc", "n", &challenge))
        .await;
    assert!(param(&query_of(&location), "code").is_some());

    fake.add_tenant(OTHER_TENANT);
    let res = http()
        .get(authorize_url(&fake, OTHER_TENANT, "abc", "n", &challenge))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("AADSTS700016"));

    let nobody = FakeEntra::start().await;
    nobody.register_app(TENANT, CLIENT, SECRET);
    let res = http()
        .get(authorize_url(&nobody, TENANT, "abc", "n", &challenge))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("next_login"));
    nobody.stop().await;
}

/// The relying-party library Gatehouse uses, driven against the fake end to end:
/// discovery, authorize URL with PKCE, code exchange (client_secret_basic, its
/// default), ID token verification. Records which hostile tokens the library refuses
/// on its own and which Gatehouse has to refuse itself.
#[actix_web::test]
async fn openidconnect_signs_in_and_refuses_broken_tokens() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
        OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    };

    let fake = fake().await;
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(fake.issuer(TENANT)).unwrap(), &http)
            .await
            .expect("discovery and JWKS parse");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    let mut verdicts = Vec::new();
    for hostile in Hostile::ALL {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let back = query_of(&fake.follow_authorize(url.as_str()).await);
        assert_eq!(param(&back, "state"), Some(csrf.secret().as_str()));
        fake.hostile(hostile);
        let tokens = client
            .exchange_code(AuthorizationCode::new(param(&back, "code").unwrap().into()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("token response parses");
        assert!(!tokens.access_token().secret().is_empty());
        let id_token = tokens.id_token().expect("an ID token");
        let verdict = id_token.claims(&client.id_token_verifier(), &nonce);
        if hostile == Hostile::None {
            let claims = verdict.as_ref().expect("a valid token verifies");
            assert_eq!(
                claims.subject().as_str(),
                pairwise_sub(TENANT, &user().oid, CLIENT)
            );
            assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@contoso.com"));
        }
        verdicts.push((hostile, verdict.is_ok()));
    }
    assert_eq!(
        fake.last_token_basic_auth(),
        Some((CLIENT.into(), SECRET.into()))
    );

    // openidconnect ignores nbf, iat age and tid, and rejects every extra audience:
    // Gatehouse must check tid and token age itself.
    let accepted: Vec<Hostile> = verdicts
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(h, _)| *h)
        .collect();
    assert_eq!(
        accepted,
        [
            Hostile::None,
            Hostile::NotYetValid,
            Hostile::IssuedADayAgo,
            Hostile::WrongTid
        ],
        "{verdicts:?}"
    );
}

#[actix_web::test]
async fn no_id_token_without_the_openid_scope() {
    let fake = FakeEntra::start().await;
    fake.register_app(TENANT, CLIENT, SECRET);
    let ada = FakeUser::new(TENANT, "Ada", "ada@contoso.com");
    assert_eq!(ada.preferred_username.as_deref(), Some("ada@contoso.com"));
    fake.next_login(ada);
    let mut url =
        url::Url::parse(&format!("{}/{TENANT}/oauth2/v2.0/authorize", fake.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "User.Read");
    let back = fake.follow_authorize(url.as_str()).await;
    assert_eq!(
        path_and_query(&back),
        format!(
            "/sso/callback?{}",
            url::Url::parse(&back).unwrap().query().unwrap()
        )
    );
    assert_eq!(
        param(&query_of(&back), "state"),
        None,
        "no state sent, none returned"
    );
    let code = param(&query_of(&back), "code").unwrap().to_owned();
    fake.hostile(Hostile::AlgNone);
    let (status, body) = post_token(
        &fake,
        TENANT,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none() && body["access_token"].is_string());
    assert!(fake.id_tokens().is_empty());
}
