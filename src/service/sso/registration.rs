//! Checks shared by the two Entra app registrations (staff and portal): the client id
//! is a GUID, the secret looks like a secret and is sealed at once, the expiry is a
//! date; and how a secret's state is described to admins.

use super::settings::expiry_warning;
use crate::domain::time::Timestamp;
use crate::domain::user::Sealed;
use crate::service::{Result, ServiceError, Services};

/// Checked changes to an app registration; `None` leaves a value as it is.
pub(crate) struct RegistrationChange {
    pub client_id: Option<String>,
    pub secret: Option<Sealed>,
    /// `Some(None)` clears the expiry date.
    pub expires: Option<Option<String>>,
}

fn invalid(message: &str) -> ServiceError {
    ServiceError::Invalid(message.to_owned())
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format)
        .ok()
        .map(|d| d.format(&format).unwrap_or_default())
}

impl Services {
    /// Checks what an admin entered for an app registration and seals the secret
    /// under `secret_context`. Empty secrets mean "keep the current one".
    pub(crate) fn check_registration(
        &self,
        client_id: Option<&str>,
        secret: Option<&str>,
        expires: Option<&str>,
        secret_context: &str,
    ) -> Result<RegistrationChange> {
        let client_id = client_id
            .map(|c| {
                uuid::Uuid::parse_str(c.trim())
                    .map(|u| u.hyphenated().to_string())
                    .map_err(|_| invalid("Client ID: enter the Application (client) ID from the app registration's Overview page (a GUID)."))
            })
            .transpose()?;
        let secret = secret.map(str::trim).filter(|s| !s.is_empty());
        if secret.is_some_and(|s| s.len() > 1024 || s.chars().any(char::is_control)) {
            return Err(invalid(
                "Client secret: that does not look like a secret value.",
            ));
        }
        let secret = secret
            .map(|s| self.keys.seal(s.as_bytes(), secret_context))
            .transpose()?;
        let expires = match expires.map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(text) => {
                Some(Some(parse_date(text).ok_or_else(|| {
                    invalid("Secret expiry: use the form YYYY-MM-DD.")
                })?))
            }
        };
        Ok(RegistrationChange {
            client_id,
            secret,
            expires,
        })
    }
}

/// "not set", "set", "set, expires on D", "set, expires on D (in N days — renew it
/// soon)" or "set, EXPIRED on D".
pub fn secret_status(has_secret: bool, expires: Option<&str>, now: Timestamp) -> String {
    match (has_secret, expires) {
        (false, _) => "not set".to_owned(),
        (true, None) => "set".to_owned(),
        (true, Some(date)) => match expiry_warning(date, now) {
            Some(days) if days < 0 => format!("set, EXPIRED on {date}"),
            Some(days) => format!("set, expires on {date} (in {days} days — renew it soon)"),
            None => format!("set, expires on {date}"),
        },
    }
}
