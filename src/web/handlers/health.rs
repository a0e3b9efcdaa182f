//! `GET /healthz`: liveness for load balancers and `HEALTHCHECK`.

use actix_web::{HttpRequest, HttpResponse};

use crate::web::AppState;

/// `{"status":"ok"}` when the store answers a read; 503 otherwise.
pub async fn healthz(req: HttpRequest) -> HttpResponse {
    let state = AppState::of(&req);
    match state.services.check_health() {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })),
        Err(e) => {
            tracing::error!(error = %e, "health check: store unreadable");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "unavailable" }))
        }
    }
}
