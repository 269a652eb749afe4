//! Fault injection: a full disk at every stage of a night. The workdir lives on a small tmpfs
//! (mounting one needs root: without it the test says so and is skipped); a filler file leaves
//! only so many bytes free, so the night runs out of space in ingest, training, the workbook or
//! the report. Every such night must end with exit 1 and "no space left on device" naming a
//! path, never a panic (exit 101) or a signal; what a reader sees must stay readable; and the
//! next night, with space again, must finish with the row counts of a clean run.

use std::path::{Path, PathBuf};
use std::process::Command;

use churnflow::Manifest;

use crate::util::{churnflow, generate, write_pipeline};

/// A tmpfs mounted for the test's life.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Leaves about `free` bytes free on the file system of `dir` (one filler file).
fn fill_leaving(dir: &Path, free: u64) -> PathBuf {
    let filler = dir.join("filler");
    let _ = std::fs::remove_file(&filler);
    let avail = free_bytes(dir);
    let size = avail.saturating_sub(free);
    let f = std::fs::File::create(&filler).unwrap();
    // tmpfs allocates on write, not on set_len: write zeros in blocks.
    use std::io::Write;
    let mut w = std::io::BufWriter::new(f);
    let block = vec![0u8; 1 << 16];
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        if w.write_all(&block[..n]).is_err() {
            break;
        }
        left -= n as u64;
    }
    let _ = w.flush();
    filler
}

#[test]
fn a_full_disk_at_any_stage_fails_cleanly_and_the_next_night_recovers() {
    if unsafe_geteuid() != 0 {
        eprintln!("skipped: mounting a tmpfs for the disk-full harness needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    let Some(_tmpfs) = Tmpfs::mount(&mnt, "48m") else {
        eprintln!("skipped: could not mount a tmpfs (no CAP_SYS_ADMIN here)");
        return;
    };
    let tx = generate(dir.path(), 400, 21, 0);
    // A clean night elsewhere gives the counts to compare with.
    let clean = write_pipeline(dir.path(), &tx, "");
    churnflow()
        .arg("-q")
        .arg("run")
        .arg(&clean)
        .assert()
        .success();
    let clean_rows = Manifest::load(&dir.path().join("work/warehouse"))
        .unwrap()
        .total_rows();
    let pipeline = {
        let p = write_pipeline(dir.path(), &tx, "");
        let text = std::fs::read_to_string(&p).unwrap().replace(
            "workdir = \"work\"",
            &format!("workdir = \"{}\"", mnt.join("work").display()),
        );
        let p2 = dir.path().join("small.toml");
        std::fs::write(&p2, text).unwrap();
        p2
    };
    let mut failures = 0;
    for free in [
        0u64,
        8 << 10,
        40 << 10,
        120 << 10,
        300 << 10,
        700 << 10,
        1500 << 10,
    ] {
        let _ = std::fs::remove_dir_all(mnt.join("work"));
        let filler = fill_leaving(&mnt, free);
        let out = churnflow()
            .arg("-q")
            .arg("run")
            .arg(&pipeline)
            .output()
            .unwrap();
        let code = out.status.code();
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(
            code == Some(0) || code == Some(1),
            "{free} bytes free: exit {code:?} (a panic or a signal?): {stderr}"
        );
        if code == Some(1) {
            failures += 1;
            assert!(
                stderr.contains("no space left on device"),
                "{free} bytes free: {stderr}"
            );
            assert!(
                stderr.contains(&mnt.display().to_string().to_lowercase()),
                "{stderr}"
            );
            // What a reader sees is readable (a manifest, when there is one).
            let wh = mnt.join("work/warehouse");
            if wh.join("_manifest.json").exists() {
                Manifest::load(&wh).expect("the previous manifest stays readable");
            }
        }
        // Space again: the next night finishes, with the clean night's rows.
        std::fs::remove_file(&filler).unwrap();
        churnflow()
            .arg("-q")
            .arg("run")
            .arg(&pipeline)
            .assert()
            .success();
        let rows = Manifest::load(&mnt.join("work/warehouse"))
            .unwrap()
            .total_rows();
        assert_eq!(rows, clean_rows, "{free} bytes free: rows after recovery");
    }
    assert!(failures >= 4, "only {failures} nights ran out of space");
}

fn unsafe_geteuid() -> u32 {
    // Read from /proc to avoid a libc dependency for one call.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}
