//! The admin pages for customer portals: the portal app registration, the client
//! list, and one client's settings, consent and switches.

use maud::{Markup, html};

use super::admin::{admin_nav_at, revoke_all_form};
use super::components::{Field, copy_field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::domain::client::Consent;
use crate::service::sso::settings::ConnectionTest;
use crate::service::sso::summary::PortalAppSummary;
use crate::web::paths;

/// A client as the admin pages show it: every setting, but neither the sealed state
/// of its consent link nor its logo's bytes.
pub struct ClientFacts {
    pub slug: String,
    pub name: String,
    pub enabled: bool,
    pub accent: Option<String>,
    pub totp_issuer: Option<String>,
    pub footer: Option<String>,
    pub has_logo: bool,
    /// Changes with every save: busts caches of the logo.
    pub version: i64,
    pub password_login: bool,
    pub mfa_required: bool,
    pub sso_enabled: bool,
    pub tenant_id: Option<String>,
    pub sso_only: bool,
    pub passkey_sign_in: bool,
    pub jit: bool,
    pub allowed_domains: Vec<String>,
    pub allow_guests: bool,
    pub idle_timeout_secs: Option<i64>,
    pub absolute_timeout_secs: Option<i64>,
    pub consent: Consent,
}

/// The portal app registration page.
pub struct PortalAppView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    /// The registration, without the secret.
    pub app: &'a PortalAppSummary,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn portal_app_page(vm: &PortalAppView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(paths::ADMIN_PORTAL)))
            h1 { "Portal app registration" }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            section.card {
                h2 { "Register one multi-tenant app in your Entra tenant" }
                ol.steps {
                    li { strong { "App registrations → New registration" } ", name e.g. “Support portal sign-in”." }
                    li { "Supported account types: " strong { "Accounts in any organizational directory (Any Microsoft Entra ID tenant — Multitenant)" } "." }
                    li { "Add both redirect URIs, platform " strong { "Web" } ":" }
                }
                (copy_field("callback-uri", "Sign-in redirect URI", &vm.app.redirect_uri))
                (copy_field("consent-uri", "Admin-consent redirect URI", &vm.app.consent_uri))
                ol.steps start="4" {
                    li { "Create a client secret and copy its " strong { "Value" } " below with its expiry date." }
                    li { "Permissions: Microsoft Graph delegated " code { "openid" } ", " code { "profile" } ", " code { "email" } ". Each client's Entra admin grants consent once, through the link on the client's page." }
                }
            }
            section.card {
                h2 { "Settings" }
                p { "Client secret: " (vm.app.secret.status) }
                form method="post" action="/admin/portal" {
                    (csrf_input(vm.csrf))
                    (Field::new("client_id", "Application (client) ID", "text", "off").value(&vm.app.client_id).optional().render())
                    (Field::new("client_secret", "Client secret value", "password", "new-password").optional().hint("Write-only: leave empty to keep the current secret.").render())
                    (Field::new("secret_expires", "Secret expires on", "date", "off").value(vm.app.secret.expires.as_deref().unwrap_or("")).optional().render())
                    button.primary type="submit" { "Save" }
                }
            }
        },
    )
}

/// The list of clients.
pub struct ClientsView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    pub clients: &'a [(ClientFacts, usize)],
    pub error: Option<&'a str>,
}

fn consent_text(consent: &Consent) -> String {
    match consent {
        Consent::NotRequested => "not requested".to_owned(),
        Consent::Granted { at } => format!("granted {}", at.to_display()),
        Consent::Failed { at, error, .. } => format!("failed {} ({error})", at.to_display()),
    }
}

