//! The admin console: dashboard, staff users, one user, the audit trail.

use maud::{Markup, html};

use super::components::{Field, copy_field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::domain::audit::AuditEvent;
use crate::domain::user::User;
use crate::service::admin::Dashboard;
use crate::web::paths;

fn admin_nav() -> Markup {
    html! {
        nav.subnav aria-label="Admin" {
            a href=(paths::ADMIN) { "Dashboard" }
            a href=(paths::ADMIN_USERS) { "Staff users" }
            a href=(paths::ADMIN_SSO) { "Microsoft sign-in" }
            a href=(paths::ADMIN_AUDIT) { "Audit log" }
        }
    }
}

/// A warning on the dashboard.
pub struct Warning {
    pub text: String,
}

pub fn dashboard_page(chrome: &Chrome, d: &Dashboard, warnings: &[Warning]) -> Markup {
    page(
        chrome,
        html! {
            (admin_nav())
            h1 { "Dashboard" }
            @for w in warnings {
                div.banner.warn role="status" { (w.text) }
            }
            div.stats {
                div.stat { span.num { (d.staff_users) } span { "staff users" } }
                div.stat { span.num { (d.staff_admins) } span { "active admins" } }
                div.stat { span.num { (d.sessions) } span { "sessions" } }
                div.stat { span.num { (d.failed_logins_24h) } span { "failed sign-ins (24 h)" } }
            }
            @if !d.break_glass_logins.is_empty() {
                section.card {
                    h2 { "Break-glass sign-ins" }
                    p.small { "Password sign-ins by emergency accounts while SSO-only is on." }
                    (audit_table(&d.break_glass_logins.iter().map(|e| (0, e.clone())).collect::<Vec<_>>()))
                }
            }
            section.card {
                h2 { "Recent activity" }
                (audit_table(&d.recent))
                p { a href=(paths::ADMIN_AUDIT) { "Full audit log" } }
            }
        },
    )
}

pub fn audit_table(events: &[(u64, AuditEvent)]) -> Markup {
    html! {
        table.audit {
            thead { tr { th { "Time" } th { "Event" } th { "Who" } th { "About" } th { "Address" } th { "Detail" } } }
            tbody {
                @for (_, e) in events {
                    tr.failure[e.kind.is_failure()] {
                        td { (e.at.to_display()) }
                        td { (e.kind.as_str()) }
                        td { (e.actor_email) }
                        td { (e.subject_email) }
                        td { (e.source_ip) }
                        td { (e.detail) }
                    }
                }
            }
        }
    }
}

/// The staff user list with the invite form.
pub struct UsersView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    pub users: &'a [User],
    pub error: Option<&'a str>,
    /// An invitation just created: (email, link).
    pub invited: Option<(&'a str, &'a str)>,
}

pub fn users_page(vm: &UsersView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav())
            h1 { "Staff users" }
            (error_banner(vm.error))
            @if let Some((email, link)) = vm.invited {
                section.card.highlight {
                    h2 { "Invitation for " (email) }
                    p { "Send this link to them. It works once and expires in 7 days." }
                    (copy_field("invite-link", "Invitation link", link))
                }
            }
            section.card {
                table {
                    thead { tr { th { "Name" } th { "Email" } th { "Role" } th { "Status" } th { "Authenticator" } th { "Last sign-in" } } }
                    tbody {
                        @for u in vm.users {
                            tr {
                                td { a href=(paths::admin_user(&u.id.to_string())) { (u.name_or_email()) } }
                                td { (u.email) }
                                td { (u.role.as_str()) @if u.break_glass { " " span.tag { "break-glass" } } }
                                td { (u.status.as_str()) }
                                td { @if u.totp.is_some() { "yes" } @else { "no" } }
                                td { @if let Some(t) = u.last_login_at { (t.to_display()) } @else { "never" } }
                            }
                        }
                    }
                }
            }
            section.card {
                h2 { "Invite a staff user" }
                form method="post" action=(paths::ADMIN_USERS) {
                    (csrf_input(vm.csrf))
                    (Field::new("email", "Email", "email", "off").render())
                    (Field::new("name", "Name", "text", "off").optional().render())
                    div.field {
                        label for="role" { "Role" }
                        select #role name="role" {
                            option value="member" selected { "member" }
                            option value="admin" { "admin" }
                        }
                    }
                    button.primary type="submit" { "Create invitation" }
                }
            }
        },
    )
}

/// One user with the actions an admin can take.
pub struct UserView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    pub user: &'a User,
    pub sessions: usize,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub fn user_page(vm: &UserView) -> Markup {
    let u = vm.user;
    let id = u.id.to_string();
    let action = |name: &str, label: &str, class: &str| {
        html! {
            form.inline method="post" action=(paths::admin_user_action(&id, name)) {
                (csrf_input(vm.csrf))
                button type="submit" class=(class) { (label) }
            }
        }
    };
    page(
        &vm.chrome,
        html! {
            (admin_nav())
            h1 { (u.name_or_email()) }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            section.card {
                dl.facts {
                    dt { "Email" } dd { (u.email) }
                    dt { "Role" } dd { (u.role.as_str()) }
                    dt { "Status" } dd { (u.status.as_str()) }
                    dt { "Authenticator app" } dd { @if u.totp.is_some() { "set up (" (u.recovery_codes.len()) " recovery codes left)" } @else { "not set up" } }
                    dt { "Microsoft accounts" } dd { (u.sso_links.len()) }
                    dt { "Break-glass" } dd { @if u.break_glass { "yes (set from the command line)" } @else { "no" } }
                    dt { "Sessions" } dd { (vm.sessions) }
                    dt { "User id" } dd { code { (id) } }
                    dt { "Created" } dd { (u.created_at.to_display()) }
                }
            }
            section.card {
                h2 { "Actions" }
                div.actions {
                    @if u.status == crate::domain::user::UserStatus::Disabled {
                        (action("enable", "Enable", "secondary"))
                    } @else {
                        (action("disable", "Disable and sign out", "danger"))
                    }
                    (action("reset-mfa", "Reset authenticator", "secondary"))
                    (action("revoke-sessions", "Sign out everywhere", "secondary"))
                    @if u.realm.is_staff() {
                        @if u.role == crate::domain::user::Role::Admin {
                            (action("make-member", "Make member", "secondary"))
                        } @else {
                            (action("make-admin", "Make admin", "secondary"))
                        }
                    }
                }
            }
        },
    )
}

pub struct AuditView<'a> {
    pub chrome: Chrome<'a>,
    pub events: &'a [(u64, AuditEvent)],
    /// Link to older events, if any.
    pub older: Option<String>,
}

pub fn audit_page(vm: &AuditView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav())
            h1 { "Audit log" }
            section.card {
                (audit_table(vm.events))
                @if let Some(older) = &vm.older {
                    p { a href=(older) { "Older events" } }
                }
            }
        },
    )
}
