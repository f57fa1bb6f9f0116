//! The one writing connection, owned by a task that applies writes in
//! batches: one `BEGIN IMMEDIATE … COMMIT` around every job that is
//! waiting, so that N concurrent sign-ins cost one commit instead of N, and
//! no two connections ever wait for SQLite's write lock in its busy handler.
//!
//! A job is a closure over the connection. It runs inside the task, so a
//! caller that goes away (a client that hangs up) cannot leave a half-done
//! write behind. Its result is handed back only after the batch committed:
//! a caller never sees as done what a failed commit threw away.

use std::future::Future;
use std::pin::Pin;

use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::db;
use crate::store::{StoreError, StoreResult};

pub(super) type BoxFut<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Called with the outcome of the commit once the batch is over.
type Reply = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// Runs the caller's closure on the connection and says whether it
/// succeeded, and how to answer. Given no connection, it only answers:
/// the job could not run.
type Job =
    Box<dyn for<'c> FnOnce(Option<&'c mut SqliteConnection>) -> BoxFut<'c, (bool, Reply)> + Send>;

struct Request {
    /// Several statements: they run inside a savepoint, so that a failure
    /// undoes this job's statements and nothing else in the batch.
    savepoint: bool,
    job: Job,
}

/// How many jobs one transaction takes at most; a bound on how long the
/// write lock is held, and on how much one failed commit takes down.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer before callers wait to enqueue.
const QUEUE: usize = 4096;

#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::Sender<Request>,
}

impl Writer {
    /// Takes ownership of the connection; the task ends when the last
    /// `Writer` is dropped, after finishing what is queued.
    pub(super) fn start(conn: SqliteConnection) -> Writer {
        let (queue, requests) = mpsc::channel(QUEUE);
        // Its own thread and runtime: handlers that spend CPU (RSA
        // signatures) on the shared runtime's workers must not delay the
        // task every write waits for.
        let spawned = std::thread::Builder::new()
            .name("portcullis-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run(conn, requests)),
                    Err(e) => tracing::error!(error = %e, "cannot start the database writer"),
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the database writer thread");
        }
        Writer { queue }
    }

    /// One SQL statement (atomic on its own), or several whose partial
    /// effect is acceptable if a later one fails: no savepoint.
    pub(super) async fn statement<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFut<'c, StoreResult<T>> + Send + 'static,
    {
        self.submit(false, f).await
    }

    /// Several statements, all or none.
    pub(super) async fn transaction<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFut<'c, StoreResult<T>> + Send + 'static,
    {
        self.submit(true, f).await
    }

    async fn submit<T, F>(&self, savepoint: bool, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFut<'c, StoreResult<T>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let Some(conn) = conn else {
                    let reply: Reply = Box::new(move |e: Option<&StoreError>| {
                        let e = e.map_or_else(stopped, |e| e.passed_on("cannot begin"));
                        let _ = answer.send(Err(e));
                    });
                    return (false, reply);
                };
                let result = f(conn).await;
                let ok = result.is_ok();
                let reply: Reply = Box::new(move |commit: Option<&StoreError>| {
                    let outcome = match commit {
                        Some(e) => Err(e.passed_on("commit failed")),
                        None => result,
                    };
                    let _ = answer.send(outcome);
                });
                (ok, reply)
            })
        });
        self.queue
            .send(Request { savepoint, job })
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Database("the database writer has stopped".into())
}

async fn run(mut conn: SqliteConnection, mut requests: mpsc::Receiver<Request>) {
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(request) => request,
            None => match requests.recv().await {
                Some(request) => request,
                None => break,
            },
        };
        if let Err(e) = execute(&mut conn, "BEGIN IMMEDIATE").await {
            // This job fails without running; the next batch tries again.
            let (_, reply) = (first.job)(None).await;
            let _ = execute(&mut conn, "ROLLBACK").await;
            reply(Some(&e));
            continue;
        }
        let mut replies = Vec::new();
        let mut current = Some(first);
        while let Some(request) = current.take() {
            let ok = run_job(&mut conn, request, &mut replies).await;
            // A failed job ends the batch: if SQLite rolled the whole
            // transaction back (it does on some errors), the commit below
            // says so instead of later jobs running outside a transaction.
            if !ok || replies.len() >= MAX_BATCH {
                break;
            }
            current = requests.try_recv().ok();
        }
        let commit = execute(&mut conn, "COMMIT").await.err();
        if commit.is_some() {
            let _ = execute(&mut conn, "ROLLBACK").await;
        }
        for reply in replies {
            reply(commit.as_ref());
        }
        // Requests that arrived while committing start the next batch.
        next = requests.try_recv().ok();
    }
    let _ = conn.close().await;
}

