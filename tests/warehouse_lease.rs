//! Several instances' watchers on one SQLite warehouse: the one holding its lease loads, the
//! others stand by (saying so), and one takes over when the holder stops; every file is loaded
//! exactly once.

use std::sync::Arc;
use std::time::Duration;

use ractor::Actor;
use tickstream::telemetry::reachability::{Dependency, Reachability};
use tickstream::warehouse::watcher::lease;
use tickstream::warehouse::watcher::IngestWatcher;

use crate::common::watcher::*;
use crate::common::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_watcher_loads_a_shared_warehouse_and_a_standby_takes_over_when_it_stops() {
    let env = TestEnv::start().await;
    env.store().await.ensure_bucket().await.unwrap();
    let layout = env.layout();
    put(
        &env,
        &layout.object_key(0, 0),
        file(&[tick_line("AAA", 0), tick_line("AAA", 1)]),
    )
    .await;

    let first = start_watcher(&env, warehouse_db(&env)).await;
    catch_up(&first).await;
    let path = env.warehouse_path();
    let holder = lease::holder(&path).expect("the first watcher holds the lease");
    assert!(
        holder.starts_with(&format!("pid {} on ", std::process::id())),
        "{holder}"
    );

    let reach = Arc::new(Reachability::default());
    reach.register(Dependency::Warehouse, path.display().to_string());
    let mut args = watcher_args(
        &env,
        Arc::new(env.store().await),
        warehouse_db(&env),
        Duration::from_millis(100),
        None,
    );
    args.reach = reach.clone();
    let second = Actor::spawn(None, IngestWatcher::default(), args).await.unwrap().0;
    catch_up(&second).await;
    let notes = reach.notes();
    assert!(
        notes.len() == 1 && notes[0].contains(&format!("standby: {holder} loads it")),
        "/readyz says the second stands by: {notes:?}"
    );

    put(&env, &layout.object_key(0, 2), file(&[tick_line("AAA", 2)])).await;
    catch_up(&second).await;
    catch_up(&first).await;
    assert_rows_exactly_once(&env, 3);

    first.stop_and_wait(None, Some(Duration::from_secs(10))).await.unwrap();
    assert_eq!(lease::holder(&path), None, "the lease is free once its holder stopped");
    put(&env, &layout.object_key(1, 0), file(&[tick_line("BBB", 0)])).await;
    catch_up(&second).await;
    assert_rows_exactly_once(&env, 4);
    assert!(reach.notes().is_empty(), "the second loads now: {:?}", reach.notes());
    assert!(lease::holder(&path).is_some());
    second.stop_and_wait(None, Some(Duration::from_secs(10))).await.unwrap();
}
