//! The confirmation page in front of an admin action that cannot be undone with one
//! click: it names the effect in plain words ("signs out 37 users of Acme") and works
//! without JavaScript (the action is a form on this page; Cancel is a link back).

use maud::{Markup, html};

use super::admin::admin_nav;
use super::components::csrf_input;
use super::layout::{Chrome, page};

pub struct ConfirmView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    /// The question: "Disable Ann Example?"
    pub question: &'a str,
    /// What happens, in plain words.
    pub effect: &'a str,
    /// Where the action is posted.
    pub action_url: &'a str,
    /// The button: "Disable and sign out".
    pub button: &'a str,
    /// Where Cancel leads (the page the admin came from).
    pub cancel_url: &'a str,
}

pub fn confirm_page(vm: &ConfirmView) -> Markup {
    page(
        &vm.chrome,
        html! {
            (admin_nav())
            section.card.narrow {
                h1 { (vm.question) }
                div.banner.warn role="note" { (vm.effect) }
                form method="post" action=(vm.action_url) {
                    (csrf_input(vm.csrf))
                    div.actions {
                        button.danger type="submit" { (vm.button) }
                        a.button.secondary href=(vm.cancel_url) { "Cancel" }
                    }
                }
            }
        },
    )
}
