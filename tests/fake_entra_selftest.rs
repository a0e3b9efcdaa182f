//! Self-test of the fake Entra ID (`common::fake_entra`): real HTTP requests against it
//! prove its documents, grants, refusals and hostile tokens are what the SSO tests
//! rely on. Tests the fake only, not Gatehouse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::fake_entra::{
    CONSUMER_TENANT, ConsentOutcome, FakeEntra, FakeUser, GRAPH_APP_ID, Hostile, hs256,
    pairwise_sub, path_and_query,
};

const TENANT: &str = "4a1c2e3f-5b6d-4e7f-8091-a2b3c4d5e6f7";
const OTHER_TENANT: &str = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b";
const CLIENT: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "Zx8Q~s3cr3t.value_with-all~the+chars";
const REDIRECT: &str = "http://127.0.0.1:9/sso/callback";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn user() -> FakeUser {
    FakeUser {
        tid: TENANT.into(),
        oid: "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d".into(),
        name: "Ada Lovelace".into(),
        email: Some("ada@contoso.com".into()),
        preferred_username: Some("ada@contoso.onmicrosoft.com".into()),
        idp: None,
    }
}

/// A fake with TENANT (also known as contoso.com), the app and a user ready to sign in.
async fn fake() -> FakeEntra {
    let fake = FakeEntra::start().await;
    fake.add_domain("contoso.com", TENANT);
    fake.register_app(TENANT, CLIENT, SECRET);
    fake.next_login(user());
    fake
}

/// What a relying party keeps between authorize and token.
struct Pending {
    code: String,
    verifier: String,
    nonce: String,
}

fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_url(
    fake: &FakeEntra,
    tenant: &str,
    state: &str,
    nonce: &str,
    challenge: &str,
) -> String {
    let mut url =
        url::Url::parse(&format!("{}/{tenant}/oauth2/v2.0/authorize", fake.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_mode", "query")
        .append_pair("scope", "openid profile email")
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    url.into()
}

/// Runs authorize with PKCE S256 and returns the code from the redirect.
async fn authorize(fake: &FakeEntra, tenant: &str) -> Pending {
    let (verifier, challenge) = pkce();
    let nonce = format!("nonce-{}", uuid::Uuid::new_v4());
    let state = "st&te with spaces/and=signs";
    let location = fake
        .follow_authorize(&authorize_url(fake, tenant, state, &nonce, &challenge))
        .await;
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let back = query_of(&location);
    assert_eq!(param(&back, "state"), Some(state), "state copied verbatim");
    let sent = fake.last_authorize_query().unwrap();
    assert_eq!(param(&sent, "code_challenge"), Some(challenge.as_str()));
    assert_eq!(param(&sent, "code_challenge_method"), Some("S256"));
    assert_eq!(param(&sent, "nonce"), Some(nonce.as_str()));
    Pending {
        code: param(&back, "code").expect("code in redirect").to_owned(),
        verifier,
        nonce,
    }
}

async fn post_token(fake: &FakeEntra, tenant: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let res = http()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", fake.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn redeem(fake: &FakeEntra, p: &Pending, secret: &str, verifier: &str) -> (u16, Value) {
    post_token(
        fake,
        TENANT,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", secret),
            ("code", &p.code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn get_json(url: &str) -> (u16, Value) {
    let res = http().get(url).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn jwks(fake: &FakeEntra, tenant: &str) -> Vec<Value> {
    let (status, doc) = get_json(&format!("{}/{tenant}/discovery/v2.0/keys", fake.base)).await;
    assert_eq!(status, 200, "{doc}");
    doc["keys"].as_array().unwrap().clone()
}

/// Asserts Entra's error JSON with this status, `error` and AADSTS code.
fn assert_aadsts(answer: &(u16, Value), status: u16, error: &str, code: u64) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("\r\nTrace ID: "), "{description}");
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
}

struct Jwt {
    header: Value,
    claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

fn decode(token: &str) -> Jwt {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let json =
        |s: &str| -> Value { serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap() };
    Jwt {
        header: json(parts[0]),
        claims: json(parts[1]),
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
    }
}

fn rs256_verifies(jwk: &Value, jwt: &Jwt) -> bool {
    let number = |name: &str| {
        BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap())
    };
    let key = RsaPublicKey::new(number("n"), number("e")).unwrap();
    let digest = Sha256::digest(jwt.signing_input.as_bytes());
    key.verify(
        Pkcs1v15Sign::new::<rsa::sha2::Sha256>(),
        &digest,
        &jwt.signature,
    )
    .is_ok()
}

/// A full sign-in with `hostile` set, returning the decoded ID token.
async fn id_token_with(fake: &FakeEntra, hostile: Hostile) -> (Jwt, Pending) {
    let pending = authorize(fake, TENANT).await;
    fake.hostile(hostile);
    let answer = redeem(fake, &pending, SECRET, &pending.verifier).await;
    assert_eq!(answer.0, 200, "{hostile:?}: {}", answer.1);
    (decode(answer.1["id_token"].as_str().unwrap()), pending)
}

#[actix_web::test]
async fn discovery_answers_for_a_guid_and_for_a_verified_domain() {
    let fake = fake().await;
    for tenant in [TENANT, "contoso.com", "Contoso.COM"] {
        let (status, doc) = get_json(&fake.discovery_url(tenant)).await;
        assert_eq!(status, 200, "{doc}");
        let base = &fake.base;
        assert_eq!(doc["issuer"], format!("{base}/{TENANT}/v2.0"));
        assert_eq!(doc["issuer"], fake.issuer(TENANT));
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{base}/{TENANT}/oauth2/v2.0/authorize")
        );
        assert_eq!(
            doc["token_endpoint"],
            format!("{base}/{TENANT}/oauth2/v2.0/token")
        );
        assert_eq!(
            doc["jwks_uri"],
            format!("{base}/{TENANT}/discovery/v2.0/keys")
        );
        assert!(doc["userinfo_endpoint"].is_string());
        assert!(doc["end_session_endpoint"].is_string());
        assert_eq!(
            doc["response_types_supported"],
            serde_json::json!(["code", "id_token", "code id_token", "id_token token"])
        );
        assert_eq!(
            doc["subject_types_supported"],
            serde_json::json!(["pairwise"])
        );
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256"])
        );
        assert_eq!(
            doc["scopes_supported"],
            serde_json::json!(["openid", "profile", "email", "offline_access"])
        );
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            serde_json::json!([
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic"
            ])
        );
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["plain", "S256"])
        );
        assert!(
            doc["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&"tid".into())
        );
    }
    assert_eq!(fake.discovery_fetches(), 3);
    assert_eq!(fake.jwks_fetches(), 0);
}

