//! A realm's sign-in switches that belong to no single provider:
//! `POST /admin/sso/sign-in-options/email-first` (staff),
//! `POST /admin/clients/{client}/sign-in-options/email-first` and
//! `…/portal-discovery` (a client's opt-in to discovery from the staff sign-in).
//! Field `state` (`on` | `off`) and `back` (the page the form is on). One service call
//! each, audited there as old → new; then 303 back to the page with a notice.

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{WebError, WebResult};
use crate::web::flash::{self, Flash};
use crate::web::paths;
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::sign_in_options::SignInOptionsView;

/// The realm of the request (staff, or the `{client}` in the path), its switches'
/// base URL, and the pages its card is shown on (the first is the default way back).
struct Place {
    realm: Realm,
    action_base: String,
    pages: [String; 2],
}

fn place(req: &HttpRequest) -> WebResult<Place> {
    match req.match_info().get("client") {
        None => Ok(Place {
            realm: Realm::Staff,
            action_base: paths::ADMIN_SSO_SIGN_IN_OPTIONS.to_owned(),
            pages: [
                paths::ADMIN_SSO_PROVIDERS.to_owned(),
                paths::ADMIN_SSO.to_owned(),
            ],
        }),
        Some(slug) => {
            let client = AppState::of(req)
                .services
                .client_by_slug(slug)
                .map_err(|_| WebError::NotFound)?;
            let page = format!("{}/{}", paths::ADMIN_CLIENTS, client.slug);
            Ok(Place {
                realm: Realm::Client(client.id),
                action_base: format!("{page}/sign-in-options"),
                pages: [format!("{page}/providers"), page],
            })
        }
    }
}

/// The card of the realm the request is about, for a page at `back`.
pub(super) fn options_view(
    req: &HttpRequest,
    csrf: &str,
    back: &str,
) -> WebResult<SignInOptionsView> {
    let Place {
        realm, action_base, ..
    } = place(req)?;
    let list = AppState::of(req).services.identity_providers(realm)?;
    Ok(SignInOptionsView {
        csrf: csrf.to_owned(),
        action_base,
        back: back.to_owned(),
        email_first: list.email_first,
        discoverable: matches!(realm, Realm::Client(_)).then_some(list.discoverable),
        routes: list
            .providers
            .iter()
            .filter(|p| p.enabled && !p.routing_domains.is_empty())
            .map(|p| (p.name.clone(), p.routing_domains.clone()))
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct SwitchFields {
    #[serde(default)]
    state: String,
    #[serde(default)]
    back: String,
}

/// `POST …/sign-in-options/{switch}`
pub async fn switch(
    req: HttpRequest,
    admin: StaffAdmin,
    origin: ClientOrigin,
    form: CsrfForm<SwitchFields>,
) -> WebResult<HttpResponse> {
    let services = &AppState::of(&req).services;
    let Place { realm, pages, .. } = place(&req)?;
    let on = match form.0.state.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(WebError::BadForm("choose on or off".to_owned())),
    };
    let word = if on { "on" } else { "off" };
    let who = AdminActor::user(&admin.0.user, &origin.0.ip);
    let notice = match (req.match_info().get("switch"), realm) {
        (Some("email-first"), _) => {
            services.set_email_first(who, realm, on).await?;
            format!("Email-first sign-in is {word}.")
        }
        (Some("portal-discovery"), Realm::Client(_)) => {
            services.set_discoverable(who, realm, on).await?;
            format!("Portal discovery from the staff sign-in is {word}.")
        }
        _ => return Err(WebError::NotFound),
    };
    let [list, other] = pages;
    let back = if form.0.back == other { other } else { list };
    Ok(flash::redirect(&req, &back, Flash::notice(notice)))
}
