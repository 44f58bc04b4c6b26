//! Files: uploads and downloads through the hub, end to end over mutual TLS (read from
//! and written to disk, the download's digest checked by the client), what sealing
//! them costs, measured in this process on one core, the hub's memory with several
//! large uploads at once, and a large case's dossier.

use std::{path::Path, time::Instant};

use sha2::{Digest, Sha256};

use super::{
    machine,
    stats::{millis, Spread},
    Target,
};
use crate::keys::{
    stream::{Opener, Sealer, CHUNK_BYTES},
    Keyring,
};

/// The size of the file moved: a large scan.
const FILE_MIB: usize = 16;

/// A PDF of `bytes` that does not compress, as a scanned page does not.
fn sample(bytes: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut file = b"%PDF-1.7\n".to_vec();
    while file.len() < bytes {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        file.extend_from_slice(&state.to_le_bytes());
    }
    file.truncate(bytes);
    file
}

fn mib_per_second(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / f64::from(1 << 20) / seconds.max(1e-9)
}

/// Prints the upload and download rates and the cost of sealing.
pub async fn figures(hub: &Target, dir: &Path, runs: usize) -> anyhow::Result<()> {
    let bytes = FILE_MIB << 20;
    let file = sample(bytes);
    let path = dir.join("调查核实报告.pdf");
    std::fs::write(&path, &file)?;
    let (jcy, mz) = (hub.client("jcy").await?, hub.client("mz").await?);
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let t = Instant::now();
        let attachment = jcy.upload_file(&path).await?;
        up.push(mib_per_second(bytes, t.elapsed().as_secs_f64()));
        let sent = jcy.submit_with(super::draft()?, vec!["mz".into()], None, vec![attachment.id.clone()]).await?;
        let referral = sent.referrals.first().map(|r| r.id.clone()).unwrap_or_default();
        let out = dir.join(format!("downloaded-{run}.pdf"));
        let t = Instant::now();
        mz.download(&referral, &attachment.id, &out).await?;
        down.push(mib_per_second(bytes, t.elapsed().as_secs_f64()));
        anyhow::ensure!(std::fs::read(&out)? == file, "the downloaded file differs from the one uploaded");
        std::fs::remove_file(&out)?;
    }
    let (up, down) = (Spread::of(&up), Spread::of(&down));
    println!("upload of a {FILE_MIB} MiB file (MiB/s, min / median / max): {up}");
    println!("download of it by the recipient (MiB/s): {down}");

    let keyring = Keyring::generate()?;
    let (mut seal, mut open, mut digest) = (Vec::new(), Vec::new(), Vec::new());
    let mut sealed_bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let mut sealer = Sealer::new(&keyring, "bench");
        let header = sealer.header().clone();
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut pieces = file.chunks(CHUNK_BYTES).peekable();
        while let Some(piece) = pieces.next() {
            if pieces.peek().is_some() {
                chunks.push(sealer.chunk(piece)?);
            } else {
                chunks.push(sealer.last(piece)?);
                break;
            }
        }
        seal.push(mib_per_second(bytes, t.elapsed().as_secs_f64()));
        sealed_bytes = chunks.iter().map(Vec::len).sum::<usize>();
        let t = Instant::now();
        let mut opener = Some(Opener::new(&keyring, "bench", &header)?);
        let count = chunks.len();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut this = opener.take().ok_or_else(|| anyhow::anyhow!("opened past the last chunk"))?;
            if i + 1 == count {
                this.last(chunk)?;
            } else {
                this.chunk(chunk)?;
                opener = Some(this);
            }
        }
        open.push(mib_per_second(bytes, t.elapsed().as_secs_f64()));
        let t = Instant::now();
        std::hint::black_box(Sha256::digest(&file));
        digest.push(mib_per_second(bytes, t.elapsed().as_secs_f64()));
    }
    let (seal, open) = (Spread::of(&seal), Spread::of(&open));
    println!("sealing on one core (MiB/s): seal {seal}; open {open}; SHA-256 {}", Spread::of(&digest));
    // Time sealing over the time of the whole upload: the inverse ratio of the rates.
    println!(
        "sealing's share of an upload's time: {:.1}%, opening's of a download's: {:.1}%; stored size +{:.3}% \
         (a 16-byte tag per {} KiB chunk)",
        100.0 * up.median / seal.median,
        100.0 * down.median / open.median,
        100.0 * (sealed_bytes as f64 / bytes as f64 - 1.0),
        CHUNK_BYTES >> 10
    );
    Ok(())
}

