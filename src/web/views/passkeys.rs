//! Passkey pieces of pages: the form that runs a WebAuthn ceremony (through the
//! embedded `passkeys.js`; without JavaScript the page says passkeys need it), and
//! the account's passkey list.

use maud::{Markup, html};

use super::components::{Field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::service::passkeys::{PasskeyPrompt, PasskeySummary};
use crate::web::paths::RealmPaths;

/// What a passkey form asks the browser for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ceremony {
    /// Create a new passkey (`navigator.credentials.create`).
    Register,
    /// Use one of the user's passkeys (`navigator.credentials.get`).
    Use,
    /// Sign in with any passkey of this site, also offered in the email field's
    /// autofill where the browser supports it.
    SignIn,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Ceremony::Register => "create",
            Ceremony::Use => "get",
            Ceremony::SignIn => "sign-in",
        }
    }
}

/// A form that runs one WebAuthn ceremony and posts its answer.
pub struct PasskeyForm<'a> {
    pub action: String,
    pub csrf: &'a str,
    pub prompt: &'a PasskeyPrompt,
    pub ceremony: Ceremony,
    pub button: &'a str,
    /// Ask for a name (registration).
    pub named: bool,
    pub next: Option<&'a str>,
    /// What works instead when the browser has no JavaScript or no passkeys.
    pub fallback: &'a str,
}

pub fn passkey_form(f: &PasskeyForm) -> Markup {
    html! {
        div.passkey {
            p.small.passkey-needs-js { "Passkeys need JavaScript in your browser. " (f.fallback) }
            form.passkey-form method="post" action=(f.action) data-passkey=(f.ceremony.as_str()) data-options=(f.prompt.options_json) hidden {
                (csrf_input(f.csrf))
                input type="hidden" name="ceremony" value=(f.prompt.ceremony);
                input type="hidden" name="credential" value="";
                @if let Some(next) = f.next {
                    input type="hidden" name="next" value=(next);
                }
                @if f.named {
                    (Field::new("name", "Name of this passkey", "text", "off").optional().hint("For example the device or password manager that keeps it.").render())
                }
                p.small.passkey-status role="status" {}
                button.secondary type="submit" { (f.button) }
            }
        }
    }
}

/// The account's passkeys page.
pub struct PasskeysView<'a> {
    pub chrome: Chrome<'a>,
    pub paths: &'a RealmPaths,
    pub csrf: &'a str,
    pub passkeys: &'a [PasskeySummary],
    /// The registration challenge, or why a passkey cannot be added now.
    pub add: Result<PasskeyPrompt, String>,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn passkeys_page(vm: &PasskeysView) -> Markup {
    page(
        &vm.chrome,
        html! {
            h1 { "Passkeys" }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            section.card {
                p { "A passkey signs you in with your device's screen lock or a security key, instead of a code from an authenticator app. It cannot be phished." }
                @if vm.passkeys.is_empty() {
                    p { "You have no passkeys yet." }
                } @else {
                    table {
                        thead { tr { th { "Name" } th { "Created" } th { "Last used" } th { span.visually-hidden { "Action" } } } }
                        tbody {
                            @for p in vm.passkeys {
                                tr {
                                    td { (p.name) }
                                    td { (p.created_at.to_display()) }
                                    td { @match p.last_used_at { Some(at) => (at.to_display()), None => "never" } }
                                    td {
                                        form.inline method="post" action=(vm.paths.account_passkeys_remove()) {
                                            (csrf_input(vm.csrf))
                                            input type="hidden" name="passkey" value=(p.handle);
                                            button.link type="submit" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.card {
                h2 { "Add a passkey" }
                @match &vm.add {
                    Ok(prompt) => (passkey_form(&PasskeyForm {
                        action: vm.paths.account_passkeys(),
                        csrf: vm.csrf,
                        prompt,
                        ceremony: Ceremony::Register,
                        button: "Add a passkey",
                        named: true,
                        next: None,
                        fallback: "Your authenticator app keeps working.",
                    })),
                    Err(why) => p { (why) },
                }
            }
            p.small { a href=(vm.paths.account()) { "Back to your account" } }
        },
    )
}
