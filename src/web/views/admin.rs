//! The admin console: dashboard, staff users, one user, the audit trail.

use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::domain::audit::AuditEvent;
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

/// The dashboard.
pub struct DashboardView<'a> {
    pub chrome: Chrome<'a>,
    pub warnings: &'a [Warning],
    /// Each figure with what it counts ("staff users"…), in the order shown.
    pub figures: Vec<(u64, &'static str)>,
    /// Password sign-ins by break-glass accounts, newest first.
    pub break_glass: &'a [AuditEvent],
    /// The latest audit events, newest first.
    pub recent: Vec<&'a AuditEvent>,
}

pub fn dashboard_page(vm: &DashboardView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav())
            h1 { "Dashboard" }
            @for w in vm.warnings {
                div.banner.warn role="status" { (w.text) }
            }
            div.stats {
                @for (number, what) in &vm.figures {
                    div.stat { span.num { (number) } span { (what) } }
                }
            }
            @if !vm.break_glass.is_empty() {
                section.card {
                    h2 { "Break-glass sign-ins" }
                    p.small { "Password sign-ins by emergency accounts while SSO-only is on." }
                    (audit_table(vm.break_glass.iter()))
                }
            }
            section.card {
                h2 { "Recent activity" }
                (audit_table(vm.recent.iter().copied()))
                p { a href=(paths::ADMIN_AUDIT) { "Full audit log" } }
            }
        },
    )
}

pub fn audit_table<'a>(events: impl Iterator<Item = &'a AuditEvent>) -> Markup {
    html! {
        table.audit {
            thead { tr { th { "Time" } th { "Event" } th { "Who" } th { "About" } th { "Address" } th { "Detail" } } }
            tbody {
                @for e in events {
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
                (audit_table(vm.events.iter().map(|(_, e)| e)))
                @if let Some(older) = &vm.older {
                    p { a href=(older) { "Older events" } }
                }
            }
        },
    )
}
