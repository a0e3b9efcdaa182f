//! `/admin/sso/providers` and `/admin/clients/{client}/providers`: a realm's identity
//! providers (add, edit, reorder, enable/disable, test connection, test sign-in,
//! remove). Each handler makes one service call and answers `303 See Other` to the list,
//! which shows what happened once (a flash); a form refused for what was entered shows
//! again with the reason.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::admin_chrome;
use crate::domain::sso::SsoPurpose;
use crate::domain::sso::provider::ProviderKind;
use crate::domain::user::Realm;
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::service::sso::providers::ProviderInput;
use crate::service::sso::settings::ConnectionTest;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::{WebError, WebResult};
use crate::web::flash::{self, Flash};
use crate::web::handlers::sso::to_microsoft;
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::providers::{NewProvider, ProvidersView, providers_page};
use crate::web::{AppState, html};

/// The realm of the page (staff, or the `{client}` in the path) and its list's URL.
fn realm_of(req: &HttpRequest) -> WebResult<(Realm, String, String)> {
    let state = AppState::of(req);
    match req.match_info().get("client") {
        None => Ok((
            Realm::Staff,
            "Staff".to_owned(),
            "/admin/sso/providers".to_owned(),
        )),
        Some(slug) => {
            let client = state
                .services
                .client_by_slug(slug)
                .map_err(|_| WebError::NotFound)?;
            Ok((
                Realm::Client(client.id),
                client.name,
                format!("/admin/clients/{}/providers", client.slug),
            ))
        }
    }
}

/// What the page shows besides the list.
struct Said<'a> {
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    test: Option<(&'a str, ConnectionTest)>,
    entered: Option<NewProvider>,
}

fn render(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    said: Said,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let (realm, name, base) = realm_of(req)?;
    let list = state.services.identity_providers(realm)?;
    let sso_only = state.services.login_options(realm)?.sso_only;
    let redirect_uri = state.services.sso_redirect_uri();
    let title = format!("Identity providers — {name}");
    let options = super::sign_in_options::options_view(req, csrf, &base)?;
    let secrets = state.services.provider_secrets(realm)?;
    Ok(html(
        said.status,
        providers_page(&ProvidersView {
            chrome: admin_chrome(&title, &admin.0, csrf),
            csrf,
            realm_name: &name,
            base: &base,
            list: &list,
            sso_only,
            redirect_uri: &redirect_uri,
            options: &options,
            secrets: &secrets,
            test: said.test.as_ref().map(|(id, t)| (*id, t)),
            error: said.error.as_deref(),
            notice: said.notice.as_deref(),
            entered: said.entered.as_ref(),
        }),
    ))
}

/// After a form with fields (add, save): back to the list (POST-redirect-GET) with the
/// notice once; refused for what was entered, the page again with the reason (and the
/// add form's values, `entered`).
fn after_form<T>(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    result: Result<T, ServiceError>,
    notice: &str,
    entered: Option<NewProvider>,
) -> WebResult<HttpResponse> {
    let (status, error) = match result {
        Ok(_) => return back(req, Flash::notice(notice)),
        Err(ServiceError::Invalid(m)) => (StatusCode::BAD_REQUEST, m),
        Err(ServiceError::Conflict(m)) => (StatusCode::CONFLICT, m),
        Err(e) => return Err(e.into()),
    };
    let said = Said {
        status,
        error: Some(error),
        notice: None,
        test: None,
        entered,
    };
    render(req, admin, csrf, said)
}

/// After a button (turn on/off, reorder, remove, test): back to the list
/// (POST-redirect-GET) with what happened, or why it was refused, shown once.
fn after_button<T>(
    req: &HttpRequest,
    result: Result<T, ServiceError>,
    notice: &str,
) -> WebResult<HttpResponse> {
    match result {
        Ok(_) => back(req, Flash::notice(notice)),
        Err(e) => refused(req, e),
    }
}

/// A refusal told on the list once; other failures are error pages.
fn refused(req: &HttpRequest, e: ServiceError) -> WebResult<HttpResponse> {
    match e {
        ServiceError::Invalid(m) | ServiceError::Conflict(m) => back(
            req,
            Flash {
                error: Some(m),
                ..Flash::default()
            },
        ),
        e => Err(e.into()),
    }
}

/// `303 See Other` to the realm's list, carrying `flash` to it.
fn back(req: &HttpRequest, flash: Flash) -> WebResult<HttpResponse> {
    let (_, _, base) = realm_of(req)?;
    Ok(flash::redirect(req, &base, flash))
}

