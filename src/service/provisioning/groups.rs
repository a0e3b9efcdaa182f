//! SCIM Groups of the caller's realm, as far as Entra's group assignment needs:
//! create, get, list with a `displayName` filter, PATCH (rename, add and remove
//! members), delete. Members must be users of the same realm; a group grants nothing
//! by itself.

use std::sync::Arc;

use serde_json::Value;

use crate::domain::audit::AuditKind;
use crate::domain::provisioning::ScimGroup;
use crate::domain::scim::filter::{self, FilterAttr};
use crate::domain::scim::group::{GroupChange, parse_resource, patch_changes};
use crate::domain::scim::render::{self, Meta};
use crate::domain::scim::{ScimError, ScimResult, patch_operations};
use crate::domain::user::{Realm, UserId};
use crate::store::prelude::*;

use super::ScimCaller;
use super::users::{by_scim, scim_error};
use crate::service::{ServiceError, Services};

fn group_id(text: &str) -> ScimResult<uuid::Uuid> {
    uuid::Uuid::parse_str(text).map_err(|_| ScimError::not_found("Group"))
}

/// Member ids as users of `realm`; anything else (malformed, unknown, another
/// realm's) is the same `invalidValue`.
fn members_in(
    r: &impl Tables,
    realm: Realm,
    ids: &[String],
) -> crate::service::Result<Vec<UserId>> {
    let mut out = Vec::with_capacity(ids.len());
    for text in ids {
        let id = uuid::Uuid::parse_str(text)
            .ok()
            .map(UserId)
            .ok_or_else(|| ServiceError::Invalid(format!("no user {text} here")))?;
        if !r.user(id)?.is_some_and(|u| u.realm == realm) {
            return Err(ServiceError::Invalid(format!("no user {text} here")));
        }
        out.push(id);
    }
    Ok(out)
}

impl Services {
    fn group_json(
        &self,
        r: &impl Tables,
        group: &ScimGroup,
        with_members: bool,
    ) -> crate::service::Result<Value> {
        let base = self.scim_base_url();
        let members = if with_members {
            let mut list = Vec::new();
            for id in &group.members {
                if let Some(u) = r.user(*id)? {
                    list.push((id.to_string(), u.name_or_email().to_owned()));
                }
            }
            Some(list)
        } else {
            None
        };
        Ok(render::group(
            &group.display_name,
            group.external_id.as_deref(),
            members.as_deref(),
            &Meta {
                base: &base,
                id: group.id.to_string(),
                created: group.created_at,
                modified: group.updated_at,
            },
        ))
    }

    /// `GET /Groups`, optionally filtered by `displayName`, `externalId` or `id`.
    pub async fn scim_list_groups(
        self: &Arc<Self>,
        caller: ScimCaller,
        filter: Option<String>,
        start: usize,
        count: usize,
        with_members: bool,
    ) -> ScimResult<Value> {
        let filter = filter.as_deref().map(filter::parse).transpose()?;
        if let Some(f) = &filter
            && !matches!(
                f.attr,
                FilterAttr::DisplayName | FilterAttr::ExternalId | FilterAttr::Id
            )
        {
            return Err(ScimError::invalid_filter(
                "groups filter on displayName, externalId or id",
            ));
        }
        self.blocking(move |s| {
            s.read(|r| {
                let groups: Vec<ScimGroup> = r
                    .scim_groups(caller.realm)?
                    .into_iter()
                    .filter(|g| match &filter {
                        None => true,
                        Some(f) => match f.attr {
                            FilterAttr::DisplayName => f.matches(&g.display_name),
                            FilterAttr::ExternalId => {
                                g.external_id.as_deref().is_some_and(|e| f.matches(e))
                            }
                            _ => f.matches(&g.id.to_string()),
                        },
                    })
                    .collect();
                let page = groups
                    .iter()
                    .skip(start - 1)
                    .take(count)
                    .map(|g| s.group_json(r, g, with_members))
                    .collect::<crate::service::Result<Vec<_>>>()?;
                Ok(render::list(page, groups.len(), start))
            })
        })
        .await
        .map_err(scim_error)
    }

