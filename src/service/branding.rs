//! The staff side's branding: the organisation name and logo an admin sets for the
//! staff pages (admin console or `gatehouse staff set`). Stored as one settings record;
//! checked here, audited old → new. Pages read [`StaffLook`] (no logo bytes); the logo
//! itself is served by [`Services::staff_logo`].

use std::sync::Arc;

use crate::domain::audit::AuditKind;
use crate::domain::branding::{ORG_NAME_LIMIT, StaffBranding, check_org_name};
use crate::domain::client::{LOGO_LIMIT, Logo};
use crate::domain::user::Realm;
use crate::store::codec::Record;
use crate::store::prelude::*;
use crate::store::settings::Setting;

use super::admin::AdminActor;
use super::{Result, ServiceError, Services};

impl Record for StaffBranding {
    const KIND: &'static str = "staff branding";
}

impl Setting for StaffBranding {
    const NAME: &'static str = "staff-branding";
}

/// What the staff pages need of the branding: its name, whether a logo is set, and
/// the version that busts caches of the logo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffLook {
    /// The organisation's name, or "Gatehouse" when none is set.
    pub name: String,
    /// An organisation name is set.
    pub org_name_set: bool,
    pub has_logo: bool,
    pub version: i64,
}

impl Default for StaffLook {
    fn default() -> StaffLook {
        StaffLook::of(&StaffBranding::default())
    }
}

impl StaffLook {
    fn of(branding: &StaffBranding) -> StaffLook {
        StaffLook {
            name: branding.name().to_owned(),
            org_name_set: branding.org_name.is_some(),
            has_logo: branding.logo.is_some(),
            version: branding.version,
        }
    }
}

/// A change to the staff branding; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct StaffBrandingUpdate {
    /// The organisation name; `Some("")` removes it.
    pub org_name: Option<String>,
    /// A new logo (PNG or JPEG bytes), or `Some(None)` to remove it.
    pub logo: Option<Option<Vec<u8>>>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(message.into())
}

impl Services {
    /// The staff pages' name and logo state.
    pub fn staff_look(&self) -> Result<StaffLook> {
        let branding: StaffBranding = self.read(|r| Ok(r.setting()?))?;
        Ok(StaffLook::of(&branding))
    }

    /// The staff logo, if one is set.
    pub fn staff_logo(&self) -> Result<Option<Logo>> {
        let branding: StaffBranding = self.read(|r| Ok(r.setting()?))?;
        Ok(branding.logo)
    }

    /// Changes the staff branding. Every value is checked before anything is stored;
    /// a change is audited with the old and the new value (never the logo's bytes).
    pub async fn set_staff_branding(
        self: &Arc<Self>,
        actor: AdminActor,
        update: StaffBrandingUpdate,
    ) -> Result<StaffLook> {
        let org_name = match update.org_name.as_deref() {
            None => None,
            Some(name) => Some(check_org_name(name).map_err(|_| {
                invalid(format!(
                    "Organisation name: at most {ORG_NAME_LIMIT} characters on one line."
                ))
            })?),
        };
        let logo = match update.logo {
            None => None,
            Some(None) => Some(None),
            Some(Some(bytes)) => Some(Some(Logo::from_bytes(bytes).ok_or_else(|| {
                invalid(format!(
                    "Logo: use a PNG or JPEG image of at most {} KiB.",
                    LOGO_LIMIT / 1024
                ))
            })?)),
        };
        self.blocking(move |s| {
            s.write(|w| {
                let before: StaffBranding = w.setting()?;
                let mut branding = before.clone();
                if let Some(name) = org_name {
                    branding.org_name = name;
                }
                if let Some(logo) = logo {
                    branding.logo = logo;
                }
                if branding == before {
                    return Ok(StaffLook::of(&branding));
                }
                branding.version = s.clock.now().0.max(before.version + 1);
                w.put_setting(&branding)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SettingsChanged)
                        .in_realm(Realm::Staff)
                        .detail(format!(
                            "staff branding changed: {}",
                            branding.changes_since(&before)
                        )),
                )?;
                Ok(StaffLook::of(&branding))
            })
        })
        .await
    }
}
