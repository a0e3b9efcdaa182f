//! The SCIM 2.0 service provider at `/scim/v2` (DESIGN §12): bearer token → realm,
//! one service call per request, JSON in and `application/scim+json` out, every
//! failure a SCIM error body. No cookies, no CSRF: the bearer token is the credential.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::request::client_ip;
use crate::domain::scim::{self, ScimError, ScimResult, render};
use crate::service::provisioning::ScimCaller;

/// The SCIM base path.
pub const SCIM: &str = "/scim/v2";
/// The largest request body read.
const BODY_LIMIT: usize = 256 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(SCIM)
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .route("/Users", web::get().to(list_users))
            .route("/Users", web::post().to(create_user))
            .route("/Users/{id}", web::get().to(get_user))
            .route("/Users/{id}", web::put().to(replace_user))
            .route("/Users/{id}", web::patch().to(patch_user))
            .route("/Users/{id}", web::delete().to(delete_user))
            .route("/Groups", web::get().to(list_groups))
            .route("/Groups", web::post().to(create_group))
            .route("/Groups/{id}", web::get().to(get_group))
            .route("/Groups/{id}", web::patch().to(patch_group))
            .route("/Groups/{id}", web::delete().to(delete_group))
            .route(
                "/ServiceProviderConfig",
                web::get().to(service_provider_config),
            )
            .route("/Schemas", web::get().to(schemas))
            .route("/Schemas/{id}", web::get().to(schema))
            .route("/ResourceTypes", web::get().to(resource_types))
            .route("/ResourceTypes/{id}", web::get().to(resource_type))
            .default_service(web::to(|| async {
                answer(Err(ScimError::not_found("resource")), StatusCode::OK)
            })),
    );
}

/// A SCIM answer: the resource with `ok`, or the error body with its status.
fn answer(result: ScimResult<Value>, ok: StatusCode) -> HttpResponse {
    let (status, body) = match result {
        Ok(v) => (ok, v),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.body(),
        ),
    };
    let mut res = HttpResponse::build(status);
    res.content_type("application/scim+json");
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse-scim\""));
    }
    if status == StatusCode::NO_CONTENT {
        return res.finish();
    }
    res.body(body.to_string())
}

/// The query of a list request.
struct ListQuery {
    filter: Option<String>,
    start: usize,
    count: usize,
    with_members: bool,
}

fn list_query(req: &HttpRequest) -> ScimResult<ListQuery> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ScimError::invalid_syntax("the query is malformed"))?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let number = |name: &str| -> ScimResult<Option<i64>> {
        get(name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::invalid_value(format!("{name} must be a number")))
            })
            .transpose()
    };
    let (start, count) = scim::page(number("startIndex")?, number("count")?);
    let excluded = get("excludedAttributes").unwrap_or_default();
    Ok(ListQuery {
        filter: get("filter"),
        start,
        count,
        with_members: !excluded
            .split(',')
            .any(|a| a.trim().eq_ignore_ascii_case("members")),
    })
}

fn json_body(body: &[u8]) -> ScimResult<Value> {
    serde_json::from_slice(body)
        .map_err(|_| ScimError::invalid_syntax("the body is not valid JSON"))
}

/// Authenticates, runs `work`, answers, and notes the request for the admin page.
async fn scim<F, Fut>(req: HttpRequest, ok: StatusCode, work: F) -> HttpResponse
where
    F: FnOnce(ScimCaller) -> Fut,
    Fut: std::future::Future<Output = ScimResult<Value>>,
{
    let state = AppState::of(&req);
    let services = state.services.clone();
    let address = client_ip(&req, state)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match services.scim_authenticate(authorization, &address) {
        Ok(c) => c,
        Err(e) => return answer(Err(e), ok),
    };
    let response = answer(work(caller.clone()).await, ok);
    let route = req.match_pattern().unwrap_or_default();
    if let Err(e) = services
        .note_scim_request(
            &caller,
            req.method().as_str(),
            &route,
            response.status().as_u16(),
        )
        .await
    {
        tracing::warn!(error = %e, "could not record the SCIM request");
    }
    response
}

