//! "Forgot password?" and the reset link's page.

use maud::{Markup, html};

use super::components::{Field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::web::paths::RealmPaths;

/// What the forgot-password page says.
pub enum ForgotState {
    /// The form.
    Ask,
    /// After a request: the same words whatever the address.
    Sent,
    /// Email is not set up on this installation.
    NoEmail,
}

pub struct ForgotView<'a> {
    pub chrome: Chrome<'a>,
    pub paths: &'a RealmPaths,
    pub csrf: &'a str,
    pub state: ForgotState,
}

/// The one answer to every request, whatever the address.
pub const SENT: &str = "If an account with a password exists for that address, we have emailed it a link to choose a new password. The link works for 30 minutes. Check your spam folder if it does not arrive.";

pub fn forgot_page(vm: &ForgotView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card.narrow {
                h1 { "Forgot your password?" }
                @match vm.state {
                    ForgotState::Sent => {
                        (notice_banner(Some(SENT)))
                        p.small { a href=(vm.paths.login()) { "Back to sign-in" } }
                    }
                    ForgotState::NoEmail => {
                        p { "Password reset by email is not set up here. Ask your administrator for a reset link." }
                        p.small { a href=(vm.paths.login()) { "Back to sign-in" } }
                    }
                    ForgotState::Ask => {
                        p { "Enter the email address you sign in with. We will email you a link to choose a new password." }
                        form method="post" action=(vm.paths.login_forgot()) {
                            (csrf_input(vm.csrf))
                            (Field::new("email", "Email", "email", "username").render())
                            button.primary type="submit" { "Email me a link" }
                        }
                        p.small { a href=(vm.paths.login()) { "Back to sign-in" } }
                    }
                }
            }
        },
    )
}

pub struct ResetView<'a> {
    pub chrome: Chrome<'a>,
    pub action: &'a str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

pub fn reset_page(vm: &ResetView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card.narrow {
                h1 { "Choose a new password" }
                p { "For " strong { (vm.email) } ". Every session of this account will be signed out; your authenticator app is still asked for at your next sign-in." }
                (error_banner(vm.error))
                form method="post" action=(vm.action) {
                    (csrf_input(vm.csrf))
                    (Field::new("password", "New password", "password", "new-password").hint("At least 8 characters. A long passphrase is best.").render())
                    (Field::new("password_confirm", "New password again", "password", "new-password").render())
                    button.primary type="submit" { "Set new password" }
                }
            }
        },
    )
}
