//! First start: the master key, and the first tenant (organization,
//! project with `sandbox` and `live`, an owner API token).

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::api_tokens::{TOKEN_PREFIX, hash_token};
use super::keys::new_signing_key;
use super::members::MEMBER_ID_PREFIX;
use super::{ServiceError, ServiceResult};
use crate::clock::{Clock, to_millis};
use crate::crypto::{self, MasterKey};
use crate::domain::email::EmailAddress;
use crate::domain::roles::Role;
use crate::domain::settings::SecuritySettings;
use crate::store::{
    ApiTokenRecord, EnvironmentRecord, MemberRecord, NewTenant, OrganizationRecord, ProjectRecord,
    Store, StoreError,
};

const MASTER_KEY_CHECK: &str = "master_key_check";

#[derive(Debug, Clone)]
pub struct EnvironmentIds {
    pub sandbox: String,
    pub live: String,
}

/// What `portcullis init` reports. The owner token appears here once (and
/// never in `Debug`); it is stored only as a hash.
#[derive(Debug, Clone)]
pub struct InitOutcome {
    pub organization_id: String,
    pub project_id: String,
    pub environments: EnvironmentIds,
    pub api_token: SecretString,
    /// False when the tenant existed and only a new token was made.
    pub created: bool,
}

/// The master key: given inline (base64), read from a file, or generated
/// into `<data-dir>/master.key` with mode 0600 on first start.
pub fn load_master_key(
    inline: Option<&str>,
    file: Option<&Path>,
    data_dir: &Path,
) -> Result<MasterKey, String> {
    if let Some(text) = inline {
        return MasterKey::from_base64(text).map_err(|e| format!("PORTCULLIS_MASTER_KEY: {e}"));
    }
    let path = file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("master.key"));
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::from_base64(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.is_none() => {
            let key = MasterKey::generate().map_err(|e| e.to_string())?;
            crate::private_files::write_new_synced(&path, key.to_base64().as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(format!(
            "cannot read the master key file {}: {e}",
            path.display()
        )),
    }
}

/// Refuses a master key other than the one the database was first used with.
pub async fn check_master_key(store: &Store, key: &MasterKey) -> Result<(), String> {
    let fingerprint = hex::encode(key.mac("portcullis/master-key-check/v1", b"check"));
    let stored = store
        .health
        .init_meta(MASTER_KEY_CHECK, &fingerprint)
        .await
        .map_err(|e| e.to_string())?;
    if crypto::constant_time_eq(stored.as_bytes(), fingerprint.as_bytes()) {
        Ok(())
    } else {
        Err(
            "the master key does not match the one this database was created with; \
             start with the original key (--master-key-file or PORTCULLIS_MASTER_KEY)"
                .into(),
        )
    }
}

fn new_owner_token(organization_id: &str, now: i64) -> ServiceResult<(ApiTokenRecord, String)> {
    let secret = crypto::new_secret(TOKEN_PREFIX)?;
    let record = ApiTokenRecord {
        id: crypto::new_id("tok", now)?,
        organization_id: organization_id.to_string(),
        environment_id: None,
        role: Role::Owner,
        note: "owner token created by init".into(),
        token_hash: hash_token(&secret),
        created_at: now,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        previous_hash: None,
        previous_expires_at: None,
        rotated_at: None,
    };
    Ok((record, secret))
}

/// Creates the first tenant, or, when there is one, a new owner token for it.
pub async fn init(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    owner_email: &EmailAddress,
) -> ServiceResult<InitOutcome> {
    if store.organizations.first_tenant().await?.is_none()
        && let Some(created) = create_first_tenant(store, master, clock, owner_email).await?
    {
        return Ok(created);
    }
    // There is a tenant (maybe created by a server a moment ago).
    let tenant = store
        .organizations
        .first_tenant()
        .await?
        .ok_or_else(|| ServiceError::internal("the first tenant vanished"))?;
    let now = to_millis(clock.now());
    let (record, secret) = new_owner_token(&tenant.organization.id, now)?;
    store.api_tokens.insert(&record, &[]).await?;
    let find = |kind: &str| {
        tenant
            .environments
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.id.clone())
            .ok_or_else(|| ServiceError::internal(format!("the project has no {kind} environment")))
    };
    Ok(InitOutcome {
        organization_id: tenant.organization.id.clone(),
        project_id: tenant.project.id.clone(),
        environments: EnvironmentIds {
            sandbox: find("sandbox")?,
            live: find("live")?,
        },
        api_token: secret.into(),
        created: false,
    })
}

