//! Microsoft sign-in pages: the admin's SSO settings page and the test sign-in result.

use maud::{Markup, html};

use super::components::{Field, copy_field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use super::sign_in_options::{SignInOptionsView, sign_in_options_card};
use crate::domain::entra::SsoIdentity;
use crate::service::sso::settings::ConnectionTest;
use crate::service::sso::summary::StaffSsoSummary;

/// The claims a test sign-in received.
pub struct ClaimsView<'a> {
    pub chrome: Chrome<'a>,
    pub identity: &'a SsoIdentity,
}

pub fn claims_page(vm: &ClaimsView) -> Markup {
    let none = || "(not sent)".to_owned();
    let id = vm.identity;
    page(
        &vm.chrome,
        html! {
            section.card {
                h1 { "Test sign-in worked" }
                p { "Microsoft signed this account in and the answer passed every check. No session was created." }
                dl.facts {
                    dt { "tid (tenant)" } dd { code { (id.tenant) } }
                    dt { "oid (object id)" } dd { code { (id.object_id) } }
                    dt { "name" } dd { (id.name.clone().unwrap_or_else(none)) }
                    dt { "email" } dd { (id.email.clone().unwrap_or_else(none)) }
                    dt { "preferred_username" } dd { (id.preferred_username.clone().unwrap_or_else(none)) }
                }
                p { a href="/admin/sso" { "Back to Microsoft sign-in settings" } }
            }
        },
    )
}

/// The admin's staff SSO page.
pub struct SsoAdminView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    /// The settings, without the secret.
    pub settings: &'a StaffSsoSummary,
    /// The conditions for SSO-only and whether each holds.
    pub guard: Vec<(&'static str, bool)>,
    pub test: Option<&'a ConnectionTest>,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// The staff email-first switch.
    pub options: &'a SignInOptionsView,
}

fn test_report(test: &ConnectionTest, current: bool) -> Markup {
    html! {
        div.testreport {
            p {
                @if test.passed { strong.ok { "Connection test passed" } } @else { strong.warn { "Connection test failed" } }
                " — " (test.at.to_display())
                @if !current { " (settings changed since; test again)" }
            }
            ul.checks {
                @for item in &test.items {
                    (super::components::check_item(&item.name, item.passed, item.warning, &item.detail))
                }
            }
        }
    }
}

