//! Self-test of the fake Entra ID (`common::fake_entra`): real HTTP requests against it
//! prove its documents, grants, refusals and hostile tokens are what the SSO tests
//! rely on. Tests the fake only, not Gatehouse.

mod client_credentials;
mod more;

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
