//! First start: an `admin` user when there is none.

use domain::Role;
use platform::auth::passwords::generate_secret;
use platform::identity::Identity;
use secrecy::{ExposeSecret, SecretString};

/// Creates `admin` when no user exists. Returns the generated password when
/// none was configured, so the caller can print it once.
pub async fn ensure_admin(
    identity: &Identity,
    configured: Option<&SecretString>,
) -> anyhow::Result<Option<String>> {
    if identity.user_count().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match configured {
        Some(p) => (p.expose_secret().to_string(), false),
        None => (generate_secret(18), true),
    };
    match identity
        .create_user(
            "admin",
            Some("Administrator"),
            &password,
            Role::Admin,
            "system",
            None,
        )
        .await
    {
        Ok(_) => {}
        // Another process created it first.
        Err(platform::identity::IdentityError::UsernameTaken(_)) => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(
                "creating the first admin (check TICKETERA_ADMIN_PASSWORD: 12 characters or more)",
            ))
        }
    }
    tracing::info!("created the first user: admin");
    Ok(generated.then_some(password))
}

/// The private cluster's key-encryption key: `<data_dir>/key-encryption-key`
/// (0600), made on first use. Beside the cluster, not in it: a copy of the
/// database alone does not open the signing keys.
pub fn local_key_encryption_key(
    data_dir: &std::path::Path,
) -> anyhow::Result<platform::config::KekSource> {
    use anyhow::Context;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("key-encryption-key");
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            let key = platform::auth::kek::KeyEncryptionKey::generate()?;
            file.write_all(key.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "made the private cluster's key-encryption key");
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(anyhow::Error::new(e).context(format!("creating {}", path.display()))),
    }
    Ok(platform::config::KekSource::File(path))
}