#[actix_web::test]
async fn unknown_tenant_is_aadsts90002_everywhere() {
    let fake = fake().await;
    let answer = get_json(&fake.discovery_url(OTHER_TENANT)).await;
    assert_aadsts(&answer, 400, "invalid_tenant", 90002);
    let description = answer.1["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS90002: Tenant '{OTHER_TENANT}' not found")),
        "{description}"
    );
    assert_eq!(fake.discovery_fetches(), 1);

    let answer = get_json(&format!("{}/fabrikam.com/discovery/v2.0/keys", fake.base)).await;
    assert_aadsts(&answer, 400, "invalid_tenant", 90002);

    let answer = post_token(
        &fake,
        OTHER_TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", GRAPH_DEFAULT),
        ],
    )
    .await;
    assert_aadsts(&answer, 400, "invalid_tenant", 90002);

    let res = http()
        .get(authorize_url(&fake, OTHER_TENANT, "s", "n", "c"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.text().await.unwrap().contains("AADSTS90002"));
}

#[actix_web::test]
async fn jwks_publishes_one_rsa_2048_signing_key() {
    let fake = fake().await;
    let keys = jwks(&fake, "contoso.com").await;
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["kid"], fake.current_kid());
    assert!(key["x5t"].is_string());
    assert_eq!(key["issuer"], fake.issuer(TENANT));
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256, "2048-bit modulus");
    assert_eq!(fake.jwks_fetches(), 1);
}

#[actix_web::test]
async fn code_flow_with_pkce_gives_a_verifiable_id_token() {
    let fake = fake().await;
    let pending = authorize(&fake, "contoso.com").await;
    let answer = redeem(&fake, &pending, SECRET, &pending.verifier).await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    let body = &answer.1;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile email");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert!(body["access_token"].is_string());
    let sent = fake.last_token_request().unwrap();
    assert_eq!(param(&sent, "client_secret"), Some(SECRET));
    assert_eq!(
        param(&sent, "code_verifier"),
        Some(pending.verifier.as_str())
    );

    let token = body["id_token"].as_str().unwrap();
    assert_eq!(fake.last_id_token().as_deref(), Some(token));
    let jwt = decode(token);
    let keys = jwks(&fake, TENANT).await;
    assert_eq!(jwt.header["typ"], "JWT");
    assert_eq!(jwt.header["alg"], "RS256");
    assert_eq!(jwt.header["kid"], keys[0]["kid"]);
    assert!(
        rs256_verifies(&keys[0], &jwt),
        "RS256 signature verifies against the JWKS"
    );

    let c = &jwt.claims;
    let u = user();
    assert_eq!(c["aud"], CLIENT);
    assert_eq!(c["iss"], fake.issuer(TENANT));
    assert_eq!(c["tid"], TENANT);
    assert_eq!(c["oid"], u.oid);
    assert_eq!(c["sub"], pairwise_sub(TENANT, &u.oid, CLIENT));
    assert_ne!(c["sub"], pairwise_sub(TENANT, &u.oid, "another-client"));
    assert_eq!(c["name"], u.name);
    assert_eq!(c["email"], "ada@contoso.com");
    assert_eq!(c["preferred_username"], "ada@contoso.onmicrosoft.com");
    assert_eq!(c["nonce"], pending.nonce);
    assert_eq!(c["ver"], "2.0");
    assert!(c["uti"].is_string() && c["rh"].is_string());
    assert!(c.get("azp").is_none());
    let iat = c["iat"].as_i64().unwrap();
    assert!((iat - now()).abs() < 60);
    assert_eq!(c["nbf"].as_i64().unwrap(), iat);
    assert_eq!(c["exp"].as_i64().unwrap(), iat + 3600);

    // The same user signs in again without a new next_login; optional claims vanish
    // when the user has none.
    fake.next_login(FakeUser {
        email: None,
        preferred_username: None,
        ..user()
    });
    let (jwt, _) = id_token_with(&fake, Hostile::None).await;
    assert!(jwt.claims.get("email").is_none() && jwt.claims.get("preferred_username").is_none());
    let (jwt, _) = id_token_with(&fake, Hostile::None).await;
    assert_eq!(jwt.claims["oid"], u.oid, "the last user stays signed in");
}