/// Creates the first tenant with an owner token. `None` when another
/// process (a second node starting at the same moment) created it first.
pub async fn create_first_tenant(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    owner_email: &EmailAddress,
) -> ServiceResult<Option<InitOutcome>> {
    let now = to_millis(clock.now());
    let organization = OrganizationRecord {
        id: crypto::new_id("org", now)?,
        name: "Default organization".into(),
        created_at: now,
    };
    let project = ProjectRecord {
        id: crypto::new_id("prj", now)?,
        organization_id: organization.id.clone(),
        name: "Default project".into(),
        created_at: now,
    };
    let settings = SecuritySettings::default();
    let mut environments = Vec::new();
    let mut signing_keys = Vec::new();
    for kind in ["sandbox", "live"] {
        let id = crypto::new_id("env", now)?;
        signing_keys.push(new_signing_key(master, &id, settings.token_algorithm, now)?);
        environments.push(EnvironmentRecord {
            id,
            project_id: project.id.clone(),
            organization_id: organization.id.clone(),
            kind: kind.into(),
            settings: settings.clone(),
            locked: false,
            sessions_epoch: 0,
            sessions_revoked_at: None,
            sessions_revoked_by_kind: None,
            sessions_revoked_by_id: None,
            created_at: now,
        });
    }
    let (owner_token, secret) = new_owner_token(&organization.id, now)?;
    let owner = MemberRecord {
        id: crypto::new_id(MEMBER_ID_PREFIX, now)?,
        organization_id: organization.id.clone(),
        email: owner_email.as_str().to_string(),
        name: None,
        role: Role::Owner,
        created_at: now,
        updated_at: now,
    };
    let outcome = InitOutcome {
        organization_id: organization.id.clone(),
        project_id: project.id.clone(),
        environments: EnvironmentIds {
            sandbox: environments[0].id.clone(),
            live: environments[1].id.clone(),
        },
        api_token: secret.into(),
        created: true,
    };
    match store
        .organizations
        .create_tenant(&NewTenant {
            organization,
            project,
            environments,
            signing_keys,
            owner_token,
            owner,
        })
        .await
    {
        Ok(()) => Ok(Some(outcome)),
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes the owner token created by `serve` on an empty data directory to a
/// file only its owner can read, instead of printing a secret into the log.
pub fn write_owner_token_file(path: &Path, token: &SecretString) -> std::io::Result<()> {
    let text = format!("{}\n", token.expose_secret());
    crate::private_files::write_new_synced(path, text.as_bytes())
}

/// The first tenant's organization, if the database has one yet.
pub async fn first_organization_id(store: &Store) -> Result<Option<String>, String> {
    Ok(store
        .organizations
        .first_tenant()
        .await
        .map_err(|e| e.to_string())?
        .map(|t| t.organization.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_owner_token() {
        let token = "pcl_owner0123456789";
        let outcome = InitOutcome {
            organization_id: "org_1".into(),
            project_id: "prj_1".into(),
            environments: EnvironmentIds {
                sandbox: "env_1".into(),
                live: "env_2".into(),
            },
            api_token: token.into(),
            created: true,
        };
        let shown = format!("{outcome:?}");
        assert!(shown.contains("org_1") && !shown.contains(token), "{shown}");
    }
}
