//! HTTP details every route shares: `HEAD` answered wherever `GET` is, request heads
//! over a sane size refused with 431 before any handler reads them, and
//! `X-Forwarded-For` from peers outside `trusted_proxies` noticed (for `doctor`).

use actix_web::HttpResponse;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;

use super::AppState;

/// The most header bytes (names, values and their separators) a request may carry.
/// Browsers send a few KiB; actix itself only stops at 128 KiB, far more than any
/// honest client and more work per request than a login appliance should accept.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The protocol checks of every request (the main app runs them inside
/// `web::envelope`; the metrics listener as this middleware).
pub async fn checks(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(refusal) = refusal(&req) {
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    admit(&mut req);
    Ok(next.call(req).await?.map_into_left_body())
}

/// The answer for a request refused before any handler: request heads over
/// [`MAX_HEADER_BYTES`] get 431.
pub fn refusal(req: &ServiceRequest) -> Option<HttpResponse> {
    (header_bytes(req) > MAX_HEADER_BYTES).then(|| {
        HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .content_type("text/plain; charset=utf-8")
            .body("Request headers too large.\n")
    })
}

/// Prepares a request that was not refused: `X-Forwarded-For` from an untrusted
/// peer is noticed, and `HEAD` runs as the `GET` it mirrors (the status and headers
/// are the `GET`'s; the HTTP codec, which saw the request's own method, sends no body
/// and keeps the `GET`'s `Content-Length`; uptime monitors and `curl -I` use `HEAD`).
pub fn admit(req: &mut ServiceRequest) {
    notice_untrusted_forwarding(req);
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
}

/// The size of the request's headers as sent: `name: value\r\n` each.
fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// Notes a request that carries `X-Forwarded-For` from a peer outside
/// `trusted_proxies`: the header is ignored then, which is wrong when the peer is a
/// proxy someone forgot to trust.
fn notice_untrusted_forwarding(req: &ServiceRequest) {
    if req.headers().contains_key("x-forwarded-for")
        && let Some(peer) = req.peer_addr().map(|a| a.ip())
    {
        let state = AppState::of(req.request());
        if !state.config.is_trusted_proxy(peer) {
            state.services.note_untrusted_forwarding(peer);
        }
    }
}
