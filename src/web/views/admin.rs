//! The admin console: dashboard, staff users, one user, the audit trail.

use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::domain::audit::AuditEvent;
use crate::service::admin::Dashboard;
use crate::web::paths;

pub fn admin_nav() -> Markup {
    html! {
        nav.subnav aria-label="Admin" {
            a href=(paths::ADMIN) { "Dashboard" }
            a href=(paths::ADMIN_USERS) { "Staff users" }
            a href=(paths::ADMIN_SSO) { "Microsoft sign-in" }
            a href=(paths::ADMIN_CLIENTS) { "Clients" }
            a href=(paths::ADMIN_PORTAL) { "Portal app" }
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
