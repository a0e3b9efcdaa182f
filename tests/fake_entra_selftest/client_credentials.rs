//! The fake Entra self-test, continued: how the token endpoint authenticates a client,
//! and the client-credentials grant (what Gatehouse's connection test uses), granted
//! and refused.

use super::*;

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
