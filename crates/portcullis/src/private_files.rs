//! Files only the server's own user may read: the data directory is 0700
//! and every file Portcullis writes in it is 0600 (the database with its
//! WAL and SHM files, development mail, the master key, the owner token),
//! whatever the umask. A pending sign-in code sits in a development mail
//! and every secret at rest in the database, so nobody else on the host
//! should read either.

use std::io::Write;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `path` (and missing parents) as 0700, and narrows it to 0700
/// if it already exists.
pub fn create_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(path)?;
    restrict(path, DIR_MODE)
}

/// Narrows an existing file or directory to `mode`; a missing one is fine.
pub fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Options that create a file as 0600 (when it does not exist yet).
pub fn open_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options
}

/// Writes a new file as 0600; fails if it exists. Not synced to disk:
/// for what a crash may lose (development mail).
pub fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<std::fs::File> {
    let mut file = open_options().write(true).create_new(true).open(path)?;
    file.write_all(contents)?;
    Ok(file)
}

/// Writes `contents` as a new 0600 file `{dir}/{stem}.{extension}`,
/// first under `.partial` and then renamed into place, so a reader never
/// sees half of it (development mail and SMS). Blocks: call it from
/// `spawn_blocking`.
pub fn publish_new(
    dir: &Path,
    stem: &str,
    extension: &str,
    contents: &[u8],
) -> std::io::Result<()> {
    let partial = dir.join(format!("{stem}.partial"));
    write_new(&partial, contents)?;
    std::fs::rename(&partial, dir.join(format!("{stem}.{extension}")))
}

/// `write_new`, synced to disk before it returns: for what a crash must
/// not lose (the master key).
pub fn write_new_synced(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_new(path, contents)?.sync_all()
}

/// Makes sure a SQLite database file exists as 0600 before SQLite opens
/// it, and narrows the files of a database made before this rule. SQLite
/// gives its `-wal` and `-shm` files the database file's mode.
pub fn prepare_sqlite_file(db: &Path) -> std::io::Result<()> {
    if db.as_os_str().is_empty() || db.as_os_str() == ":memory:" {
        return Ok(());
    }
    open_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(db)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        restrict(Path::new(&name), FILE_MODE)?;
    }
    Ok(())
}
