//! A client's logo: uploaded from the admin page, checked, served on the portal, removed.

use actix_web::http::StatusCode;

use crate::common::portal::portals;
use crate::common::staff::admin;

fn multipart(token: Option<&str>, logo: &[u8], boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(token) = token {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n").as_bytes());
    }
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend_from_slice(logo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[actix_web::test]
async fn a_logo_is_uploaded_checked_served_and_removed() {
    let (app, _fake) = portals().await;
    let mut ops = admin(&app).await;
    ops.get("/admin/clients/acme").await;
    let token = ops.csrf.clone().unwrap();
    let boundary = "gatehouseTestBoundary";
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRtiny".to_vec();

    let page = ops
        .post_raw(
            "/admin/clients/acme/logo",
            &content_type,
            multipart(None, &png, boundary),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "no CSRF token");
    let page = ops
        .post_raw(
            "/admin/clients/acme/logo",
            &content_type,
            multipart(Some("wrong-token"), &png, boundary),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "wrong CSRF token");
    let page = ops
        .post_raw(
            "/admin/clients/acme/logo",
            &content_type,
            multipart(Some(&token), b"<svg onload=alert(1)>", boundary),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("PNG or JPEG"), "{}", page.body);
    let huge = [png.clone(), vec![0u8; 70 * 1024]].concat();
    let page = ops
        .post_raw(
            "/admin/clients/acme/logo",
            &content_type,
            multipart(Some(&token), &huge, boundary),
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        app.services.client_by_slug("acme").unwrap().logo.is_none(),
        "nothing stored so far"
    );

    let page = ops
        .post_raw(
            "/admin/clients/acme/logo",
            &content_type,
            multipart(Some(&token), &png, boundary),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let mut visitor = app.browser();
    let login = visitor.get("/p/acme/login").await;
    let logo_url = login
        .body
        .split("src=\"/p/acme/logo")
        .nth(1)
        .map(|r| {
            format!(
                "/p/acme/logo{}",
                r.split('"').next().unwrap().replace("&amp;", "&")
            )
        })
        .expect("logo shown on the portal");
    let logo = visitor.get(&logo_url).await;
    assert_eq!(logo.status, StatusCode::OK);
    assert_eq!(logo.header("content-type"), Some("image/png"));
    assert_eq!(logo.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        logo.header("cache-control"),
        Some("public, max-age=86400"),
        "a versioned logo URL may be cached"
    );

    ops.get("/admin/clients/acme").await;
    ops.post("/admin/clients/acme/do/remove-logo", &[]).await;
    assert!(app.services.client_by_slug("acme").unwrap().logo.is_none());
    assert_eq!(
        visitor.get("/p/acme/logo").await.status,
        StatusCode::NOT_FOUND
    );
}
