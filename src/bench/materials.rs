//! Files: uploads and downloads through the hub, end to end over mutual TLS (read from
//! and written to disk, the download's digest checked by the client), and what sealing
//! them costs, measured in this process on one core.

use std::{path::Path, time::Instant};

use sha2::{Digest, Sha256};

use super::{stats::Spread, Target};
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