async fn list_users(req: HttpRequest) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    let query = list_query(&req);
    scim(req, StatusCode::OK, |caller| async move {
        let q = query?;
        services
            .scim_list_users(caller, q.filter, q.start, q.count)
            .await
    })
    .await
}

async fn create_user(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::CREATED, |caller| async move {
        services.scim_create_user(caller, json_body(&body)?).await
    })
    .await
}

async fn get_user(req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::OK, |caller| async move {
        services.scim_get_user(&caller, &id)
    })
    .await
}

async fn replace_user(req: HttpRequest, id: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::OK, |caller| async move {
        services
            .scim_replace_user(caller, &id, json_body(&body)?)
            .await
    })
    .await
}

async fn patch_user(req: HttpRequest, id: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::OK, |caller| async move {
        services
            .scim_patch_user(caller, &id, json_body(&body)?)
            .await
    })
    .await
}

async fn delete_user(req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::NO_CONTENT, |caller| async move {
        services
            .scim_delete_user(caller, &id)
            .await
            .map(|()| Value::Null)
    })
    .await
}

async fn list_groups(req: HttpRequest) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    let query = list_query(&req);
    scim(req, StatusCode::OK, |caller| async move {
        let q = query?;
        services
            .scim_list_groups(caller, q.filter, q.start, q.count, q.with_members)
            .await
    })
    .await
}

async fn create_group(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::CREATED, |caller| async move {
        services.scim_create_group(caller, json_body(&body)?).await
    })
    .await
}

async fn get_group(req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    let with_members = list_query(&req).map(|q| q.with_members).unwrap_or(true);
    scim(req, StatusCode::OK, |caller| async move {
        services.scim_get_group(&caller, &id, with_members)
    })
    .await
}

async fn patch_group(req: HttpRequest, id: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::NO_CONTENT, |caller| async move {
        services
            .scim_patch_group(caller, &id, json_body(&body)?)
            .await
            .map(|()| Value::Null)
    })
    .await
}

async fn delete_group(req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let services = AppState::of(&req).services.clone();
    scim(req, StatusCode::NO_CONTENT, |caller| async move {
        services
            .scim_delete_group(caller, &id)
            .await
            .map(|()| Value::Null)
    })
    .await
}

async fn service_provider_config(req: HttpRequest) -> HttpResponse {
    let base = AppState::of(&req).services.scim_base_url();
    scim(req, StatusCode::OK, |_| async move {
        Ok(render::service_provider_config(&base))
    })
    .await
}

fn all_schemas(base: &str) -> Vec<Value> {
    vec![render::user_schema(base), render::group_schema(base)]
}

async fn schemas(req: HttpRequest) -> HttpResponse {
    let base = AppState::of(&req).services.scim_base_url();
    scim(req, StatusCode::OK, |_| async move {
        let all = all_schemas(&base);
        let total = all.len();
        Ok(render::list(all, total, 1))
    })
    .await
}

async fn schema(req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let base = AppState::of(&req).services.scim_base_url();
    scim(req, StatusCode::OK, |_| async move {
        all_schemas(&base)
            .into_iter()
            .find(|s| s["id"] == id.as_str())
            .ok_or_else(|| ScimError::not_found("Schema"))
    })
    .await
}

async fn resource_types(req: HttpRequest) -> HttpResponse {
    let base = AppState::of(&req).services.scim_base_url();
    scim(req, StatusCode::OK, |_| async move {
        let all = render::resource_types(&base);
        let total = all.len();
        Ok(render::list(all, total, 1))
    })
    .await
}

async fn resource_type(req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let base = AppState::of(&req).services.scim_base_url();
    scim(req, StatusCode::OK, |_| async move {
        render::resource_types(&base)
            .into_iter()
            .find(|s| s["id"] == id.as_str())
            .ok_or_else(|| ScimError::not_found("ResourceType"))
    })
    .await
}
