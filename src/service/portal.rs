//! Find the portal of a slug: what a client's pages need to know about the client on
//! every `/p/{slug}` request (its name, whether it is on, its branding) and the
//! branding itself. Nothing secret leaves here: no consent-link state, no settings
//! the pages do not show. All point reads, so they may run inline (see the module
//! docs of `service`).

use crate::domain::client::{Client, Logo};
use crate::domain::user::{ClientId, Realm};
use crate::store::prelude::*;

use super::{Result, Services};

/// A client portal as its pages see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portal {
    pub id: ClientId,
    pub slug: String,
    /// The name shown in the top bar.
    pub name: String,
    /// Turned off portals refuse every page.
    pub enabled: bool,
    /// An accent colour is set (served as `brand.css`).
    pub has_accent: bool,
    /// A logo is set (served as `logo`).
    pub has_logo: bool,
    /// The line at the foot of its pages, if the admin set one.
    pub footer: Option<String>,
    /// Changes whenever the client's settings change: busts caches of the branding.
    pub version: i64,
}

impl Portal {
    fn of(client: &Client) -> Portal {
        Portal {
            id: client.id,
            slug: client.slug.clone(),
            name: client.name.clone(),
            enabled: client.enabled,
            has_accent: client.accent.is_some(),
            has_logo: client.logo.is_some(),
            footer: client.footer.clone(),
            version: client.updated_at.0,
        }
    }

    /// The portal of a client realm, read in an open transaction (`None` for staff or
    /// a client that is gone).
    pub(crate) fn of_realm(r: &impl Tables, realm: Realm) -> Result<Option<Portal>> {
        Ok(match realm {
            Realm::Staff => None,
            Realm::Client(id) => r.client(id)?.as_ref().map(Portal::of),
        })
    }
}

impl Services {
    /// The portal at `/p/{slug}`, enabled or not.
    pub fn portal(&self, slug: &str) -> Result<Option<Portal>> {
        Ok(self
            .store
            .read(|r| r.client_by_slug(slug))?
            .as_ref()
            .map(Portal::of))
    }

    /// The portal of `realm` (`None` for staff or a client that is gone).
    pub fn portal_of_realm(&self, realm: Realm) -> Result<Option<Portal>> {
        self.read(|r| Portal::of_realm(r, realm))
    }

    /// The accent colour (`#rrggbb`, checked when saved) of the portal at `slug`.
    pub fn portal_accent(&self, slug: &str) -> Result<Option<String>> {
        Ok(self
            .store
            .read(|r| r.client_by_slug(slug))?
            .and_then(|c| c.accent))
    }

    /// The logo of the portal at `slug`.
    pub fn portal_logo(&self, slug: &str) -> Result<Option<Logo>> {
        Ok(self
            .store
            .read(|r| r.client_by_slug(slug))?
            .and_then(|c| c.logo))
    }

    /// The sign-in page of the portal at `slug`, as a full URL.
    pub fn portal_login_url(&self, slug: &str) -> String {
        format!("{}/p/{slug}/login", self.settings.base_url)
    }
}
