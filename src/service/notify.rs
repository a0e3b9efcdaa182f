//! Security notifications (DESIGN §11): when `[smtp]` is set, a user is told by email
//! when something about how they sign in changes — password changed or reset, second
//! factor added, removed or reset, recovery codes regenerated or used, a sign-in from a
//! new device. [`Services::notify`] is the one entry point; other use cases (passkeys…)
//! call it after their change has committed.
//!
//! A notice never blocks or fails the action it reports: it is queued, and a mail
//! problem shows on the admin's Email page.

use crate::domain::text::neutralised;
use crate::domain::user::{User, UserStatus};

use super::Services;
use super::mail::compose::{self, Recipient};

/// What happened to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityNotice {
    /// The user changed their password on their account page.
    PasswordChanged,
    /// The password was set through a reset link.
    PasswordReset,
    /// A second factor was added; names the kind ("authenticator app", "passkey"…).
    SecondFactorAdded(String),
    /// A second factor was removed by the user; names the kind.
    SecondFactorRemoved(String),
    /// An admin removed the user's second factors (they enrol again).
    SecondFactorReset,
    RecoveryCodesRegenerated,
    /// A recovery code was used to sign in; how many are left.
    RecoveryCodeUsed {
        left: usize,
    },
    /// A sign-in from a browser this account has not used before.
    NewDevice {
        ip: String,
        user_agent: String,
    },
}

impl SecurityNotice {
    /// The sentence that heads the email.
    fn headline(&self) -> String {
        match self {
            SecurityNotice::PasswordChanged => "Your password was changed".to_owned(),
            SecurityNotice::PasswordReset => {
                "Your password was reset with a reset link".to_owned()
            }
            SecurityNotice::SecondFactorAdded(kind) => format!("A {kind} was added to your account"),
            SecurityNotice::SecondFactorRemoved(kind) => {
                format!("A {kind} was removed from your account")
            }
            SecurityNotice::SecondFactorReset => {
                "An administrator removed your authenticator app; you set up a new one at your next sign-in".to_owned()
            }
            SecurityNotice::RecoveryCodesRegenerated => {
                "New recovery codes were made; the old ones no longer work".to_owned()
            }
            SecurityNotice::RecoveryCodeUsed { .. } => {
                "A recovery code was used to sign in to your account".to_owned()
            }
            SecurityNotice::NewDevice { .. } => {
                "Your account was signed in to from a new device".to_owned()
            }
        }
    }

    fn details(&self) -> Vec<String> {
        match self {
            SecurityNotice::RecoveryCodeUsed { left } => {
                vec![format!("You have {left} recovery codes left.")]
            }
            SecurityNotice::NewDevice { ip, user_agent } => vec![
                format!("Address: {}", neutralised(ip)),
                format!(
                    "Browser: {}",
                    neutralised(&user_agent.chars().take(200).collect::<String>())
                ),
            ],
            SecurityNotice::PasswordReset => {
                vec!["Every session of your account was signed out.".to_owned()]
            }
            _ => Vec::new(),
        }
    }
}

impl Services {
    /// Emails `notice` to `user` when email is on and the account is active. Returns
    /// whether a message was queued. Call it after the change has committed.
    pub fn notify(&self, user: &User, notice: SecurityNotice) -> bool {
        if !self.mail_enabled() || user.status != UserStatus::Active {
            return false;
        }
        let built = self.read(|r| {
            let brand = self.branding(r, user.realm)?;
            let account = self.realm_link(r, user.realm, "/account")?;
            Ok((brand, account))
        });
        let (brand, account) = match built {
            Ok(parts) => parts,
            Err(e) => {
                tracing::warn!(error = %e, "security notice not sent");
                return false;
            }
        };
        let to = Recipient {
            email: user.email.as_str().to_owned(),
            name: user.display_name.clone(),
        };
        let mail =
            compose::security_notice(&brand, &to, &notice.headline(), &notice.details(), &account);
        self.send_mail(mail).is_some()
    }
}
