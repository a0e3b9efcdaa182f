//! Forward-auth requests in tests, as a reverse proxy (nginx `auth_request`, Caddy
//! `forward_auth`, Traefik `forwardAuth`) sends them on a browser's behalf.

use actix_web::http::header;
use actix_web::test::TestRequest;

use super::{Browser, Page};

/// A forward-auth request to `path` as a reverse proxy sends it: the browser's
/// cookies and address, plus `headers`.
pub async fn check(browser: &mut Browser, path: &str, headers: &[(&str, &str)]) -> Page {
    let cookie = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut req = TestRequest::get()
        .uri(path)
        .peer_addr(format!("{}:5000", browser.ip).parse().unwrap());
    if !cookie.is_empty() {
        req = req.insert_header((header::COOKIE, cookie));
    }
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    browser.send(req).await
}
