//! Issue 14, item 5: nobody but the server's user reads the data
//! directory: it is 0700 and every file in it 0600 (database, WAL and SHM,
//! development mail holding live codes, master key), whatever the umask.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use portcullis::clock::ManualClock;

use crate::harness::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every directory under `dir` (itself included) and every file in them,
/// with its mode.
fn modes_under(dir: &Path) -> Vec<(std::path::PathBuf, bool, u32)> {
    let mut found = vec![(dir.to_path_buf(), true, mode(dir))];
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(modes_under(&path));
        } else {
            found.push((path.clone(), false, mode(&path)));
        }
    }
    found
}

fn loosen(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[tokio::test]
async fn the_data_directory_and_every_file_in_it_are_private() {
    let storage = Arc::new(Storage::new());
    // A directory as the usual umask (022) leaves one.
    loosen(&storage.data_dir, 0o755);
    let clock = Arc::new(ManualClock::starting_now());
    let app = start(storage.clone(), clock, |_| {}).await;
    // A pending code sits in a development mail.
    app.start_email(&app.sandbox, "ada@example.com")
        .await
        .assert_status(202);
    let mail_dir = app.data_dir.join("mail");
    let mail = eventually("the mail is written", || {
        std::fs::read_dir(&mail_dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "eml"))
    })
    .await;
    assert_eq!(mode(&mail), 0o600, "{}", mail.display());
    let data_dir = app.data_dir.clone();
    let mut expected = vec!["master.key", "mail"];
    if backend() == Backend::Sqlite {
        expected.extend(["portcullis.db", "portcullis.db-wal", "portcullis.db-shm"]);
    }
    for name in expected {
        assert!(data_dir.join(name).exists(), "{name} is missing");
    }
    for (path, is_dir, found) in modes_under(&data_dir) {
        let want = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(found, want, "{} is {found:o}", path.display());
    }

    // Files made loose by an earlier version or by hand are narrowed on
    // the next start.
    let storage = app.stop().await;
    loosen(&storage.data_dir, 0o755);
    loosen(&mail_dir, 0o755);
    if backend() == Backend::Sqlite {
        loosen(&data_dir.join("portcullis.db"), 0o644);
    }
    let app = start(storage, Arc::new(ManualClock::starting_now()), |_| {}).await;
    app.get("/healthz", None).await.assert_status(200);
    for (path, is_dir, found) in modes_under(&data_dir) {
        // Mails already written stay as they were written (0600).
        let want = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(found, want, "{} is {found:o}", path.display());
    }
}