/// Members that upload at once, each a file of [`IN_FLIGHT_MIB`].
const IN_FLIGHT: [&str; 4] = ["jcy", "mz", "jy", "fl"];
const IN_FLIGHT_MIB: usize = 20;

/// Prints the hub's peak resident memory while four members each upload a 20 MiB file
/// at once (the hub process `pid`).
pub async fn uploads_in_flight(hub: &Target, pid: u32, dir: &Path) -> anyhow::Result<()> {
    let idle = machine::memory(pid).unwrap_or_default();
    let path = dir.join("卷宗扫描件.pdf");
    std::fs::write(&path, sample(IN_FLIGHT_MIB << 20))?;
    let mut clients = Vec::new();
    for who in IN_FLIGHT {
        clients.push(hub.client(who).await?);
    }
    let t = Instant::now();
    let ((), peak) = super::peak_while(pid, async {
        let uploads: Vec<_> = clients
            .into_iter()
            .map(|client| {
                let path = path.clone();
                tokio::spawn(async move { client.upload_file(&path).await })
            })
            .collect();
        for upload in uploads {
            upload.await??;
        }
        Ok(())
    })
    .await?;
    println!(
        "resident memory with {} uploads of {IN_FLIGHT_MIB} MiB in flight: peak {peak}, idle before {idle} \
         (all in {:.1} s)",
        IN_FLIGHT.len(),
        t.elapsed().as_secs_f64()
    );
    std::fs::remove_file(&path)?;
    Ok(())
}

/// Files the dossier's case carries, and their size.
const CASE_FILES: usize = 30;
const CASE_FILE_MIB: usize = 3;
/// Audit entries written after the case, before its export.
const ENTRIES_SINCE: usize = 10_000;

/// Prints how long a dossier of a case with 30 files takes to export and check, with
/// 10,000 audit entries of other work in the log since, and the hub's peak memory.
pub async fn dossier(hub: &Target, pid: u32, dir: &Path) -> anyhow::Result<()> {
    let (jcy, mz) = (hub.client("jcy").await?, hub.client("mz").await?);
    let mut ids = Vec::new();
    for n in 0..CASE_FILES {
        let path = dir.join(format!("材料{n:02}.pdf"));
        let mut file = sample(CASE_FILE_MIB << 20);
        file[20..28].copy_from_slice(&(n as u64).to_le_bytes());
        std::fs::write(&path, file)?;
        ids.push(jcy.upload_file(&path).await?.id);
        std::fs::remove_file(&path)?;
    }
    let case = jcy.submit_with(super::draft()?, vec!["mz".into()], None, ids).await?;
    let referral = case.referrals.first().map(|r| r.id.clone()).unwrap_or_default();
    mz.receive(&referral).await?;
    let other = jcy.submit(super::draft()?, vec!["mz".into()], None).await?;
    // Its export signs a checkpoint over the traffic so far, as the hourly checkpoints
    // of a running hub would have: what follows is the log since.
    jcy.save_dossier(&other.case_id, &dir.join("其他案卷.zip")).await?;
    let other = other.referrals.first().map(|r| r.id.clone()).unwrap_or_default();
    let t = Instant::now();
    for _ in 0..ENTRIES_SINCE {
        mz.get(&other).await?;
    }
    let since = t.elapsed();
    let out = dir.join("案卷.zip");
    let t = Instant::now();
    let before = machine::memory(pid).unwrap_or_default();
    let (saved, peak) = super::peak_while(pid, async { Ok(jcy.save_dossier(&case.case_id, &out).await?) }).await?;
    let took = t.elapsed();
    let t = Instant::now();
    let public_key = crate::audit::read_public_key(&hub.pki.with_file_name("audit-signing.pub"))?;
    let opened = std::io::BufReader::new(std::fs::File::open(&saved.path)?);
    let verdict = match crate::audit::dossier::verify(opened, &public_key) {
        Ok(_) => "intact".to_owned(),
        Err(broken) => format!("BROKEN: {broken}"),
    };
    let checked = t.elapsed();
    println!(
        "dossier of a case with {CASE_FILES} files of {CASE_FILE_MIB} MiB and {ENTRIES_SINCE} audit entries of other \
         work since ({:.1} s to write them): exported in {:.0} ms, {:.1} MiB; the hub's memory {before} before, \
         peak {peak}; verified alone in {:.0} ms ({verdict})",
        since.as_secs_f64(),
        millis(took),
        saved.bytes as f64 / f64::from(1 << 20),
        millis(checked)
    );
    std::fs::remove_file(&saved.path)?;
    Ok(())
}
