//! The admin console: dashboard, staff users, one user, the audit trail.

use maud::{Markup, html};

use super::components::{Field, csrf_input, notice_banner};
use super::layout::{Chrome, page};
use crate::domain::audit::AuditEvent;
use crate::domain::text::neutralise;
use crate::web::paths;

/// The admin sections, in the order the navigation shows them.
const SECTIONS: [(&str, &str); 9] = [
    (paths::ADMIN, "Dashboard"),
    (paths::ADMIN_USERS, "Staff users"),
    (paths::ADMIN_SSO, "Microsoft sign-in"),
    (paths::ADMIN_CLIENTS, "Clients"),
    (paths::ADMIN_PORTAL, "Portal app"),
    (paths::ADMIN_EMAIL, "Email"),
    (paths::ADMIN_BRANDING, "Branding"),
    (paths::ADMIN_PROVISIONING, "Provisioning"),
    (paths::ADMIN_AUDIT, "Audit log"),
];

/// The admin navigation without a current section.
pub fn admin_nav() -> Markup {
    admin_nav_at(None)
}

/// The admin navigation, marking the section `current` (a path of [`SECTIONS`]) with
/// `aria-current="page"`.
pub fn admin_nav_at(current: Option<&str>) -> Markup {
    html! {
        nav.subnav aria-label="Admin" {
            @for (href, label) in SECTIONS {
                a href=(href) aria-current=[(current == Some(href)).then_some("page")] { (label) }
            }
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
    /// What the last action did ("12 sessions ended"), after its redirect.
    pub notice: Option<String>,
    pub csrf: &'a str,
    /// Staff may sign in with a passkey alone.
    pub passkey_sign_in: bool,
}

pub fn dashboard_page(vm: &DashboardView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(paths::ADMIN)))
            h1 { "Dashboard" }
            (notice_banner(vm.notice.as_deref()))
            @for w in vm.warnings {
                div.banner.warn role="status" { "⚠ " (w.text) }
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
                h2 { "Passkeys" }
                p {
                    "Sign in with a passkey alone (no password) for staff: "
                    @if vm.passkey_sign_in { strong { "on" } } @else { "off" }
                    ". Passkeys as the second step always work; SSO-only refuses both."
                }
                form method="post" action=(paths::ADMIN_PASSKEY_SIGN_IN) {
                    (csrf_input(vm.csrf))
                    @if vm.passkey_sign_in {
                        input type="hidden" name="state" value="off";
                        button.secondary type="submit" { "Turn passkey sign-in off" }
                    } @else {
                        input type="hidden" name="state" value="on";
                        button.secondary type="submit" { "Turn passkey sign-in on" }
                    }
                }
            }
            section.card {
                h2 { "Recent activity" }
                (audit_table(vm.recent.iter().copied()))
                p { a href=(paths::ADMIN_AUDIT) { "Full audit log" } }
            }
            (revoke_all_form(paths::ADMIN_SESSIONS_REVOKE, vm.csrf, "staff member, other admins included; your own session stays"))
        },
    )
}

/// "Sign everyone out", with a checkbox to confirm; `who` says whose sessions end.
pub fn revoke_all_form(action: &str, csrf: &str, who: &str) -> Markup {
    html! {
        section.card {
            h2 { "Sign everyone out" }
            p { "Ends the session of every " (who) ". Use it after a suspected leak; everyone signs in again." }
            form method="post" action=(action) {
                (csrf_input(csrf))
                div.field.checkbox {
                    input #confirm_revoke type="checkbox" name="confirm" value="yes";
                    label for="confirm_revoke" { "Yes, end all these sessions now" }
                }
                button.danger type="submit" { "End all sessions" }
            }
        }
    }
}

/// Stored text is escaped again: an entry written before events were neutralised may
/// still hold control characters.
pub fn audit_table<'a>(events: impl Iterator<Item = &'a AuditEvent>) -> Markup {
    html! {
        table.audit {
            thead { tr { th { "Time" } th { "Event" } th { "Who" } th { "About" } th { "Address" } th { "Detail" } } }
            tbody {
                @for e in events {
                    tr.failure[e.kind.is_failure()] {
                        td { (e.at.to_display()) }
                        td { (e.kind.as_str()) }
                        td { (neutralise(&e.actor_email)) }
                        td { (neutralise(&e.subject_email)) }
                        td { (neutralise(&e.source_ip)) }
                        td { (neutralise(&e.detail)) }
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
    /// The realms to filter by: (value, label).
    pub realms: &'a [(String, String)],
    /// The filter as given.
    pub realm: &'a str,
    pub who: &'a str,
    pub kind: &'a str,
    pub filtered: bool,
}

pub fn audit_page(vm: &AuditView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(paths::ADMIN_AUDIT)))
            h1 { "Audit log" }
            form.card.filters method="get" action=(paths::ADMIN_AUDIT) role="search" aria-label="Filter the audit log" {
                div.field {
                    label for="audit-realm" { "Realm" }
                    select #audit-realm name="realm" {
                        option value="" selected[vm.realm.is_empty()] { "All" }
                        @for (value, label) in vm.realms {
                            option value=(value) selected[vm.realm == value] { (label) }
                        }
                    }
                }
                (Field::new("who", "Person (part of an email)", "text", "off").id("audit-who").value(vm.who).optional().render())
                (Field::new("kind", "Event (part of its name, e.g. login)", "text", "off").id("audit-kind").value(vm.kind).optional().render())
                div.actions {
                    button.secondary type="submit" { "Filter" }
                    @if vm.filtered { a href=(paths::ADMIN_AUDIT) { "Show everything" } }
                }
            }
            section.card {
                @if vm.events.is_empty() {
                    p { "No events" @if vm.filtered { " match this filter" } @if vm.older.is_some() { " on this page" } "." }
                } @else {
                    (audit_table(vm.events.iter().map(|(_, e)| e)))
                }
                @if let Some(older) = &vm.older {
                    p { a href=(older) { "Older events" } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::AuditKind;
    use crate::domain::time::Timestamp;

    #[test]
    fn an_older_raw_record_is_shown_escaped() {
        // Written before events were neutralised: set the fields directly.
        let mut event = AuditEvent::new(AuditKind::LoginFailed, Timestamp(0));
        event.actor_email = "x@y.z\nforged".to_owned();
        event.detail = "\x1b[31mred\u{202e}".to_owned();
        let shown = audit_table([&event].into_iter()).into_string();
        assert!(!shown.contains(['\n', '\x1b', '\u{202e}']), "{shown:?}");
        assert!(shown.contains("x@y.z\\nforged") && shown.contains("\\u{1b}[31mred\\u{202e}"));
    }
}
