//! Error pages on a client's portal look like the portal: every error answered under
//! `/p/{slug}/` (an expired or used link, throttling, a disabled portal, a page that
//! does not exist …) is shown in the client's branding, and its way out is the
//! portal's own sign-in page, never the staff pages. Status and headers (such as
//! `Retry-After`) stay as the error set them; only the page around the message changes.
//! Staff-side HTML error pages likewise carry the organisation's name and logo when an
//! admin set them.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;

use super::AppState;
use super::error::WebError;
use super::handlers::chrome;
use super::request::RealmCtx;
use super::views;

/// The slug of a portal path (`/p/{slug}` or below it).
pub fn portal_slug(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/p/")?;
    let slug = rest.split('/').next().unwrap_or_default();
    (!slug.is_empty()).then_some(slug)
}

/// `res`, an answer under the portal of `slug`, with its error page (if it is one)
/// shown in the client's branding. Runs inside `web::envelope`.
pub fn in_portal_branding(res: ServiceResponse<BoxBody>, slug: &str) -> ServiceResponse<BoxBody> {
    let shown = match res
        .response()
        .error()
        .and_then(|e| e.as_error::<WebError>())
    {
        Some(WebError::SignInRequired { .. }) | None => return res,
        Some(err) => err.describe(),
    };
    let state = AppState::of(res.request());
    // A slug that names no client keeps the plain page: there is no branding to use.
    let Ok(Some(portal)) = state.services.portal(slug) else {
        return res;
    };
    let ctx = RealmCtx::portal(state, &portal);
    let (_, title, message) = shown;
    let login = ctx.paths.login();
    let body = views::errors::page_in(
        chrome(&ctx, title, None, ""),
        &message,
        "Go to the sign-in page",
        &login,
    )
    .into_string();
    res.map_body(|_, _| BoxBody::new(body))
}

/// A staff-side HTML error page in the organisation's name and logo, when an admin
/// set them (without them the page stays exactly as it was). Runs inside
/// `web::envelope` for every staff-side (non-portal, non-machine) request.
pub fn in_staff_branding(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let is_html = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let shown = match res
        .response()
        .error()
        .and_then(|e| e.as_error::<WebError>())
    {
        Some(WebError::SignInRequired { .. }) | None => return res,
        Some(_) if !is_html => return res,
        Some(err) => err.describe(),
    };
    let state = AppState::of(res.request());
    if !state
        .services
        .staff_look()
        .is_ok_and(|look| look.org_name_set || look.has_logo)
    {
        return res;
    }
    let ctx = RealmCtx::staff(state);
    let (_, title, message) = shown;
    let body = views::errors::page_in(
        chrome(&ctx, title, None, ""),
        &message,
        "Go to the start page",
        "/",
    )
    .into_string();
    res.map_body(|_, _| BoxBody::new(body))
}

#[cfg(test)]
mod tests {
    use super::portal_slug;

    #[test]
    fn portal_paths_name_their_slug() {
        assert_eq!(portal_slug("/p/acme/login"), Some("acme"));
        assert_eq!(portal_slug("/p/acme"), Some("acme"));
        assert_eq!(portal_slug("/p/"), None);
        assert_eq!(portal_slug("/login"), None);
        assert_eq!(portal_slug("/public"), None);
    }
}