async fn run_job(conn: &mut SqliteConnection, request: Request, replies: &mut Vec<Reply>) -> bool {
    if !request.savepoint {
        let (ok, reply) = (request.job)(Some(conn)).await;
        replies.push(reply);
        return ok;
    }
    if let Err(e) = execute(conn, "SAVEPOINT job").await {
        let (_, reply) = (request.job)(None).await;
        replies.push(Box::new(move |_| reply(Some(&e))));
        return false;
    }
    let (ok, reply) = (request.job)(Some(&mut *conn)).await;
    replies.push(reply);
    if ok {
        return execute(conn, "RELEASE job").await.is_ok();
    }
    // Undo this job only. If even that fails, its partial writes must not
    // reach the commit: the whole batch is rolled back.
    match execute(conn, "ROLLBACK TO job").await {
        Ok(()) => {
            let _ = execute(conn, "RELEASE job").await;
        }
        Err(e) => {
            let _ = execute(conn, "ROLLBACK").await;
            replies.push(Box::new(
                move |_| tracing::error!(error = %e, "a batch was rolled back"),
            ));
        }
    }
    false
}

async fn execute(conn: &mut SqliteConnection, sql: &'static str) -> StoreResult<()> {
    sqlx::query(sql).execute(conn).await.map_err(db)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

    use super::*;

    async fn writer_on_temp_file() -> (tempfile::TempDir, Writer, SqliteConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/w.db", dir.path().display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let mut conn = options.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .execute(&mut conn)
            .await
            .unwrap();
        let reader = options.connect().await.unwrap();
        (dir, Writer::start(conn), reader)
    }

    fn insert(w: &Writer, key: &str) -> impl Future<Output = StoreResult<()>> + use<> {
        let (w, key) = (w.clone(), key.to_string());
        async move {
            w.statement(move |c| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (k) VALUES ($1)")
                        .bind(&key)
                        .execute(c)
                        .await
                        .map_err(db)?;
                    Ok(())
                })
            })
            .await
        }
    }

    async fn keys(reader: &mut SqliteConnection) -> Vec<String> {
        sqlx::query_scalar("SELECT k FROM t ORDER BY k")
            .fetch_all(reader)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn concurrent_writes_all_commit_and_a_failed_one_fails_alone() {
        let (_dir, w, mut reader) = writer_on_temp_file().await;
        let mut jobs = Vec::new();
        for i in 0..200 {
            jobs.push(tokio::spawn(insert(&w, &format!("k{i:03}"))));
        }
        // The same key again: a unique violation in the middle of batches.
        jobs.push(tokio::spawn(insert(&w, "k100")));
        for i in 200..300 {
            jobs.push(tokio::spawn(insert(&w, &format!("k{i:03}"))));
        }
        let mut conflicts = 0;
        for job in jobs {
            match job.await.unwrap() {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => conflicts += 1,
                Err(e) => panic!("unexpected: {e}"),
            }
        }
        assert_eq!(conflicts, 1);
        assert_eq!(keys(&mut reader).await.len(), 300);
    }

    #[tokio::test]
    async fn a_failed_transaction_undoes_only_its_own_statements() {
        let (_dir, w, mut reader) = writer_on_temp_file().await;
        let before = tokio::spawn(insert(&w, "a"));
        let failing = {
            let w = w.clone();
            tokio::spawn(async move {
                w.transaction(|c| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO t (k) VALUES ('half-done')")
                            .execute(&mut *c)
                            .await
                            .map_err(db)?;
                        Err::<(), _>(StoreError::NotFound)
                    })
                })
                .await
            })
        };
        let after = tokio::spawn(insert(&w, "b"));
        before.await.unwrap().unwrap();
        assert!(matches!(failing.await.unwrap(), Err(StoreError::NotFound)));
        after.await.unwrap().unwrap();
        assert_eq!(keys(&mut reader).await, ["a", "b"]);
    }

    #[tokio::test]
    async fn the_writer_ends_when_the_last_handle_goes_and_nothing_queued_is_lost() {
        let (_dir, w, mut reader) = writer_on_temp_file().await;
        let pending: Vec<_> = (0..20)
            .map(|i| tokio::spawn(insert(&w, &format!("q{i:02}"))))
            .collect();
        drop(w);
        for job in pending {
            job.await.unwrap().unwrap();
        }
        assert_eq!(keys(&mut reader).await.len(), 20);
    }
}
