//! A realm's sign-in options that belong to no single provider: the email-first
//! switch (staff and each client) and, for a client, its opt-in to portal discovery
//! from the staff sign-in page. Each is a form with one button that flips it; the
//! card says what the switch does and where addresses go now.

use maud::{Markup, html};

use super::components::csrf_input;

/// The card's view-model.
pub struct SignInOptionsView {
    pub csrf: String,
    /// Where the switches post: `{action_base}/email-first`, `{action_base}/portal-discovery`.
    pub action_base: String,
    /// The page the card is on; the forms come back to it.
    pub back: String,
    pub email_first: bool,
    /// For a client: whether the staff sign-in may send its addresses here.
    pub discoverable: Option<bool>,
    /// Enabled providers with routing domains: (button name, domains).
    pub routes: Vec<(String, Vec<String>)>,
}

fn on_off(on: bool) -> Markup {
    html! { @if on { strong.ok { "on" } } @else { strong { "off" } } }
}

fn switch(vm: &SignInOptionsView, name: &str, on: bool, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(format!("{}/{name}", vm.action_base)) {
            (csrf_input(&vm.csrf))
            input type="hidden" name="back" value=(vm.back);
            input type="hidden" name="state" value=(if on { "off" } else { "on" });
            button.secondary type="submit" {
                "Turn " (label) " " (if on { "off" } else { "on" })
            }
        }
    }
}

pub fn sign_in_options_card(vm: &SignInOptionsView) -> Markup {
    html! {
        section.card #sign-in-options {
            h2 { "Email-first sign-in" }
            p { "Email-first sign-in is " (on_off(vm.email_first)) "." }
            p.small {
                "When it is on, the sign-in page asks for the email address first. The "
                strong { "routing domains" }
                " of the enabled providers decide where an address goes: a domain listed on a provider sends the address to that provider's sign-in; any other address continues to the password step with the address filled in (under SSO-only, to the page listing the providers). Whether an account exists never changes the answer."
            }
            @if vm.routes.is_empty() {
                p.small { "No enabled provider has routing domains yet, so every address goes to the password step. Add routing domains in a provider's settings." }
            } @else {
                ul.small {
                    @for (name, domains) in &vm.routes {
                        li { (name) ": " (domains.join(", ")) }
                    }
                }
            }
            (switch(vm, "email-first", vm.email_first, "email-first sign-in"))
            @if let Some(discoverable) = vm.discoverable {
                h3 { "Portal discovery from the staff sign-in" }
                p { "Portal discovery is " (on_off(discoverable)) "." }
                p.small {
                    "When it is on and staff email-first sign-in is on, someone who types an address on the "
                    strong { "staff" }
                    " sign-in page whose domain is a routing domain of this client's providers is sent to this client's portal and provider. Off by default: it lets anyone who tries an address learn that this client signs in here."
                }
                (switch(vm, "portal-discovery", discoverable, "portal discovery"))
            }
        }
    }
}