pub fn clients_page(vm: &ClientsView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(paths::ADMIN_CLIENTS)))
            h1 { "Clients" }
            (error_banner(vm.error))
            section.card {
                table {
                    thead { tr { th { "Name" } th { "Portal" } th { "Status" } th { "Sign-in" } th { "Consent" } th { "Users" } } }
                    tbody {
                        @for (c, users) in vm.clients {
                            tr {
                                td { a href=(format!("/admin/clients/{}", c.slug)) { (c.name) } }
                                td { code { "/p/" (c.slug) } }
                                td { @if c.enabled { "active" } @else { "disabled" } }
                                td {
                                    @if c.password_login && !c.sso_only { "password" @if c.mfa_required { " + TOTP" } }
                                    @if c.sso_enabled { @if c.password_login && !c.sso_only { ", " } "Microsoft" @if c.sso_only { " only" } }
                                }
                                td { (consent_text(&c.consent)) }
                                td { (users) }
                            }
                        }
                    }
                }
                @if vm.clients.is_empty() { p.small { "No clients yet." } }
            }
            section.card {
                h2 { "Add a client" }
                form method="post" action="/admin/clients" {
                    (csrf_input(vm.csrf))
                    (Field::new("name", "Name", "text", "organization").render())
                    (Field::new("slug", "Short name (slug)", "text", "off").hint("2–40 lower-case letters, digits or '-'. Their portal is at /p/<slug>; it cannot be changed later.").render())
                    button.primary type="submit" { "Add client" }
                }
            }
        },
    )
}

/// One client.
pub struct ClientView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    pub client: &'a ClientFacts,
    pub login_url: &'a str,
    pub users: usize,
    pub consent_link: Option<&'a str>,
    pub test: Option<&'a ConnectionTest>,
    pub portal_app_ready: bool,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// The client's email-first and portal-discovery switches.
    pub options: &'a super::sign_in_options::SignInOptionsView,
}

fn duration_text(secs: Option<i64>) -> String {
    match secs {
        None => String::new(),
        Some(s) if s % 3600 == 0 => format!("{}h", s / 3600),
        Some(s) if s % 60 == 0 => format!("{}m", s / 60),
        Some(s) => format!("{s}s"),
    }
}

