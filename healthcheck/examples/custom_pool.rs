//! A pool of custom checkers with rise/fall, quorum and a sorry server,
//! against three small servers on loopback. One of them starts answering
//! "BUSY" after a few checks: it goes down, the pool loses its quorum and
//! the sorry server swaps in. Prints every event and exits.
//!
//! `cargo run -p lvs-healthcheck --example custom_pool`

use std::sync::Arc;
use std::time::Duration;

use healthcheck::runtime::Driver;
use healthcheck::{
    BoxFuture, CheckContext, CheckOutcome, Checker, DownReason, Event, MemberConfig, Monitor,
    MonitorConfig, PoolConfig, PoolTable, TableChange, TargetConfig,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A user-written check: connect, read one line, up if it is "OK".
#[derive(Debug)]
struct LineChecker;

impl Checker for LineChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            let read = async {
                let stream = TcpStream::connect(ctx.target).await?;
                let mut line = String::new();
                BufReader::new(stream).read_line(&mut line).await?;
                Ok::<_, std::io::Error>(line)
            };
            match tokio::time::timeout(ctx.timeout, read).await {
                Ok(Ok(line)) if line.trim() == "OK" => CheckOutcome::Up,
                Ok(Ok(_)) => CheckOutcome::Down(DownReason::UnexpectedReply),
                Ok(Err(e)) => CheckOutcome::Down(DownReason::Io(e.kind())),
                Err(_) => CheckOutcome::Down(DownReason::Timeout),
            }
        })
    }
}

/// A server answering "OK", or "BUSY" from its `busy_after`-th request on.
async fn serve(busy_after: Option<u32>) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut served = 0;
        while let Ok((mut conn, _)) = listener.accept().await {
            served += 1;
            let busy = busy_after.is_some_and(|n| served >= n);
            let reply: &[u8] = if busy { b"BUSY\n" } else { b"OK\n" };
            let _ = conn.write_all(reply).await;
        }
    });
    Ok(addr)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut monitor = Monitor::new(MonitorConfig::default());
    // Quorum 3 of three weight-1 servers: losing one loses the pool.
    let pool = monitor.add_pool(PoolConfig::with_quorum(3, 0).with_sorry_server());
    let mut every = TargetConfig::with_interval(Duration::from_millis(200));
    every.rise = 2;
    every.fall = 2;
    every.retry = 0;

    let mut checks = Vec::new();
    for (name, busy_after) in [("a", None), ("b", None), ("c", Some(4))] {
        let addr = serve(busy_after).await?;
        // The key leads back from events to the server.
        let id = monitor.add_target(format!("{name} {addr}"), every.clone());
        monitor.add_member(pool, id, MemberConfig::with_weight(1))?;
        checks.push((id, CheckContext::new(addr, Duration::from_secs(1))));
    }
    // The driver will own the monitor: keep the way back from ids to keys.
    let keys: Vec<(healthcheck::TargetId, String)> = monitor
        .targets()
        .map(|(id, key)| (id, key.to_owned()))
        .collect();
    let key = |id| {
        keys.iter()
            .find(|(k, _)| *k == id)
            .map_or("?", |(_, key)| key.as_str())
    };

    let mut driver = Driver::new(monitor);
    let checker: Arc<dyn Checker> = Arc::new(LineChecker);
    for (id, ctx) in checks {
        driver.set_checker(id, checker.clone(), ctx);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(driver.run(tx, async {
        let _ = stop_rx.await;
    }));

    let mut table = PoolTable::new();
    // A bound so the example always ends, even if something goes wrong.
    let watch = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = rx.recv().await {
            let Some(change) = table.handle(&event) else {
                println!("{event:?}");
                continue;
            };
            match &change {
                TableChange::Added { target, weight, .. } => {
                    println!("Adding service {} (weight {weight})", key(*target))
                }
                TableChange::Removed { target, .. } => {
                    println!("Removing service {}", key(*target))
                }
                other => println!("{other:?}"),
            }
            if matches!(change, TableChange::SorryServerIn { .. }) {
                return;
            }
        }
    })
    .await;
    let _ = stop_tx.send(());
    run.await?;
    match watch {
        Ok(()) => println!("members now: {:?}", table.members(pool)),
        Err(_) => println!("gave up waiting for the quorum loss"),
    }
    Ok(())
}
