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
