//! The step-up page: an admin confirms who they are before changes in the admin
//! console — password and code, or a fresh sign-in at a provider they are linked at.

use maud::{Markup, html};

use super::components::{Field, code_field, csrf_input, error_banner};
use super::layout::{Chrome, page};
use crate::domain::sso::provider::{ProviderButton, ProviderKind};
use crate::web::paths;

pub struct StepUpView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    /// The admin page to return to.
    pub next: &'a str,
    pub error: Option<&'a str>,
    /// How long a confirmation lasts, in minutes.
    pub window_minutes: i64,
    pub password_form: bool,
    /// One "Confirm with …" button per provider the admin has a linked account at.
    pub providers: &'a [ProviderButton],
}

pub fn step_up_page(vm: &StepUpView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card.narrow {
                h1 { "Confirm it is you" }
                p { "Changes in the admin console need a sign-in from the last " (vm.window_minutes) " minutes. Confirm who you are, then make your change again." }
                (error_banner(vm.error))
                @for p in vm.providers {
                    form method="post" action=(paths::ADMIN_CONFIRM_MICROSOFT) {
                        (csrf_input(vm.csrf))
                        input type="hidden" name="next" value=(vm.next);
                        input type="hidden" name="provider" value=(p.id);
                        @if p.kind == ProviderKind::Entra {
                            button.button.microsoft type="submit" {
                                img src=(crate::web::assets::url("microsoft.svg")) alt="" width="20" height="20";
                                span { "Confirm with " (p.name) }
                            }
                        } @else {
                            button.button.secondary type="submit" { "Confirm with " (p.name) }
                        }
                    }
                }
                @if vm.password_form {
                    @if !vm.providers.is_empty() {
                        p.divider { span { "or with your password" } }
                    }
                    form method="post" action=(paths::ADMIN_CONFIRM) {
                        (csrf_input(vm.csrf))
                        input type="hidden" name="next" value=(vm.next);
                        (Field::new("password", "Password", "password", "current-password").render())
                        (code_field("code", "Code", "The 6-digit code from your authenticator app, or one of your recovery codes."))
                        button.primary type="submit" { "Confirm" }
                    }
                }
                @if !vm.password_form && vm.providers.is_empty() {
                    p { "Your account has no way to confirm here. Sign out and sign in again." }
                }
                p.small { a href=(vm.next) { "Cancel" } }
            }
        },
    )
}