pub fn client_page(vm: &ClientView) -> Markup {
    let c = vm.client;
    let base = format!("/admin/clients/{}", c.slug);
    let post = |action: &str, label: &str, class: &str| {
        html! {
            form.inline method="post" action=(format!("{base}/do/{action}")) {
                (csrf_input(vm.csrf))
                button type="submit" class=(class) { (label) }
            }
        }
    };
    let checkbox = |name: &str, label: &str, checked: bool| {
        html! {
            div.field.checkbox {
                input id=(name) type="checkbox" name=(name) value="on" checked[checked];
                label for=(name) { (label) }
            }
        }
    };
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(paths::ADMIN_CLIENTS)))
            p.small { a href="/admin/clients" { "← Clients" } }
            h1 { (c.name) }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            p { a href=(format!("/admin/clients/{}/providers", c.slug)) { "Identity providers (Microsoft, OpenID Connect) →" } }
            (super::sign_in_options::sign_in_options_card(vm.options))
            section.card {
                (copy_field("login-url", "Portal sign-in address (give this to the client's users)", vm.login_url))
                dl.facts {
                    dt { "Status" } dd { @if c.enabled { strong.ok { "active" } } @else { strong.warn { "disabled — nobody can sign in" } } }
                    dt { "Users" } dd { a href=(format!("{base}/users")) { (vm.users) " user(s) — manage" } }
                    dt { "Provisioning" } dd { a href=(format!("{base}/provisioning")) { "SCIM from Entra, leavers sweep — manage" } }
                    dt { "Admin consent" } dd.consent-status { (consent_text(&c.consent)) }
                    @if let Consent::Failed { description, .. } = &c.consent { dt { "Consent error" } dd { (description) } }
                    dt { "SSO-only" } dd { @if c.sso_only { strong.warn { "on" } } @else { "off" } }
                    dt { "Passkey sign-in" } dd { @if c.passkey_sign_in { "on" } @else { "off" } }
                }
                div.actions {
                    @if c.enabled { a.button.danger href=(format!("{base}/do/disable")) { "Disable portal…" } } @else { (post("enable", "Enable portal", "secondary")) }
                    (post("test", "Test connection", "secondary"))
                    @if c.sso_only { (post("sso-only-off", "Turn SSO-only off", "secondary")) } @else { (post("sso-only-on", "Turn SSO-only on", "secondary")) }
                    @if c.passkey_sign_in { (post("passkey-sign-in-off", "Turn passkey sign-in off", "secondary")) } @else { (post("passkey-sign-in-on", "Turn passkey sign-in on", "secondary")) }
                }
                @if let Some(test) = vm.test {
                    ul.checks {
                        @for item in &test.items {
                            (super::components::check_item(&item.name, item.passed, item.warning, &item.detail))
                        }
                    }
                }
            }
            section.card {
                h2 { "Microsoft sign-in for this client" }
                @if !vm.portal_app_ready {
                    p.banner.warn { "Set up the " a href="/admin/portal" { "portal app registration" } " first." }
                }
                p { "The client's Entra administrator grants consent once by opening this link (it works for 30 days):" }
                @if let Some(link) = vm.consent_link {
                    (copy_field("consent-link", "Admin-consent link", link))
                } @else {
                    (post("consent-link", "Show the admin-consent link", "secondary"))
                }
            }
            section.card {
                h2 { "Settings" }
                form method="post" action=(base) {
                    (csrf_input(vm.csrf))
                    (Field::new("name", "Name shown on the portal", "text", "organization").value(&c.name).render())
                    (Field::new("accent", "Accent colour", "text", "off").value(c.accent.as_deref().unwrap_or("")).optional().hint("Like #1f4e79; empty for the default. Text on it is made dark or light to stay readable.").render())
                    (Field::new("totp_issuer", "Name in authenticator apps", "text", "off").value(c.totp_issuer.as_deref().unwrap_or("")).optional().hint("Shown beside the codes in the user's app; empty: the name above.").render())
                    (Field::new("footer", "Footer line on the portal", "text", "off").value(c.footer.as_deref().unwrap_or("")).optional().hint("Empty: no footer.").render())
                    (Field::new("tenant_id", "Client's Directory (tenant) ID", "text", "off").value(c.tenant_id.as_deref().unwrap_or("")).optional().render())
                    fieldset {
                        legend { "Sign-in methods" }
                        (checkbox("password_login", "Email + password", c.password_login))
                        (checkbox("mfa_required", "Password users must use an authenticator app (TOTP)", c.mfa_required))
                        (checkbox("sso_enabled", "Sign in with Microsoft (the client's tenant)", c.sso_enabled))
                        (checkbox("allow_guests", "Guest accounts of the client's tenant may sign in", c.allow_guests))
                        (checkbox("jit", "Create users on their first Microsoft sign-in", c.jit))
                    }
                    (Field::new("allowed_domains", "Allowed email domains for new users", "text", "off").value(&c.allowed_domains.join(", ")).optional().hint("Comma-separated; empty: anyone in the client's tenant.").render())
                    (Field::new("idle_timeout", "Session idle timeout", "text", "off").value(&duration_text(c.idle_timeout_secs)).optional().hint("Like 30m; empty for the default.").render())
                    (Field::new("absolute_timeout", "Session lifetime", "text", "off").value(&duration_text(c.absolute_timeout_secs)).optional().hint("Like 12h; empty for the default.").render())
                    button.primary type="submit" { "Save settings" }
                }
            }
            section.card {
                h2 { "Logo" }
                p.small { "A PNG or JPEG of at most 64 KiB, shown next to the name on every portal page." }
                @if c.has_logo {
                    p { img.logo src=(format!("/p/{}/logo?v={}", c.slug, c.version)) alt=(format!("{} logo", c.name)) height="40"; }
                }
                form method="post" action=(format!("{base}/logo")) enctype="multipart/form-data" {
                    (csrf_input(vm.csrf))
                    div.field {
                        label for="logo" { "Image file" }
                        input #logo type="file" name="logo" accept="image/png,image/jpeg" required;
                    }
                    button.secondary type="submit" { "Upload logo" }
                }
                @if c.has_logo {
                    (post("remove-logo", "Remove logo", "secondary"))
                }
            }
            (revoke_all_form(&format!("{base}/do/revoke-sessions"), vm.csrf, "user of this client's portal"))
            section.card {
                h2 { "Remove this client" }
                p { "Removes the client, all its users, their sessions and its audit history. This cannot be undone." }
                form method="post" action=(format!("{base}/do/remove")) {
                    (csrf_input(vm.csrf))
                    (Field::new("confirm", "Type the slug to confirm", "text", "off").render())
                    button.danger type="submit" { "Remove client" }
                }
            }
        },
    )
}
