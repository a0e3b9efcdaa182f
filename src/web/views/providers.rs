//! The identity providers of a realm, for admins: the list in button order with each
//! provider's switches, an edit form per provider, and the form to add an OpenID
//! Connect provider. Staff at `/admin/sso/providers`, a client at
//! `/admin/clients/{slug}/providers`.

use maud::{Markup, html};

use super::components::{Field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use super::sign_in_options::{SignInOptionsView, sign_in_options_card};
use crate::domain::sso::provider::{IdentityProvider, ProviderKind, ProviderList};
use crate::service::sso::secret_expiry::ProviderSecret;
use crate::service::sso::settings::ConnectionTest;

pub struct ProvidersView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    /// "Staff" or the client's name.
    pub realm_name: &'a str,
    /// `/admin/sso/providers` or `/admin/clients/{slug}/providers`.
    pub base: &'a str,
    pub list: &'a ProviderList,
    pub sso_only: bool,
    pub redirect_uri: &'a str,
    /// Email-first and (for a client) portal discovery.
    pub options: &'a SignInOptionsView,
    /// The client secrets of the `oidc` providers.
    pub secrets: &'a [ProviderSecret],
    pub test: Option<(&'a str, &'a ConnectionTest)>,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// What was entered in the add form when it was refused (never the secret).
    pub entered: Option<&'a NewProvider>,
}

/// The add form's values, shown again when it was refused.
#[derive(Debug, Default)]
pub struct NewProvider {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub secret_expires: String,
    pub allowed_domains: String,
    pub jit: bool,
    pub require_mfa: bool,
}

fn edit_form(vm: &ProvidersView, p: &IdentityProvider) -> Markup {
    let action = format!("{}/{}/save", vm.base, p.id);
    let id = |f: &str| format!("{}-{f}", p.id);
    html! {
        details {
            summary { "Edit " (p.name) }
            form method="post" action=(action) {
                (csrf_input(vm.csrf))
                label for=(id("name")) { "Button name (“Sign in with …”)" }
                input id=(id("name")) type="text" name="name" value=(p.name);
                @if p.kind == ProviderKind::Oidc {
                    label for=(id("issuer")) { "Issuer URL" }
                    input id=(id("issuer")) type="url" name="issuer" value=(p.issuer);
                    label for=(id("client_id")) { "Client ID" }
                    input id=(id("client_id")) type="text" name="client_id" value=(p.client_id);
                    label for=(id("client_secret")) { "Client secret (leave empty to keep)" }
                    input id=(id("client_secret")) type="password" name="client_secret" autocomplete="new-password";
                    label for=(id("secret_expires")) { "Secret expires on" }
                    input id=(id("secret_expires")) type="date" name="secret_expires" value=(p.secret_expires.as_deref().unwrap_or(""));
                    label for=(id("scopes")) { "Scopes" }
                    input id=(id("scopes")) type="text" name="scopes" value=(p.scopes);
                    div.field.checkbox {
                        input id=(id("jit")) type="checkbox" name="jit" value="on" checked[p.jit];
                        label for=(id("jit")) { "Create accounts on first sign-in (just-in-time)" }
                    }
                    label for=(id("allowed_domains")) { "Allowed email domains for new accounts (empty: any)" }
                    input id=(id("allowed_domains")) type="text" name="allowed_domains" value=(p.allowed_domains.join(", "));
                    div.field.checkbox {
                        input id=(id("rve")) type="checkbox" name="require_verified_email" value="on" checked[p.require_verified_email];
                        label for=(id("rve")) { "Only addresses the provider marks email_verified link or create accounts" }
                    }
                    label for=(id("acr")) { "acr values that count as MFA (besides amr “mfa”)" }
                    input id=(id("acr")) type="text" name="mfa_acr_values" value=(p.mfa_acr_values.join(", "));
                } @else {
                    label for=(id("ctx")) { "Conditional Access authentication context id (e.g. c1)" }
                    input id=(id("ctx")) type="text" name="auth_context" value=(p.auth_context.as_deref().unwrap_or(""));
                }
                label for=(id("routing")) { "Routing domains (email-first sends these addresses here)" }
                input id=(id("routing")) type="text" name="routing_domains" value=(p.routing_domains.join(", "));
                div.field.checkbox {
                    input id=(id("mfa")) type="checkbox" name="require_mfa" value="on" checked[p.require_mfa];
                    label for=(id("mfa")) { "Require MFA at the provider (the ID token must prove it)" }
                }
                button.primary type="submit" { "Save" }
            }
        }
    }
}

