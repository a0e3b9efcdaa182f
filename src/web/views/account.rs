//! The signed-in user's own page: profile, MFA status, sessions, password change,
//! recovery codes.

use maud::{Markup, html};

use super::components::{Field, code_field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::domain::sso::provider::ProviderButton;
use crate::domain::time::Timestamp;
use crate::service::activity::{ActedBy, ActivityItem};
use crate::service::sso::linking::LinkedAccount;
use crate::web::paths::RealmPaths;

/// One session row.
pub struct SessionRow {
    pub handle: String,
    pub created: Timestamp,
    pub last_seen: Timestamp,
    pub device: String,
    pub ip: String,
    pub method: &'static str,
    pub current: bool,
}

pub struct AccountView<'a> {
    pub chrome: Chrome<'a>,
    pub paths: &'a RealmPaths,
    pub csrf: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    /// Staff only: a portal user's role means nothing to them.
    pub role: Option<&'a str>,
    pub has_totp: bool,
    pub recovery_codes_left: usize,
    pub has_password: bool,
    /// Password changes allowed (not under SSO-only).
    pub password_allowed: bool,
    pub sessions: Vec<SessionRow>,
    /// One "Link a … account" button per enabled provider of the realm.
    pub link_buttons: &'a [ProviderButton],
    /// The accounts linked to the user, with the provider each came from.
    pub linked: &'a [LinkedAccount],
    /// How many passkeys the user has; `None` when passkeys are not used here.
    pub passkeys: Option<usize>,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// The user's own recent security events, newest first.
    pub activity: &'a [ActivityItem],
}

pub fn account_page(vm: &AccountView) -> Markup {
    page(
        &vm.chrome,
        html! {
            h1 { "Your account" }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            section.card {
                h2 { "Profile" }
                dl.facts {
                    dt { "Name" } dd { (vm.name) }
                    dt { "Email" } dd { (vm.email) }
                    @if let Some(role) = vm.role {
                        dt { "Role" } dd { (role) }
                    }
                }
            }
            section.card {
                h2 { "Two-step sign-in" }
                @if vm.has_totp {
                    p { "Authenticator app: " strong.ok { "set up" } ". Recovery codes left: " strong { (vm.recovery_codes_left) } "." }
                    @if vm.password_allowed {
                        details {
                            summary { "Make new recovery codes" }
                            p.small { "Your old codes stop working. Confirm it is you:" }
                            form method="post" action=(vm.paths.account_recovery_codes()) {
                                (csrf_input(vm.csrf))
                                (Field::new("current_password", "Current password", "password", "current-password").id("codes-current-password").render())
                                (code_field("codes-code", "Code from your app", "The 6-digit code your app shows now."))
                                button.secondary type="submit" { "Make new codes" }
                            }
                        }
                    }
                } @else if vm.has_password && vm.password_allowed {
                    p { "Authenticator app: " strong.warn { "not set up" } "." }
                    a.button.secondary href=(vm.paths.mfa_setup()) { "Set up an authenticator app" }
                } @else {
                    p { "You sign in with Microsoft; your organisation's Microsoft account handles the second step." }
                }
            }
            @if let Some(count) = vm.passkeys {
                section.card {
                    h2 { "Passkeys" }
                    p { "Passkeys registered: " strong { (count) } "." }
                    a.button.secondary href=(vm.paths.account_passkeys()) { "Manage passkeys" }
                }
            }
            @if vm.has_password && vm.password_allowed {
                section.card {
                    h2 { "Change password" }
                    p.small { "Your other sessions will be signed out." }
                    form method="post" action=(vm.paths.account_password()) {
                        (csrf_input(vm.csrf))
                        (Field::new("current_password", "Current password", "password", "current-password").id("password-current-password").render())
                        @if vm.has_totp {
                            (code_field("password-code", "Code from your app", "The 6-digit code your app shows now."))
                        }
                        (Field::new("new_password", "New password", "password", "new-password").hint("At least 8 characters.").render())
                        (Field::new("new_password_confirm", "New password again", "password", "new-password").render())
                        button.secondary type="submit" { "Change password" }
                    }
                }
            }
            section.card {
                h2 { "Sign-in accounts" }
                @if vm.linked.is_empty() {
                    p { "No account of a sign-in provider is linked." }
                } @else {
                    ul {
                        @for link in vm.linked {
                            li {
                                (link.provider) ": " (link.username) " — linked " (link.linked_at.to_display()) " "
                                form.inline method="post" action=(vm.paths.account_sso_unlink()) {
                                    (csrf_input(vm.csrf))
                                    input type="hidden" name="tenant" value=(link.tenant);
                                    input type="hidden" name="subject" value=(link.subject);
                                    button.link type="submit" { "Unlink" }
                                }
                            }
                        }
                    }
                }
                @for button in vm.link_buttons {
                    form method="post" action=(vm.paths.account_sso_link()) {
                        (csrf_input(vm.csrf))
                        input type="hidden" name="provider" value=(button.id);
                        button.secondary type="submit" { "Link a " (button.name) " account" }
                    }
                }
            }
            section.card {
                h2 { "Where you are signed in" }
                table {
                    thead { tr { th { "Device" } th { "Address" } th { "Method" } th { "Signed in" } th { "Last active" } th { span.visually-hidden { "Action" } } } }
                    tbody {
                        @for s in &vm.sessions {
                            tr {
                                td { (s.device) @if s.current { " " span.tag { "this browser" } } }
                                td { (s.ip) }
                                td { (s.method) }
                                td { (s.created.to_display()) }
                                td { (s.last_seen.to_display()) }
                                td {
                                    @if !s.current {
                                        form.inline method="post" action=(vm.paths.account_sessions_revoke()) {
                                            (csrf_input(vm.csrf))
                                            input type="hidden" name="session" value=(s.handle);
                                            button.link type="submit" { "Sign out" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (activity_card(vm.activity))
        },
    )
}

/// "Recent activity": what happened to this account, from the audit log.
fn activity_card(items: &[ActivityItem]) -> Markup {
    html! {
        section.card #activity {
            h2 { "Recent activity" }
            p.small { "Security events on your account. If you do not recognise one, change your password and tell your administrator." }
            @if items.is_empty() {
                p { "Nothing yet." }
            } @else {
                table {
                    thead { tr { th { "When" } th { "What" } th { "By" } th { "Address" } } }
                    tbody {
                        @for item in items {
                            tr {
                                td { (item.at.to_display()) }
                                td { (item.what) }
                                td { (match item.by { ActedBy::You => "you", ActedBy::Administrator => "an administrator", ActedBy::Someone => "someone" }) }
                                td { (item.from) }
                            }
                        }
                    }
                }
            }
        }
    }
}
