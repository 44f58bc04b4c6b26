//! Notifications: e-mail delivered per second to an SMTP server on this machine, and
//! what the messages cost a submit (the same hub, 民政 told by e-mail or not at all).

use std::{
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use super::{draft, throughput, Call, HubProcess, Options};
use crate::proto as pb;

/// Messages sent in a burst for the delivery rate.
const BURST: u64 = 500;

/// An SMTP server that accepts every message and counts them: the far end of the
/// hub's e-mail, as fast as this machine answers.
async fn smtp_sink() -> anyhow::Result<(u16, Arc<AtomicU64>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 bench ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        count.fetch_add(1, Ordering::Relaxed);
                        b"250 accepted\r\n"
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("EHLO") | Some("HELO") => b"250 bench\r\n",
                            Some("DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            Some("QUIT") => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok((port, received))
}

/// Prints the delivery rate and submit throughput with and without messages.
pub async fn figures(options: &Options, dir: &Path) -> anyhow::Result<()> {
    let (port, received) = smtp_sink().await?;
    let smtp = format!("smtp://127.0.0.1:{port}");
    let hub = HubProcess::start_with(
        dir,
        None,
        &[("XIANJIE_SMTP_URL", smtp.as_str()), ("XIANJIE_NOTIFY_INTERVAL_MS", "20")],
    )?;
    let target = hub.target(dir);
    let mz = target.client("mz").await?;
    let contacts = pb::Contacts { email: "liming@mz.jj.gov.cn".into(), ..Default::default() };
    mz.update_contacts("mz", contacts).await?;
    let told = |channels: Vec<String>| pb::Notify {
        channels,
        events: vec!["new_referral".into()],
        webhook_format: "json".into(),
        ..Default::default()
    };

    // A burst of referrals, each told to 民政 by e-mail: how fast the messages go out.
    let jcy = target.client("jcy").await?;
    let before = received.load(Ordering::Relaxed);
    let start = Instant::now();
    for _ in 0..BURST {
        jcy.submit(draft()?, vec!["mz".into()], None).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while received.load(Ordering::Relaxed) < before + BURST {
        anyhow::ensure!(Instant::now() < deadline, "the hub did not send {BURST} messages within two minutes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!("notifications: {BURST} referrals submitted one by one, each e-mailed to 民政's liaison: {:.0} messages/s to an SMTP server on this machine (submit to the last message received: {elapsed:.2} s)", BURST as f64 / elapsed);

    // Submits with 民政 told by e-mail, then with 民政 told nothing, in turns.
    println!("submit with and without notifications (referrals/s min / median / max; p99 ms):");
    for &clients in &options.concurrency {
        mz.set_notify("mz", told(vec!["email".into()])).await?;
        let (with, _, with_p99) = throughput(std::slice::from_ref(&target), Call::Submit, clients, options).await?;
        mz.set_notify("mz", told(Vec::new())).await?;
        let (without, _, without_p99) =
            throughput(std::slice::from_ref(&target), Call::Submit, clients, options).await?;
        println!(
            "  {clients:>3} in flight: told by e-mail {with} /s  p99 {with_p99:.2} ms; not told {without} /s  p99 {without_p99:.2} ms  ({:.2} of it)",
            with.median / without.median
        );
    }
    hub.stop().context("stopping the hub")
}