#[actix_web::test]
async fn token_endpoint_accepts_client_secret_basic() {
    let fake = fake().await;
    let pending = authorize(&fake, TENANT).await;
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let res = http()
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", fake.base))
        .basic_auth(encode(CLIENT), Some(encode(SECRET)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", pending.code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", pending.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        fake.last_token_basic_auth(),
        Some((CLIENT.to_owned(), SECRET.to_owned()))
    );
    assert_eq!(
        param(&fake.last_token_request().unwrap(), "client_secret"),
        None
    );
}

#[actix_web::test]
async fn code_exchange_refusals_carry_entra_codes() {
    let fake = fake().await;

    let pending = authorize(&fake, TENANT).await;
    assert_eq!(
        redeem(&fake, &pending, SECRET, &pending.verifier).await.0,
        200
    );
    let reused = redeem(&fake, &pending, SECRET, &pending.verifier).await;
    assert_aadsts(&reused, 400, "invalid_grant", 54005);

    let pending = authorize(&fake, TENANT).await;
    let (other_verifier, _) = pkce();
    let wrong = redeem(&fake, &pending, SECRET, &other_verifier).await;
    assert_aadsts(&wrong, 400, "invalid_grant", 501481);
    let missing = post_token(
        &fake,
        TENANT,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", &pending.code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_aadsts(&missing, 400, "invalid_grant", 50148);
    let elsewhere = post_token(
        &fake,
        TENANT,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", &pending.code),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ("code_verifier", &pending.verifier),
        ],
    )
    .await;
    assert_aadsts(&elsewhere, 400, "invalid_grant", 500112);
    let bad_secret = redeem(&fake, &pending, "not-the-secret", &pending.verifier).await;
    assert_aadsts(&bad_secret, 401, "invalid_client", 7000215);
    // None of the refusals used the code up.
    assert_eq!(
        redeem(&fake, &pending, SECRET, &pending.verifier).await.0,
        200
    );

    let pending = authorize(&fake, TENANT).await;
    fake.expire_codes();
    let expired = redeem(&fake, &pending, SECRET, &pending.verifier).await;
    assert_aadsts(&expired, 400, "invalid_grant", 70008);

    let pending = authorize(&fake, TENANT).await;
    fake.expire_secret(CLIENT, SECRET);
    let expired_secret = redeem(&fake, &pending, SECRET, &pending.verifier).await;
    assert_aadsts(&expired_secret, 401, "invalid_client", 7000222);
    assert_eq!(fake.id_tokens().len(), 2);
}

#[actix_web::test]
async fn client_credentials_success_and_refusals() {
    let fake = fake().await;
    let grant = |secret: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", secret),
            ("scope", GRAPH_DEFAULT),
        ]
    };
    let (status, body) = post_token(&fake, "contoso.com", &grant(SECRET)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert!(body["access_token"].is_string());
    assert!(body.get("id_token").is_none());
    assert_eq!(
        param(&fake.last_token_request().unwrap(), "client_secret"),
        Some(SECRET)
    );

    let wrong = post_token(&fake, TENANT, &grant("wrong")).await;
    assert_aadsts(&wrong, 401, "invalid_client", 7000215);

    fake.add_tenant(OTHER_TENANT);
    let not_there = post_token(&fake, OTHER_TENANT, &grant(SECRET)).await;
    assert_aadsts(&not_there, 400, "unauthorized_client", 700016);

    let bad_scope = post_token(
        &fake,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_aadsts(&bad_scope, 400, "invalid_scope", 1002012);

    fake.expire_secret(CLIENT, SECRET);
    let expired = post_token(&fake, TENANT, &grant(SECRET)).await;
    assert_aadsts(&expired, 401, "invalid_client", 7000222);
    // A second, live secret still works.
    fake.register_app(TENANT, CLIENT, "second-secret");
    assert_eq!(
        post_token(&fake, TENANT, &grant("second-secret")).await.0,
        200
    );
}

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