pub fn providers_page(vm: &ProvidersView) -> Markup {
    let empty = NewProvider::default();
    let new = vm.entered.unwrap_or(&empty);
    let post = |id: &str, action: &str, label: &str| {
        html! {
            form.inline method="post" action=(format!("{}/{id}/{action}", vm.base)) {
                (csrf_input(vm.csrf))
                button.secondary type="submit" { (label) }
            }
        }
    };
    page(
        &vm.chrome,
        html! {
            (super::admin::admin_nav())
            h1 { "Identity providers — " (vm.realm_name) }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            section.card {
                h2 { "Providers, in the order of their buttons" }
                @if vm.list.providers.is_empty() {
                    p { "No identity provider yet." }
                }
                @if vm.sso_only && !vm.list.providers.iter().any(|p| p.require_mfa) {
                    p.notice { "SSO-only is on: turning on “Require MFA at the provider” is recommended, so a single-factor sign-in at the provider cannot open a session here." }
                }
                table {
                    thead { tr { th { "Provider" } th { "Kind" } th { "State" } th { "MFA" } th { "Actions" } } }
                    tbody {
                        @for p in &vm.list.providers {
                            tr {
                                td { strong { (p.name) } br; code { (p.id) } }
                                td { (p.kind.as_str()) }
                                td {
                                    @if p.enabled { strong.ok { "on" } } @else { "off" }
                                    @if let Some(secret) = vm.secrets.iter().find(|s| s.id == p.id) {
                                        br;
                                        @if secret.warn {
                                            strong.warn { "⚠ Secret " (secret.status) }
                                        } @else {
                                            span.small { "Secret " (secret.status) }
                                        }
                                    }
                                }
                                td { @if p.require_mfa { "required" } @else { "—" } }
                                td {
                                    @if p.enabled { (post(&p.id, "disable", "Turn off")) } @else { (post(&p.id, "enable", "Turn on")) }
                                    (post(&p.id, "up", "↑"))
                                    (post(&p.id, "down", "↓"))
                                    (post(&p.id, "test", "Test connection"))
                                    (post(&p.id, "test-sign-in", "Test sign-in"))
                                    @if p.kind == ProviderKind::Oidc { (post(&p.id, "remove", "Remove")) }
                                    (edit_form(vm, p))
                                }
                            }
                        }
                    }
                }
                @if let Some((id, test)) = vm.test {
                    div.testreport {
                        p { strong { (id) ": " } @if test.passed { strong.ok { "Connection test passed" } } @else { strong.warn { "Connection test failed" } } }
                        ul.checks {
                            @for item in &test.items {
                                (super::components::check_item(&item.name, item.passed, item.warning, &item.detail))
                            }
                        }
                    }
                }
            }
            (sign_in_options_card(vm.options))
            section.card {
                h2 { "Add an OpenID Connect provider" }
                p { "Okta, Google Workspace, Keycloak, JumpCloud… Register a web application at the provider with the redirect URI " code { (vm.redirect_uri) } ", then enter its issuer (discovery is read from the issuer's " code { "/.well-known/openid-configuration" } " and must name exactly that issuer), client ID and secret." }
                form method="post" action=(vm.base) {
                    (csrf_input(vm.csrf))
                    (Field::new("id", "Id (in /login/sso/{id})", "text", "off").value(&new.id).hint("Lower-case letters, digits and '-', e.g. okta.").render())
                    (Field::new("name", "Button name", "text", "off").value(&new.name).hint("The button reads “Sign in with {name}”.").render())
                    (Field::new("issuer", "Issuer URL", "url", "off").value(&new.issuer).render())
                    (Field::new("client_id", "Client ID", "text", "off").value(&new.client_id).render())
                    (Field::new("client_secret", "Client secret", "password", "new-password").render())
                    (Field::new("secret_expires", "Secret expires on", "date", "off").value(&new.secret_expires).optional().hint("Gatehouse warns on the dashboard from 30 days before.").render())
                    (Field::new("allowed_domains", "Allowed email domains for new accounts", "text", "off").value(&new.allowed_domains).optional().render())
                    div.field.checkbox {
                        input #new-jit type="checkbox" name="jit" value="on" checked[new.jit];
                        label for="new-jit" { "Create accounts on first sign-in (just-in-time)" }
                    }
                    div.field.checkbox {
                        input #new-mfa type="checkbox" name="require_mfa" value="on" checked[new.require_mfa];
                        label for="new-mfa" { "Require MFA at the provider (amr “mfa”)" }
                    }
                    button.primary type="submit" { "Add provider" }
                }
            }
            section.card {
                h2 { "Requiring MFA with Microsoft Entra" }
                p { "Entra's ID tokens carry no amr claim, so Gatehouse uses an authentication context:" }
                ol.steps {
                    li { "In the Entra admin center: " strong { "Protection → Conditional Access → Authentication contexts → New" } "; name it (e.g. “Gatehouse sign-in”) and note its id (c1 … c99). Publish it to apps." }
                    li { "Create a Conditional Access policy: " strong { "Target resources → Authentication context" } " = that context; " strong { "Grant → Require multifactor authentication" } "; turn it on." }
                    li { "Here, edit the Microsoft provider: enter the id (e.g. c1) and tick “Require MFA at the provider”. Gatehouse asks Entra for that context (the claims parameter, acrs essential) and opens a session only when the token's acrs names it." }
                }
            }
        },
    )
}
