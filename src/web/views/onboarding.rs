//! First-admin setup and invitation acceptance.

use maud::{Markup, html};

use super::components::{Field, csrf_input, error_banner};
use super::layout::{Chrome, page};

/// The first-admin form behind the setup link.
pub struct SetupView<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub error: Option<&'a str>,
}

pub fn setup_page(vm: &SetupView) -> Markup {
    page(
        &Chrome::plain("Set up Gatehouse"),
        html! {
            section.card.narrow {
                h1 { "Create the first administrator" }
                p { "This account manages Gatehouse. Next you will set up an authenticator app for it." }
                (error_banner(vm.error))
                form method="post" action=(vm.action) {
                    (csrf_input(vm.csrf))
                    (Field::new("email", "Email", "email", "username").value(vm.email).render())
                    (Field::new("name", "Name", "text", "name").value(vm.name).optional().render())
                    (Field::new("password", "Password", "password", "new-password").hint("At least 8 characters. A long passphrase is best.").render())
                    (Field::new("password_confirm", "Password again", "password", "new-password").render())
                    button.primary type="submit" { "Create administrator" }
                }
            }
        },
    )
}

/// The invitation page: choose a password.
pub struct InviteView<'a> {
    pub chrome: Chrome<'a>,
    pub action: &'a str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    /// False under SSO-only: the page then points to Microsoft sign-in instead.
    pub password_allowed: bool,
    pub login_url: &'a str,
}

pub fn invite_page(vm: &InviteView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card.narrow {
                h1 { "Welcome" }
                p { "You were invited as " strong { (vm.email) } "." }
                (error_banner(vm.error))
                @if vm.password_allowed {
                    form method="post" action=(vm.action) {
                        (csrf_input(vm.csrf))
                        (Field::new("password", "Choose a password", "password", "new-password").hint("At least 8 characters. A long passphrase is best.").render())
                        (Field::new("password_confirm", "Password again", "password", "new-password").render())
                        button.primary type="submit" { "Continue" }
                    }
                } @else {
                    p { "Sign in with your Microsoft account to accept." }
                    a.button.primary href=(vm.login_url) { "Go to sign-in" }
                }
            }
        },
    )
}
