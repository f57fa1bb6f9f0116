//! A node cut off from its PostgreSQL database, because the database
//! refuses its login (SQLSTATE class 28) or is not there at all, cannot
//! vouch for anything: it answers 503 `unavailable` with `Retry-After`,
//! never 500 `internal`, and serves again once the database is back.
//! PostgreSQL in both runs of the suite.

use reqwest::Method;

use crate::harness::{Reply, TestApp, eventually_async, spawn_nodes};

#[derive(Clone, Copy, Debug)]
enum Cut {
    /// `ALTER ROLE … NOLOGIN`: the server is up and refuses the node.
    LoginRefused,
    /// The server is stopped.
    Stopped,
}

#[track_caller]
fn assert_unavailable(r: &Reply) {
    r.assert_problem(503, "unavailable");
    let secs = r.retry_after();
    assert!((1..=30).contains(&secs), "Retry-After: {secs}");
}

async fn events(app: &TestApp, env: &str) -> Reply {
    app.api(Method::GET, &format!("/environments/{env}/events"), None)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_postgresql_answers_unavailable_and_recovers() {
    let nodes = spawn_nodes(1).await;
    let app = &nodes[0];
    let env = app.sandbox.clone();
    let pg = app.storage.pg.clone().expect("PostgreSQL");
    let users = format!("/environments/{env}/users");
    events(app, &env).await.assert_status(200);

    for cut in [Cut::LoginRefused, Cut::Stopped] {
        match cut {
            Cut::LoginRefused => pg.refuse_logins(true).await,
            Cut::Stopped => pg.stop(),
        }
        // A connection the node checked before the cut may serve a last
        // answer; the first one that is not a 200 must be the 503.
        let refused = eventually_async(&format!("{cut:?}: the node is cut off"), || async {
            let r = events(app, &env).await;
            (r.status.as_u16() != 200).then_some(r)
        })
        .await;
        assert_unavailable(&refused);
        assert_unavailable(&app.api(Method::GET, &users, None).await);
        assert_unavailable(&app.start_email(&env, "cut@example.com").await);

        match cut {
            Cut::LoginRefused => pg.refuse_logins(false).await,
            Cut::Stopped => pg.start_again(),
        }
        eventually_async(&format!("{cut:?}: the node serves again"), || async {
            (events(app, &env).await.status.as_u16() == 200).then_some(())
        })
        .await;
        app.api(Method::GET, &users, None).await.assert_status(200);
        app.start_email(&env, "back@example.com")
            .await
            .assert_status(202);
    }
}
