//! CSRF protection for every POST. A browser gets a random `gh_csrf` cookie; forms
//! carry `csrf_token` = HMAC(csrf key, cookie value). A POST is accepted only when the
//! token matches its cookie and the request's `Origin` (or `Sec-Fetch-Site`) says it
//! came from our own pages. [`CsrfForm`] also enforces the body size limit and turns
//! malformed or non-UTF-8 forms into a clear 400.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::WebError;

/// Largest form body accepted. Two 1024-character passwords, percent-encoded as
/// 4-byte UTF-8, fit with room to spare.
pub const FORM_LIMIT: usize = 64 * 1024;

/// A CSRF cookie value issued during this request (the cookie is set on the response).
#[derive(Clone, Debug)]
pub struct IssuedCsrf(pub String);

/// A fresh random cookie value.
pub fn new_cookie_value() -> String {
    let mut bytes = [0u8; 32];
    // Without OS randomness a fixed value would defeat CSRF protection; fail closed by
    // issuing a value no token will ever match.
    if getrandom::fill(&mut bytes).is_err() {
        return String::from("unavailable");
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The form token that goes with a cookie value.
pub fn token_for(state: &AppState, cookie_value: &str) -> String {
    URL_SAFE_NO_PAD.encode(state.services.csrf_mac(cookie_value.as_bytes()))
}

/// Whether `sent` is the form token for the CSRF cookie value `cookie_value`
/// (compared in constant time; an empty token never matches).
pub fn token_matches(state: &AppState, cookie_value: &str, sent: &str) -> bool {
    let expected = token_for(state, cookie_value);
    !sent.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// Whether the request's Origin / Sec-Fetch-Site headers allow a state change.
/// Requests without either (non-browser clients) rely on the token alone.
pub fn origin_allowed(req: &HttpRequest, state: &AppState) -> bool {
    let fetch_site = req.headers().get("sec-fetch-site").map(|v| v.as_bytes());
    match req.headers().get(header::ORIGIN).map(|v| v.as_bytes()) {
        // Our pages are served with `Referrer-Policy: no-referrer`, under which browsers
        // send `Origin: null` even on a same-origin form post (Fetch: "serializing a
        // request origin"). Then only the browser's Sec-Fetch-Site can vouch for it; a
        // bare `null` (sandboxed frames, data: URLs) stays refused.
        Some(b"null") => fetch_site == Some(b"same-origin"),
        Some(origin) => origin == state.public_origin.as_bytes(),
        None => match fetch_site {
            Some(b"same-origin") | Some(b"none") => true,
            Some(_) => false,
            None => true,
        },
    }
}

/// The token to put in this page's forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl FromRequest for CsrfToken {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(csrf_token(req))
    }
}

fn csrf_token(req: &HttpRequest) -> Result<CsrfToken, WebError> {
    let state = AppState::of(req);
    let issued = req.extensions().get::<IssuedCsrf>().map(|i| i.0.clone());
    let value = issued.or_else(|| {
        req.cookie(state.cookies.csrf_name())
            .map(|c| c.value().to_owned())
    });
    // The cookie middleware issues a value on every page request that lacks one, so a
    // missing value means a POST without cookie; such forms were rejected already.
    Ok(CsrfToken(
        value.map(|v| token_for(state, &v)).unwrap_or_default(),
    ))
}

/// A form that passed the CSRF, origin and size checks.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = AppState::of(&req);
            if !origin_allowed(&req, state) {
                return Err(WebError::Csrf);
            }
            let is_form = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    v.to_ascii_lowercase()
                        .starts_with("application/x-www-form-urlencoded")
                });
            if !is_form {
                return Err(WebError::UnsupportedMedia);
            }
            let declared = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|n| n > FORM_LIMIT) {
                return Err(WebError::TooLarge);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    WebError::BadForm("the request body could not be read".to_owned())
                })?;
                if body.len() + chunk.len() > FORM_LIMIT {
                    return Err(WebError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let pairs = strict_pairs(&body).ok_or_else(|| {
                WebError::BadForm("it is not valid form data (text must be UTF-8)".to_owned())
            })?;
            let sent = pairs
                .iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.as_str())
                .unwrap_or_default();
            if !request_token_matches(&req, state, sent) {
                return Err(WebError::Csrf);
            }
            let form = serde_urlencoded::from_bytes::<T>(&body)
                .map_err(|e| WebError::BadForm(describe(&e.to_string())))?;
            Ok(CsrfForm(form))
        })
    }
}

/// Whether `sent` is the CSRF token for this browser's cookie.
pub fn request_token_matches(req: &HttpRequest, state: &AppState, sent: &str) -> bool {
    req.cookie(state.cookies.csrf_name())
        .is_some_and(|c| token_matches(state, c.value(), sent))
}

/// Decodes a form body, refusing what lenient parsers would silently repair: bytes
/// that are not UTF-8 (raw or percent-encoded) and malformed `%` escapes.
fn strict_pairs(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((strict_decode(key)?, strict_decode(value)?))
        })
        .collect()
}

fn strict_decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = part.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Turns a serde message into words for the error page (no input echoed back).
fn describe(message: &str) -> String {
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        return format!("the field “{field}” is missing");
    }
    if message.starts_with("duplicate field") {
        return "a field was sent twice".to_owned();
    }
    "a field has a value of the wrong kind".to_owned()
}