    /// `GET /Groups/{id}`.
    pub fn scim_get_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        with_members: bool,
    ) -> ScimResult<Value> {
        let id = group_id(id)?;
        self.read(|r| match r.scim_group(caller.realm, id)? {
            Some(g) => self.group_json(r, &g, with_members).map(Some),
            None => Ok(None),
        })?
        .ok_or_else(|| ScimError::not_found("Group"))
    }

    /// `POST /Groups`.
    pub async fn scim_create_group(
        self: &Arc<Self>,
        caller: ScimCaller,
        body: Value,
    ) -> ScimResult<Value> {
        let attrs = parse_resource(&body)?;
        self.blocking(move |s| {
            s.write(|w| {
                let realm = caller.realm;
                if w.scim_groups(realm)?
                    .iter()
                    .any(|g| g.display_name.eq_ignore_ascii_case(&attrs.display_name))
                {
                    return Err(ServiceError::Conflict(
                        "a group with this displayName exists".to_owned(),
                    ));
                }
                let now = s.clock.now();
                let group = ScimGroup {
                    id: uuid::Uuid::new_v4(),
                    realm,
                    display_name: attrs.display_name.clone(),
                    external_id: attrs.external_id.clone(),
                    members: members_in(w, realm, &attrs.members)?,
                    created_at: now,
                    updated_at: now,
                };
                w.put_scim_group(&group)?;
                s.audit(
                    w,
                    by_scim(&caller, AuditKind::SettingsChanged)
                        .detail(format!("SCIM group {} created", group.display_name)),
                )?;
                s.group_json(w, &group, true)
            })
        })
        .await
        .map_err(scim_error)
    }

    /// `PATCH /Groups/{id}`.
    pub async fn scim_patch_group(
        self: &Arc<Self>,
        caller: ScimCaller,
        id: &str,
        body: Value,
    ) -> ScimResult<()> {
        let id = group_id(id)?;
        let changes = patch_changes(&patch_operations(&body)?)?;
        self.blocking(move |s| {
            s.write(|w| {
                let realm = caller.realm;
                let mut group = w
                    .scim_group(realm, id)?
                    .ok_or(ServiceError::NotFound("Group"))?;
                for change in changes {
                    match change {
                        GroupChange::DisplayName(name) => group.display_name = name,
                        GroupChange::ExternalId(ext) => group.external_id = ext,
                        GroupChange::AddMembers(ids) => {
                            for m in members_in(w, realm, &ids)? {
                                if !group.members.contains(&m) {
                                    group.members.push(m);
                                }
                            }
                        }
                        GroupChange::RemoveMembers(ids) => {
                            // Removing someone who is not a member changes nothing.
                            group.members.retain(|m| {
                                !ids.iter().any(|i| i.eq_ignore_ascii_case(&m.to_string()))
                            });
                        }
                        GroupChange::ReplaceMembers(ids) => {
                            group.members = members_in(w, realm, &ids)?
                        }
                        GroupChange::RemoveAllMembers => group.members.clear(),
                    }
                }
                group.updated_at = s.clock.now();
                w.put_scim_group(&group)?;
                Ok(())
            })
        })
        .await
        .map_err(scim_error)
    }

    /// `DELETE /Groups/{id}`.
    pub async fn scim_delete_group(
        self: &Arc<Self>,
        caller: ScimCaller,
        id: &str,
    ) -> ScimResult<()> {
        let id = group_id(id)?;
        self.blocking(move |s| {
            s.write(|w| {
                let group = w
                    .scim_group(caller.realm, id)?
                    .ok_or(ServiceError::NotFound("Group"))?;
                w.delete_scim_group(group.id)?;
                s.audit(
                    w,
                    by_scim(&caller, AuditKind::SettingsChanged)
                        .detail(format!("SCIM group {} deleted", group.display_name)),
                )
            })
        })
        .await
        .map_err(scim_error)
    }
}
