//! Generates a demo catalog and prints what the analysis found against the generator's
//! truth: `cargo run --release --example demo_catalog -- [SONGS] [SEED] [DIR]`.

use std::time::Instant;

use spoofify_service::catalog::demo;
use spoofify_service::catalog::SongSource;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let songs: usize = args.next().map_or(Ok(400), |s| s.parse())?;
    let seed: u64 = args.next().map_or(Ok(2026), |s| s.parse())?;
    let dir = args
        .next()
        .map_or_else(|| std::env::temp_dir().join("spoofify-demo"), Into::into);
    let start = Instant::now();
    let catalog = demo::generate(&dir, songs, seed, &|done, total| {
        if done % 20 == 0 || done == total {
            eprintln!(
                "{done}/{total} after {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
    })?;
    let took = start.elapsed();
    let audio: f64 = catalog.iter().map(|s| s.duration_ms as f64 / 1000.0).sum();
    println!("id\tgenre\ttruth_bpm\tbpm\tgain_db\tlufs\tcentroid\trolloff\tflatness\tzcr\tonsets\tdr\tseconds");
    for s in &catalog {
        let SongSource::Demo { truth, .. } = &s.source else {
            continue;
        };
        let f = s.features.raw;
        println!(
            "{}\t{}\t{:.1}\t{:.1}\t{:.1}\t{:.1}\t{:.0}\t{:.0}\t{:.4}\t{:.4}\t{:.2}\t{:.1}\t{:.1}",
            s.id,
            s.genre,
            truth.tempo_bpm,
            f[0],
            truth.gain_db,
            f[1],
            f[2],
            f[3],
            f[4],
            f[5],
            f[6],
            f[7],
            s.duration_ms as f64 / 1000.0
        );
    }
    eprintln!(
        "{} songs, {audio:.0} s of audio, in {:.1} s",
        catalog.len(),
        took.as_secs_f64()
    );
    Ok(())
}