/// `GET …/providers` (with what the last action on it must show, once).
pub async fn page(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    flash: Flash,
) -> WebResult<HttpResponse> {
    let Flash {
        notice,
        error,
        test,
        tested,
        ..
    } = flash;
    let tested = tested.unwrap_or_default();
    render(
        &req,
        &admin,
        &csrf.0,
        Said {
            status: StatusCode::OK,
            error,
            notice,
            test: test.map(|t| (tested.as_str(), t)),
            entered: None,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ProviderFields {
    #[serde(default)]
    id: String,
    name: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    #[serde(default)]
    client_secret: String,
    secret_expires: Option<String>,
    scopes: Option<String>,
    allowed_domains: Option<String>,
    routing_domains: Option<String>,
    mfa_acr_values: Option<String>,
    auth_context: Option<String>,
    jit: Option<String>,
    require_verified_email: Option<String>,
    require_mfa: Option<String>,
}

impl ProviderFields {
    /// The add form's values to show again if it is refused (the secret is not).
    fn entered(&self) -> NewProvider {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        NewProvider {
            id: self.id.clone(),
            name: text(&self.name),
            issuer: text(&self.issuer),
            client_id: text(&self.client_id),
            secret_expires: text(&self.secret_expires),
            allowed_domains: text(&self.allowed_domains),
            jit: self.jit.is_some(),
            require_mfa: self.require_mfa.is_some(),
        }
    }

    /// What the form changes. Ticked boxes are on, unticked off; an empty secret keeps
    /// the stored one.
    fn input(self, kind: ProviderKind, adding: bool) -> ProviderInput {
        let oidc = kind == ProviderKind::Oidc;
        ProviderInput {
            name: self.name,
            issuer: self.issuer.filter(|_| oidc),
            client_id: self.client_id.filter(|_| oidc),
            client_secret: Some(self.client_secret).filter(|s| oidc && !s.is_empty()),
            secret_expires: self.secret_expires.filter(|_| oidc),
            scopes: self.scopes.filter(|s| oidc && !s.trim().is_empty()),
            require_verified_email: oidc.then_some(adding || self.require_verified_email.is_some()),
            routing_domains: self.routing_domains,
            jit: oidc.then_some(self.jit.is_some()),
            allowed_domains: self.allowed_domains.filter(|_| oidc),
            require_mfa: Some(self.require_mfa.is_some()),
            mfa_acr_values: self.mfa_acr_values.filter(|_| oidc),
            auth_context: self.auth_context.filter(|_| !oidc),
        }
    }
}

/// `POST …/providers`: adds an OpenID Connect provider.
pub async fn add(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<ProviderFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let (realm, _, _) = realm_of(&req)?;
    let fields = form.0;
    let id = fields.id.clone();
    let entered = fields.entered();
    let result = state
        .services
        .add_provider(
            AdminActor::user(&admin.0.user, &origin.0.ip),
            realm,
            &id,
            ProviderKind::Oidc,
            fields.input(ProviderKind::Oidc, true),
        )
        .await;
    after_form(
        &req,
        &admin,
        &csrf.0,
        result,
        "Provider added. Test its connection, then turn it on.",
        Some(entered),
    )
}

/// `POST …/providers/{provider}/{action}`
pub async fn action(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<ProviderFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let services = &state.services;
    let (realm, _, _) = realm_of(&req)?;
    let id = req
        .match_info()
        .get("provider")
        .unwrap_or_default()
        .to_owned();
    let action = req
        .match_info()
        .get("action")
        .unwrap_or_default()
        .to_owned();
    let Some(provider) = services.provider_for(realm, Some(&id))? else {
        return Err(WebError::NotFound);
    };
    let who = AdminActor::user(&admin.0.user, &origin.0.ip);
    match action.as_str() {
        "save" => {
            let result = services
                .update_provider(who, realm, &id, form.0.input(provider.kind, false))
                .await;
            after_form(&req, &admin, &csrf.0, result, "Saved.", None)
        }
        "enable" | "disable" => {
            let on = action == "enable";
            let result = services.set_provider_enabled(who, realm, &id, on).await;
            after_button(&req, result, if on { "Turned on." } else { "Turned off." })
        }
        "up" | "down" => {
            let result = services
                .move_provider(who, realm, &id, action == "up")
                .await;
            after_button(&req, result, "Order saved.")
        }
        "remove" => {
            let result = services.remove_provider(who, realm, &id).await;
            after_button(&req, result, "Provider removed.")
        }
        "test" => match services.test_provider(who, realm, &id).await {
            Ok(test) => back(
                &req,
                Flash {
                    test: Some(test),
                    tested: Some(id),
                    ..Flash::default()
                },
            ),
            Err(e) => refused(&req, e),
        },
        "test-sign-in" => {
            // Off to the provider (a 303 too); a refusal comes back to the list.
            let start = services
                .start_sso_via(
                    realm,
                    Some(&id),
                    SsoPurpose::TestSignIn {
                        admin_id: admin.0.user.id,
                    },
                    None,
                )
                .await;
            match start {
                Ok(start) => Ok(to_microsoft(state, &start)),
                Err(e) => refused(&req, e),
            }
        }
        _ => Err(WebError::NotFound),
    }
}
