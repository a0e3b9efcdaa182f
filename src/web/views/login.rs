//! Sign-in pages: email + password, the second step, TOTP enrolment and the one-time
//! display of recovery codes.

use maud::{Markup, html};

use super::components::{
    Field, code_field_focused, copy_field, csrf_input, error_banner, error_banner_counting,
    notice_banner, recovery_code_field,
};
use super::layout::{Chrome, page};
use super::passkeys::{Ceremony, PasskeyForm, passkey_form};
use crate::service::passkeys::PasskeyPrompt;
use crate::web::paths::RealmPaths;

/// A "Sign in with …" button.
pub struct SsoButton {
    pub label: String,
    pub url: String,
    /// Drawn with Microsoft's logo.
    pub microsoft: bool,
}

/// The sign-in page.
pub struct LoginView<'a> {
    pub chrome: Chrome<'a>,
    pub paths: &'a RealmPaths,
    pub csrf: &'a str,
    pub email: &'a str,
    pub next: Option<&'a str>,
    pub error: Option<&'a str>,
    /// Attempts are held off this long: the error counts it down (with JavaScript).
    pub retry_after_secs: Option<i64>,
    pub notice: Option<&'a str>,
    /// One button per enabled identity provider, in order.
    pub sso_buttons: Vec<SsoButton>,
    /// Whether the password form is offered.
    pub password_form: bool,
    /// Email-first: only the address is asked for (posted to `/login/identify`).
    pub identify: bool,
    /// SSO-only is on: offer (or mark) the emergency password form for break-glass
    /// accounts.
    pub emergency: bool,
    /// "Forgot password?" target, when password reset by email is offered.
    pub forgot_url: Option<String>,
    /// "Sign in with a passkey", where the realm allows it.
    pub passkey: Option<&'a PasskeyPrompt>,
}

pub fn login_page(vm: &LoginView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card.narrow {
                @if let Some(logo) = vm.chrome.card_logo {
                    img.card-logo src=(logo.url) alt=(logo.alt);
                }
                h1 { "Sign in" }
                (error_banner_counting(vm.error, vm.retry_after_secs))
                (notice_banner(vm.notice))
                @if vm.identify {
                    form method="post" action=(vm.paths.login_identify()) {
                        (csrf_input(vm.csrf))
                        @if let Some(next) = vm.next {
                            input type="hidden" name="next" value=(next);
                        }
                        (Field::new("email", "Email", "email", "username").value(vm.email).render())
                        button.primary type="submit" { "Continue" }
                    }
                    @if !vm.sso_buttons.is_empty() {
                        p.divider { span { "or" } }
                    }
                }
                @for b in &vm.sso_buttons {
                    @if b.microsoft {
                        a.button.microsoft href=(b.url) {
                            img src=(crate::web::assets::url("microsoft.svg")) alt="" width="20" height="20";
                            span { (b.label) }
                        }
                    } @else {
                        a.button.provider href=(b.url) { span { (b.label) } }
                    }
                }
                @if vm.password_form && !vm.identify {
                    @if vm.emergency {
                        p.divider { span { "Emergency access (break-glass accounts only)" } }
                    } @else if !vm.sso_buttons.is_empty() {
                        p.divider { span { "or with your password" } }
                    }
                    form method="post" action=(vm.paths.login()) {
                        (csrf_input(vm.csrf))
                        @if let Some(next) = vm.next {
                            input type="hidden" name="next" value=(next);
                        }
                        @if vm.emergency {
                            input type="hidden" name="emergency" value="1";
                        }
                        @if vm.passkey.is_some() {
                            (Field::new("email", "Email", "email", "username webauthn").value(vm.email).focused(vm.email.is_empty()).render())
                        } @else {
                            (Field::new("email", "Email", "email", "username").value(vm.email).focused(vm.email.is_empty()).render())
                        }
                        (Field::new("password", "Password", "password", "current-password").focused(!vm.email.is_empty()).render())
                        button.primary type="submit" { "Sign in" }
                    }
                    @if let Some(forgot) = &vm.forgot_url {
                        p.small { a href=(forgot) { "Forgot password?" } }
                    }
                } @else if vm.emergency {
                    p.emergency { a href=(format!("{}?emergency=1", vm.paths.login())) { "Emergency access" } }
                }
                @if let Some(prompt) = vm.passkey {
                    p.divider { span { "or without a password" } }
                    (passkey_form(&PasskeyForm {
                        action: vm.paths.login_passkey(),
                        csrf: vm.csrf,
                        prompt,
                        ceremony: Ceremony::SignIn,
                        button: "Sign in with a passkey",
                        named: false,
                        next: vm.next,
                        fallback: "Sign in with your password instead.",
                    }))
                }
            }
        },
    )
}

