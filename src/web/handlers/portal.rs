//! A client portal's branding: its accent stylesheet and its logo (and the staff
//! pages' organisation logo, served the same way). Both are derived
//! from stored settings and served from our own origin, so the CSP can stay strict.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::domain::colour::{AccentPalette, Rgb};
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

fn slug(req: &HttpRequest) -> &str {
    req.match_info().get("slug").unwrap_or_default()
}

/// `GET /p/{slug}/brand.css`
pub async fn brand_css(req: HttpRequest) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    // The colour was validated as #rrggbb when saved; only colours we print ourselves
    // reach the CSS.
    let accent = state
        .services
        .portal_accent(slug(&req))?
        .and_then(|hex| Rgb::parse(&hex))
        .ok_or(WebError::NotFound)?;
    let css = accent_css(&AccentPalette::of(accent));
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(css))
}

/// The portal's colours: the accent, the text on it, and the accent as text on the
/// cards of the light and the dark theme, each chosen to read at 4.5:1 or better.
fn accent_css(p: &AccentPalette) -> String {
    format!(
        ":root {{ --accent: {}; --accent-ink: {}; --accent-text: {}; }}\n\
         @media (prefers-color-scheme: dark) {{ :root {{ --accent-text: {}; }} }}\n",
        p.accent.hex(),
        p.on_accent.hex(),
        p.text_light.hex(),
        p.text_dark.hex(),
    )
}

/// `GET /p/{slug}/logo`
pub async fn logo(req: HttpRequest) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let logo = state
        .services
        .portal_logo(slug(&req))?
        .ok_or(WebError::NotFound)?;
    Ok(logo_response(logo))
}

/// `GET /logo`: the staff pages' organisation logo.
pub async fn staff_logo(req: HttpRequest) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let logo = state.services.staff_logo()?.ok_or(WebError::NotFound)?;
    Ok(logo_response(logo))
}

/// A stored logo (PNG or JPEG, checked by content when saved) with its own content
/// type; `nosniff` and the strict CSP come with every response.
fn logo_response(logo: crate::domain::client::Logo) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(logo.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .body(logo.bytes)
}