pub fn sso_admin_page(vm: &SsoAdminView) -> Markup {
    let s = vm.settings;
    let post = |action: &str, label: &str, class: &str| {
        html! {
            form.inline method="post" action=(action) {
                (csrf_input(vm.csrf))
                button type="submit" class=(class) { (label) }
            }
        }
    };
    page(
        &vm.chrome,
        html! {
            (super::admin::admin_nav_at(Some(crate::web::paths::ADMIN_SSO)))
            h1 { "Staff sign-in with Microsoft" }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            section.card {
                h2 { "Identity providers" }
                p { "Microsoft is one of the staff realm's identity providers; OpenID Connect providers (Okta, Google Workspace, Keycloak…) can be added, ordered, tested and required to prove MFA on the providers page." }
                p { a.button.secondary href="/admin/sso/providers" { "Manage identity providers" } }
            }
            (sign_in_options_card(vm.options))
            section.card {
                h2 { "Status" }
                dl.facts {
                    dt { "Microsoft sign-in" } dd { @if s.enabled { strong.ok { "on" } } @else { "off" } }
                    dt { "SSO-only" } dd { @if s.sso_only { strong.warn { "on — passwords are refused (break-glass accounts excepted)" } } @else { "off" } }
                    dt { "Client secret" } dd { (s.secret.status) }
                }
                div.actions {
                    @if s.enabled {
                        (post("/admin/sso/disable", "Turn Microsoft sign-in off", "secondary"))
                    } @else {
                        (post("/admin/sso/enable", "Turn Microsoft sign-in on", "secondary"))
                    }
                    (post("/admin/sso/test", "Test connection", "secondary"))
                    @if s.configured {
                        (post("/admin/sso/test-sign-in", "Test sign-in", "secondary"))
                    }
                }
                @if let Some(test) = vm.test {
                    (test_report(test, test.revision == s.revision))
                }
            }
            section.card {
                h2 { "1. Register an app in Microsoft Entra" }
                ol.steps {
                    li { "In the Microsoft Entra admin center, open " strong { "App registrations → New registration" } "." }
                    li { "Name it (e.g. “Gatehouse staff sign-in”). Supported account types: " strong { "Accounts in this organizational directory only (single tenant)" } "." }
                    li { "Redirect URI: platform " strong { "Web" } ", value:" }
                }
                (copy_field("redirect-uri", "Redirect URI", &s.redirect_uri))
                ol.steps start="4" {
                    li { "Register. From " strong { "Overview" } ", copy the " strong { "Directory (tenant) ID" } " and " strong { "Application (client) ID" } " into the form below." }
                    li { strong { "Certificates & secrets → New client secret" } ". Copy its " strong { "Value" } " (not the Secret ID) below, and note its expiry date." }
                    li { strong { "API permissions" } ": Microsoft Graph delegated " code { "openid" } ", " code { "profile" } ", " code { "email" } " (present by default with User.Read). Grant admin consent if your tenant requires it." }
                }
            }
            section.card {
                h2 { "2. Settings" }
                form method="post" action="/admin/sso" {
                    (csrf_input(vm.csrf))
                    (Field::new("tenant_id", "Directory (tenant) ID or verified domain", "text", "off").value(&s.tenant).optional().render())
                    (Field::new("client_id", "Application (client) ID", "text", "off").value(&s.client_id).optional().render())
                    (Field::new("client_secret", "Client secret value", "password", "new-password").optional().hint("Write-only: leave empty to keep the current secret. It is stored encrypted and never shown again.").render())
                    (Field::new("secret_expires", "Secret expires on", "date", "off").value(s.secret.expires.as_deref().unwrap_or("")).optional().hint("You will be warned on the dashboard from 30 days before.").render())
                    div.field.checkbox {
                        input #jit type="checkbox" name="jit" value="on" checked[s.jit];
                        label for="jit" { "Create accounts for new staff on their first Microsoft sign-in (just-in-time)" }
                    }
                    (Field::new("allowed_domains", "Allowed email domains for new accounts", "text", "off").value(&s.allowed_domains.join(", ")).optional().hint("Comma-separated, e.g. contoso.com. Empty: anyone in your tenant.").render())
                    div.field.checkbox {
                        input #allow_guests type="checkbox" name="allow_guests" value="on" checked[s.allow_guests];
                        label for="allow_guests" { "Let guest (B2B) accounts of your tenant sign in as staff" }
                    }
                    button.primary type="submit" { "Save settings" }
                }
            }
            section.card {
                h2 { "3. SSO-only" }
                p { "When SSO-only is on, the server refuses passwords, local authenticator codes and recovery codes for every staff member, whatever page or parameter is used. Break-glass accounts (set with " code { "gatehouse user break-glass on" } ") may still use password + code; each such sign-in is audited and shown on the dashboard. Turning it on signs out everyone who signed in with a password." }
                ul.checks {
                    @for (condition, holds) in &vm.guard {
                        li class=(if *holds { "pass" } else { "fail" }) { (if *holds { "✓ " } else { "✗ " }) (condition) }
                    }
                }
                form method="post" action="/admin/sso/sso-only" {
                    (csrf_input(vm.csrf))
                    @if s.sso_only {
                        input type="hidden" name="state" value="off";
                        button.secondary type="submit" { "Turn SSO-only off" }
                    } @else {
                        input type="hidden" name="state" value="on";
                        @if vm.guard.iter().all(|(_, holds)| *holds) {
                            button.danger type="submit" { "Turn SSO-only on" }
                        } @else {
                            // The server refuses it too; the button says why first.
                            button.danger type="submit" disabled aria-describedby="sso-only-why" { "Turn SSO-only on" }
                            p.hint #sso-only-why { "Not yet: every condition above must show ✓ first." }
                        }
                    }
                }
                p.small { "If Microsoft is unreachable, run " code { "gatehouse sso-only off" } " on the server; it always works." }
            }
        },
    )
}