/// The second step: a TOTP or recovery code.
pub struct CodeView<'a> {
    pub chrome: Chrome<'a>,
    pub paths: &'a RealmPaths,
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    /// Using a passkey instead, when the user has one.
    pub passkey: Option<&'a PasskeyPrompt>,
}

pub fn code_page(vm: &CodeView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card.narrow {
                h1 { "Enter your code" }
                (error_banner(vm.error))
                @if let Some(prompt) = vm.passkey {
                    (passkey_form(&PasskeyForm {
                        action: vm.paths.login_mfa_passkey(),
                        csrf: vm.csrf,
                        prompt,
                        ceremony: Ceremony::Use,
                        button: "Use a passkey",
                        named: false,
                        next: None,
                        fallback: "Enter a code from your authenticator app or a recovery code instead.",
                    }))
                    p.divider { span { "or with a code" } }
                }
                form method="post" action=(vm.paths.login_mfa()) {
                    (csrf_input(vm.csrf))
                    (code_field_focused("code", "Code", "The 6-digit code from your authenticator app."))
                    button.primary type="submit" { "Continue" }
                }
                details {
                    summary { "Use a recovery code instead" }
                    form method="post" action=(vm.paths.login_mfa()) {
                        (csrf_input(vm.csrf))
                        (recovery_code_field("recovery-code"))
                        button.secondary type="submit" { "Continue with a recovery code" }
                    }
                }
                p.small { a href=(vm.paths.login()) { "Start over" } }
            }
        },
    )
}

/// TOTP enrolment.
pub struct EnrolView<'a> {
    pub chrome: Chrome<'a>,
    pub paths: &'a RealmPaths,
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    /// A data: URI of the QR code image (SVG).
    pub qr_data_uri: &'a str,
    pub secret: &'a str,
    pub otpauth_uri: &'a str,
    pub account: &'a str,
    /// A passkey instead of the app (first sign-in only).
    pub passkey: Option<&'a PasskeyPrompt>,
}

pub fn enrol_page(vm: &EnrolView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card {
                h1 { "Set up your authenticator app" }
                p { "Your account needs a second step at sign-in. Scan this code with an authenticator app (Microsoft Authenticator, Google Authenticator, 1Password, Bitwarden…) for " strong { (vm.account) } "." }
                (error_banner(vm.error))
                div.enrol {
                    img.qr src=(vm.qr_data_uri) alt="QR code for your authenticator app" width="220" height="220";
                    div {
                        p { "Cannot scan? Type this key into your app instead:" }
                        (copy_field("secret", "Setup key", vm.secret))
                        details {
                            summary { "Full setup link (for password managers)" }
                            (copy_field("otpauth", "otpauth link", vm.otpauth_uri))
                        }
                    }
                }
                form method="post" action=(vm.paths.mfa_setup()) {
                    (csrf_input(vm.csrf))
                    (code_field_focused("code", "Code from your app", "Enter the 6-digit code your app now shows, to confirm it works."))
                    button.primary type="submit" { "Confirm" }
                }
                @if let Some(prompt) = vm.passkey {
                    h2 { "Or use a passkey" }
                    p { "A passkey uses your device's screen lock or a security key instead of an app." }
                    (passkey_form(&PasskeyForm {
                        action: vm.paths.mfa_setup_passkey(),
                        csrf: vm.csrf,
                        prompt,
                        ceremony: Ceremony::Register,
                        button: "Use a passkey",
                        named: true,
                        next: None,
                        fallback: "Set up the authenticator app above instead.",
                    }))
                }
                form.cancel method="post" action=(vm.paths.logout()) {
                    (csrf_input(vm.csrf))
                    button.link type="submit" { "Cancel and sign out" }
                }
            }
        },
    )
}

/// Recovery codes, shown once after enrolment or regeneration.
pub struct RecoveryCodesView<'a> {
    pub chrome: Chrome<'a>,
    pub codes: &'a [String],
    pub continue_url: &'a str,
}

pub fn recovery_codes_page(vm: &RecoveryCodesView) -> Markup {
    page(
        &vm.chrome,
        html! {
            section.card {
                h1 { "Save your recovery codes" }
                p { "If you lose your phone, each of these codes signs you in once instead of an app code. Store them somewhere safe, like a password manager. " strong { "They will not be shown again." } }
                ol.codes {
                    @for code in vm.codes {
                        li { code { (code) } }
                    }
                }
                a.button.primary href=(vm.continue_url) { "I have saved them — continue" }
            }
        },
    )
}
