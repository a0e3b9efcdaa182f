//! The fake's HTTP surface, in Entra v2.0 shapes: tenant discovery, JWKS, authorize,
//! token (authorization code with PKCE, client credentials) and admin consent, plus
//! the test-controlled interceptors (redirect everything, outage) in front of them.
//! Decisions live in `state`; this file only speaks HTTP.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{App, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use futures_util::future::{Either, ready};
use serde_json::{Value, json};
use url::Url;

use super::errors::Refusal;
use super::jwt::{self, Facts};
use super::state::{Code, SigningAlg, State};
use super::{ConsentOutcome, Hostile};

pub(super) type Shared = Arc<Mutex<State>>;

/// Locks the state; a test that panicked elsewhere must not wedge the fake.
pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

type Pairs = Vec<(String, String)>;

fn get<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The fake's application: every request is logged, then intercepted if the test
/// asked for redirects or an outage, else routed.
pub(super) fn app(
    state: Shared,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let gate = state.clone();
    App::new()
        .app_data(web::Data::from(state))
        .wrap_fn(move |req, srv| match intercept(&gate, &req) {
            Some(res) => Either::Left(ready(Ok(req.into_response(res)))),
            None => Either::Right(srv.call(req)),
        })
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            web::get().to(discovery),
        )
        .route("/{tenant}/discovery/v2.0/keys", web::get().to(keys))
        .route("/{tenant}/oauth2/v2.0/authorize", web::get().to(authorize))
        .route("/{tenant}/oauth2/v2.0/token", web::post().to(token))
        .route("/{tenant}/v2.0/adminconsent", web::get().to(admin_consent))
        .route(
            "/oidc/{tenant}/.well-known/openid-configuration",
            web::get().to(generic_discovery),
        )
        .route("/oidc/{tenant}/jwks", web::get().to(keys))
        .route("/oidc/{tenant}/authorize", web::get().to(authorize))
        .route("/oidc/{tenant}/token", web::post().to(token))
}

/// A generic OpenID provider's metadata (as Okta or Keycloak publish it).
async fn generic_discovery(
    state: web::Data<Mutex<State>>,
    name: web::Path<String>,
) -> HttpResponse {
    let mut st = lock(&state);
    st.discovery_fetches += 1;
    let Some(options) = st.issuers.get(name.as_str()).cloned() else {
        return HttpResponse::NotFound().finish();
    };
    let base = format!("{}/oidc/{name}", st.base);
    HttpResponse::Ok().json(json!({
        "issuer": options.issuer_override.clone().unwrap_or_else(|| base.clone()),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": options.algorithms.clone().unwrap_or_else(|| vec!["RS256".to_owned()]),
        "token_endpoint_auth_methods_supported": options.auth_methods.clone().unwrap_or_else(|| vec!["client_secret_basic".to_owned(), "client_secret_post".to_owned()]),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name", "amr", "acr"]
    }))
}

fn intercept(state: &Mutex<State>, req: &ServiceRequest) -> Option<HttpResponse> {
    let mut st = lock(state);
    st.requests.push(format!("{} {}", req.method(), req.uri()));
    if let Some(url) = &st.redirect_all {
        return Some(
            HttpResponse::Found()
                .insert_header((header::LOCATION, url.as_str()))
                .finish(),
        );
    }
    st.outage.map(|status| {
        HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE))
            .content_type(ContentType::plaintext())
            .body("FakeEntra: simulated outage")
    })
}

