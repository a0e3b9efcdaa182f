//! The admin's Email page: the mail server in use, what happened to recent messages,
//! and "Send test email".

use maud::{Markup, html};

use super::admin::admin_nav;
use super::components::{Field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::domain::text::neutralise;
use crate::service::mail::MailStatus;
use crate::web::paths;

pub struct EmailView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    pub status: &'a MailStatus,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub fn email_page(vm: &EmailView) -> Markup {
    let s = vm.status;
    page(
        &vm.chrome,
        html! {
            (admin_nav())
            h1 { "Email" }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            section.card {
                @if s.configured {
                    dl.facts {
                        dt { "Mail server" } dd { (s.server) }
                        dt { "Sender" } dd { (s.from) }
                        dt { "Sent since start" } dd { (s.sent) }
                        dt { "Could not be sent" } dd { (s.failed) }
                    }
                    p.small { "Invitations, password reset links and security notices are emailed. Links are still shown here to copy." }
                } @else {
                    p { "Email is off: there is no " code { "[smtp]" } " section in the configuration. Invitation and reset links are shown to copy and pass on yourself; users cannot reset their own password." }
                }
            }
            @if s.configured {
                section.card {
                    h2 { "Send test email" }
                    form method="post" action=(paths::ADMIN_EMAIL_TEST) {
                        (csrf_input(vm.csrf))
                        (Field::new("to", "Send to", "email", "off").render())
                        button.primary type="submit" { "Send test email" }
                    }
                }
                section.card {
                    h2 { "Recent messages" }
                    @if s.recent.is_empty() {
                        p.small { "Nothing sent since the server started." }
                    } @else {
                        table.mail {
                            thead { tr { th { "Queued" } th { "To" } th { "What" } th { "State" } th { "Attempts" } th { "Problem" } } }
                            tbody {
                                @for m in &s.recent {
                                    tr class=(m.state.label()) {
                                        td { (m.queued_at.to_display()) }
                                        td { (neutralise(&m.to)) }
                                        td { (m.kind) }
                                        td { (m.state.label()) }
                                        td { (m.attempts) }
                                        td { @if let Some(e) = m.state.error() { (e) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
