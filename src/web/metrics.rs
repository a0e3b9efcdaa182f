//! `GET /metrics` in the Prometheus text format, on the separate `metrics.listen`
//! address (default `127.0.0.1:9464`), and on the main listener only when
//! `metrics.public = true` (DESIGN §14): sign-in counts and routes are nobody else's
//! business, and the main listener often faces the internet.

use std::net::SocketAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;

use super::AppState;
use super::error::WebError;
use crate::metrics::Gauges;

/// The path Prometheus scrapes.
pub const METRICS: &str = "/metrics";

const CONTENT_TYPE: &str = crate::metrics::CONTENT_TYPE;

/// `GET /metrics` on the main listener: absent (404) unless `metrics.public = true`.
pub async fn on_main_listener(req: HttpRequest) -> Result<HttpResponse, WebError> {
    let state = AppState::of(&req);
    if !state.config.metrics.public {
        return Err(WebError::NotFound);
    }
    Ok(render(state))
}

/// `GET /metrics` on the separate metrics listener.
async fn on_metrics_listener(req: HttpRequest) -> HttpResponse {
    render(AppState::of(&req))
}

fn render(state: &AppState) -> HttpResponse {
    // O(1) in redb (the length is kept in the table's header): a point read, inline.
    let active_sessions = state
        .services
        .active_sessions()
        .map_err(|e| tracing::warn!(error = %e, "metrics: sessions not counted"))
        .ok();
    let body = state.services.metrics().render(&Gauges { active_sessions });
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(body)
}

/// The app served on `metrics.listen`: `/metrics` only.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .wrap(from_fn(super::protocol::checks))
        .route(METRICS, web::get().to(on_metrics_listener))
}

/// Binds the separate metrics listener (plain HTTP; keep it on an internal address).
pub fn server(addr: SocketAddr, state: web::Data<AppState>) -> anyhow::Result<Server> {
    Ok(HttpServer::new(move || app(state.clone()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(2)
        .bind(addr)
        .with_context(|| format!("while listening on metrics.listen {addr}"))?
        .run())
}
