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

/// The protocol checks of every request, in one middleware: request heads over
/// [`MAX_HEADER_BYTES`] refused with 431; `X-Forwarded-For` from an untrusted peer
/// noticed; and `HEAD` run as the `GET` it mirrors (the status and headers are the
/// `GET`'s; the HTTP codec, which saw the request's own method, sends no body and
/// keeps the `GET`'s `Content-Length`; uptime monitors and `curl -I` use `HEAD`).
pub async fn checks(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if header_bytes(&req) > MAX_HEADER_BYTES {
        let response = HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .content_type("text/plain; charset=utf-8")
            .body("Request headers too large.\n");
        return Ok(req.into_response(response).map_into_right_body());
    }
    notice_untrusted_forwarding(&req);
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    Ok(next.call(req).await?.map_into_left_body())
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