/// Entra's tenant-specific v2.0 metadata, with the tenant GUID even when the path
/// named a verified domain.
pub(super) fn discovery_document(base: &str, tid: &str) -> Value {
    json!({
        "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
            "name", "tid", "ver", "at_hash", "c_hash", "email"
        ],
        "code_challenge_methods_supported": ["plain", "S256"],
        "kerberos_endpoint": format!("{base}/{tid}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    })
}

async fn discovery(state: web::Data<Mutex<State>>, tenant: web::Path<String>) -> HttpResponse {
    let mut st = lock(&state);
    st.discovery_fetches += 1;
    match st.resolve(&tenant) {
        Ok(tid) => HttpResponse::Ok().json(discovery_document(&st.base, &tid)),
        Err(refusal) => refusal.json(&st.base, st.now()),
    }
}

async fn keys(state: web::Data<Mutex<State>>, tenant: web::Path<String>) -> HttpResponse {
    let mut st = lock(&state);
    st.jwks_fetches += 1;
    match st.resolve(&tenant) {
        Ok(tid) => {
            let mut jwk = st.keys.current.public_jwk();
            jwk["cloud_instance_name"] = json!("microsoftonline.com");
            jwk["issuer"] = json!(format!("{}/{tid}/v2.0", st.base));
            let mut keys = vec![jwk];
            if st.second_key {
                keys.push(st.keys.unknown.public_jwk());
            }
            let options = st.issuers.get(&tid);
            if options
                .is_some_and(|o| o.signing == SigningAlg::Es256 || o.es256_header_with_rsa_kid)
            {
                keys.push(st.keys.ec.public_jwk());
            }
            HttpResponse::Ok().json(json!({ "keys": keys }))
        }
        Err(refusal) => refusal.json(&st.base, st.now()),
    }
}

/// Sends an authorization response to the client's redirect URI in `response_mode`.
fn respond(mut target: Url, mode: &str, params: &[(&str, &str)]) -> HttpResponse {
    match mode {
        "form_post" => {
            let inputs: String = params
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{k}\" value=\"{}\"/>",
                        v.replace('&', "&amp;").replace('"', "&quot;")
                    )
                })
                .collect();
            HttpResponse::Ok()
                .content_type(ContentType::html())
                .body(format!(
                    "<html><body><form method=\"POST\" name=\"hiddenform\" action=\"{target}\">{inputs}</form></body></html>"
                ))
        }
        "fragment" => {
            let fragment = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish();
            target.set_fragment(Some(&fragment));
            found(target.as_str())
        }
        _ => {
            target.query_pairs_mut().extend_pairs(params);
            found(target.as_str())
        }
    }
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The redirect URI of a browser request, or the error page Entra shows instead.
fn redirect_target(query: &Pairs) -> Result<Url, Refusal> {
    let raw =
        get(query, "redirect_uri").ok_or_else(|| Refusal::missing_parameter("redirect_uri"))?;
    Url::parse(raw).map_err(|_| Refusal::invalid_redirect_uri())
}

async fn authorize(
    state: web::Data<Mutex<State>>,
    tenant: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let query: Pairs = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let mut st = lock(&state);
    st.last_authorize = Some(query.clone());
    let now = st.now();
    let checked = st.resolve(&tenant).and_then(|tid| {
        let client_id =
            get(&query, "client_id").ok_or_else(|| Refusal::missing_parameter("client_id"))?;
        st.check_app(&tid, client_id)?;
        Ok((tid, client_id, redirect_target(&query)?))
    });
    let (tid, client_id, target) = match checked {
        Ok(checked) => checked,
        Err(refusal) => return refusal.page(now),
    };
    let mode = get(&query, "response_mode").unwrap_or("query");
    let state_param = get(&query, "state");
    let with_state = |mut params: Vec<(&'static str, String)>| {
        if let Some(s) = state_param {
            params.push(("state", s.to_owned()));
        }
        params
    };
    let send = |params: Vec<(&'static str, String)>| {
        let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        respond(target.clone(), mode, &refs)
    };

    if let Some((error, description)) = st.next_error.take() {
        return send(with_state(vec![
            ("error", error),
            ("error_description", description),
        ]));
    }
    let response_type = get(&query, "response_type").unwrap_or_default();
    if response_type != "code" {
        let refusal = Refusal::response_type_not_enabled(response_type);
        return send(with_state(vec![
            ("error", refusal.error.to_owned()),
            (
                "error_description",
                format!("AADSTS{}: {}", refusal.code, refusal.message),
            ),
        ]));
    }
    // `prompt=login` always asks for the credentials again; `max_age` when the last
    // time is older than that.
    let prompt_login = get(&query, "prompt").is_some_and(|p| p.split(' ').any(|v| v == "login"));
    let max_age = get(&query, "max_age").and_then(|m| m.parse::<i64>().ok());
    let reauthenticate = |at: i64| prompt_login || max_age.is_some_and(|m| now - at > m);
    let Some((user, auth_time)) = st.take_user(reauthenticate) else {
        return Refusal::no_user().page(now);
    };
    let challenge = get(&query, "code_challenge").map(|c| {
        let method = get(&query, "code_challenge_method").unwrap_or("plain");
        (c.to_owned(), method.to_owned())
    });
    let code = st.issue_code(Code {
        client_id: client_id.to_owned(),
        redirect_uri: get(&query, "redirect_uri").unwrap_or_default().to_owned(),
        nonce: get(&query, "nonce").map(str::to_owned),
        challenge,
        tenant: tid,
        user,
        scope: get(&query, "scope").unwrap_or_default().to_owned(),
        issued_at: now,
        auth_time,
        redeemed: false,
        expired: false,
    });
    let mut params = with_state(vec![("code", code)]);
    params.push(("session_state", uuid::Uuid::new_v4().to_string()));
    send(params)
}

/// `Authorization: Basic` client credentials (each half form-urlencoded, RFC 6749 §2.3.1).
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn token(
    state: web::Data<Mutex<State>>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form: Pairs = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let basic = basic_credentials(&req);
    let mut st = lock(&state);
    st.last_token = Some(form.clone());
    st.last_token_basic = basic.clone();
    match token_answer(&mut st, &tenant, &form, basic) {
        Ok(answer) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store, no-cache"))
            .json(answer),
        Err(refusal) => refusal.json(&st.base, st.now()),
    }
}

fn opaque_token() -> String {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).expect("OS RNG");
    format!("fake-entra.{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn token_answer(
    st: &mut State,
    tenant: &str,
    form: &Pairs,
    basic: Option<(String, String)>,
) -> Result<Value, Refusal> {
    let tid = st.resolve(tenant)?;
    let (client_id, secret) = match basic {
        Some((id, secret)) => (id, Some(secret)),
        None => (
            get(form, "client_id")
                .ok_or_else(|| Refusal::missing_parameter("client_id"))?
                .to_owned(),
            get(form, "client_secret").map(str::to_owned),
        ),
    };
    let grant_type =
        get(form, "grant_type").ok_or_else(|| Refusal::missing_parameter("grant_type"))?;
    st.check_client(&tid, &client_id, secret.as_deref())?;
    match grant_type {
        "authorization_code" => {
            let value = get(form, "code").ok_or_else(|| Refusal::missing_parameter("code"))?;
            let code = st
                .redeem_code(
                    &tid,
                    &client_id,
                    value,
                    get(form, "redirect_uri"),
                    get(form, "code_verifier"),
                )?
                .clone();
            let mut answer = json!({
                "token_type": "Bearer",
                "scope": code.scope,
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": opaque_token(),
            });
            let scope: Vec<&str> = code.scope.split(' ').collect();
            // As at Entra, an ID token only comes with the `openid` scope.
            if scope.contains(&"openid") {
                let hostile = std::mem::replace(&mut st.hostile, Hostile::None);
                let generic = st.issuers.contains_key(&tid);
                let options = st.issuers.get(&tid).cloned().unwrap_or_default();
                let facts = Facts {
                    signing: options.signing,
                    mismatched_kid: options.es256_header_with_rsa_kid,
                    generic,
                    extra: &st.extra_claims,
                    omit_kid: st.omit_kid,
                    base: &st.base,
                    tenant: &tid,
                    client_id: &client_id,
                    client_secret: secret.as_deref().unwrap_or_default(),
                    nonce: code.nonce.as_deref(),
                    user: &code.user,
                    auth_time: code.auth_time,
                    now: st.now(),
                };
                let id_token = jwt::id_token(&facts, hostile, &st.keys);
                st.id_tokens.push(id_token.clone());
                answer["id_token"] = json!(id_token);
            }
            if scope.contains(&"offline_access") {
                answer["refresh_token"] = json!(opaque_token());
            }
            Ok(answer)
        }
        "client_credentials" if st.issuers.contains_key(&tid) => Ok(json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "access_token": opaque_token(),
        })),
        "client_credentials" => {
            let scope = get(form, "scope").ok_or_else(|| Refusal::missing_parameter("scope"))?;
            if !scope.split(' ').all(|s| s.ends_with("/.default")) {
                return Err(Refusal::client_credentials_scope(scope));
            }
            Ok(json!({
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": opaque_token(),
            }))
        }
        other => Err(Refusal::unsupported_grant(other)),
    }
}

async fn admin_consent(
    state: web::Data<Mutex<State>>,
    tenant: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let query: Pairs = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let mut st = lock(&state);
    st.last_consent = Some(query.clone());
    let now = st.now();
    let checked = st.resolve(&tenant).and_then(|tid| {
        let client_id =
            get(&query, "client_id").ok_or_else(|| Refusal::missing_parameter("client_id"))?;
        if !st.app_known(client_id) {
            return Err(Refusal::app_not_found(client_id, &tid));
        }
        Ok((tid, client_id, redirect_target(&query)?))
    });
    let (tid, client_id, mut target) = match checked {
        Ok(checked) => checked,
        Err(refusal) => return refusal.page(now),
    };
    {
        let mut pairs = target.query_pairs_mut();
        // Entra answers admin_consent=True even when consent failed.
        pairs.append_pair("admin_consent", "True");
        match st.consent_next.take().unwrap_or(ConsentOutcome::Granted) {
            ConsentOutcome::Granted => {
                st.consent_app(&tid, client_id);
                let reported = st.consent_tenant.clone().unwrap_or(tid);
                pairs.append_pair("tenant", &reported);
                if let Some(scope) = get(&query, "scope") {
                    pairs.append_pair("scope", scope);
                }
            }
            ConsentOutcome::Error { error, description } => {
                pairs.append_pair("error", &error);
                pairs.append_pair("error_description", &description);
            }
        }
        if let Some(s) = get(&query, "state") {
            pairs.append_pair("state", s);
        }
    }
    found(target.as_str())
}
