//! The loopback cluster (`distributed` builds): `churnflow cluster scheduler` and two
//! `churnflow cluster executor` processes on 127.0.0.1 (free ports, killed by pid at the end),
//! two demo nights through them, the list compared with the in-process run's; then an executor
//! killed in the middle of a night, and the night after.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::churnflow;

/// A process killed (SIGKILL) and reaped when dropped, whatever the test did.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port (the listener is dropped at once; the process started next binds it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(args: &[&str], log: &Path) -> Killed {
    let log = std::fs::File::create(log).unwrap();
    Killed(
        Command::new(assert_cmd::cargo::cargo_bin("churnflow"))
            .args(args)
            // Ballista's own account of the night (jobs, lost executors), for a failure's message.
            .env("CHURNFLOW_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

struct Cluster {
    scheduler_port: u16,
    _scheduler: Killed,
    executors: Vec<Killed>,
}

fn start_executor(scheduler_port: u16, dir: &Path, i: usize) -> Killed {
    let port = free_port();
    let work = dir.join(format!("executor-{i}"));
    std::fs::create_dir_all(&work).unwrap();
    let e = spawn(
        &[
            "cluster",
            "executor",
            "--scheduler",
            &format!("127.0.0.1:{scheduler_port}"),
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--work-dir",
            work.to_str().unwrap(),
            "--concurrent-tasks",
            "2",
            "--heartbeat-seconds",
            "1",
        ],
        &dir.join(format!("executor-{i}.log")),
    );
    // Executors pull their tasks: only the Arrow Flight service (results, shuffles) listens.
    wait_listening(port, "an executor");
    e
}

fn start_cluster(dir: &Path, executors: usize) -> Cluster {
    let scheduler_port = free_port();
    let scheduler = spawn(
        &[
            "cluster",
            "scheduler",
            "--bind",
            &format!("127.0.0.1:{scheduler_port}"),
            "--executor-timeout-seconds",
            "5",
        ],
        &dir.join("scheduler.log"),
    );
    wait_listening(scheduler_port, "the scheduler");
    let executors = (0..executors)
        .map(|i| start_executor(scheduler_port, dir, i))
        .collect();
    // Registration follows the executors' first heartbeat.
    std::thread::sleep(Duration::from_secs(2));
    Cluster {
        scheduler_port,
        _scheduler: scheduler,
        executors,
    }
}

/// The last lines of the scheduler's and executors' logs in `dir`, for a failure's message.
fn cluster_logs(dir: &Path) -> String {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    logs.iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("  ")).collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            format!("--- {} ---\n{tail}", p.display())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The demo pipeline with its workdir in `dir` and `engine` appended.
fn demo_pipeline(dir: &Path, engine: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("pipelines/demo.toml"))
        .unwrap()
        .replace("\"../out/demo\"", "\"work\"")
        .replace("\"../data/", &format!("\"{}/data/", root.display()));
    assert!(!text.contains("[engine]"), "the demo names no engine");
    let path = dir.join("demo.toml");
    std::fs::write(&path, format!("{text}\n[engine]\n{engine}\n")).unwrap();
    path
}

/// The night's CSV lists, with the model id (it hashes the pipeline file) masked.
fn night_lists(work: &Path, as_of: &str) -> Vec<(String, String)> {
    let registry = crate::util::json(&work.join("models/registry.json"));
    let model = registry["current"].as_str().unwrap().to_string();
    let night = work.join("outputs").join(format!("as_of={as_of}"));
    let mut files: Vec<(String, String)> = std::fs::read_dir(&night)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap()
                .replace(&model, "MODEL");
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files
}

fn two_nights(pipeline: &Path) {
    churnflow()
        .args(["-q", "run"])
        .arg(pipeline)
        .args(["--as-of", "2024-12-29"])
        .assert()
        .success();
    churnflow()
        .args(["-q", "run"])
        .arg(pipeline)
        .assert()
        .success();
}

#[test]
fn two_nights_on_a_loopback_cluster_list_what_the_process_lists() {
    let local = tempfile::tempdir().unwrap();
    two_nights(&demo_pipeline(local.path(), "kind = \"history\""));

    let dir = tempfile::tempdir().unwrap();
    let cluster = start_cluster(dir.path(), 2);
    let engine = format!(
        "kind = \"ballista\"\nendpoint = \"df://127.0.0.1:{}\"\ntarget_partitions = 4",
        cluster.scheduler_port
    );
    two_nights(&demo_pipeline(dir.path(), &engine));
    for night in ["2024-12-29", "2024-12-30"] {
        assert_eq!(
            night_lists(&dir.path().join("work"), night),
            night_lists(&local.path().join("work"), night),
            "night {night}"
        );
    }
    // The scratch folder of each night is gone with it.
    let scratch = dir.path().join("work/engine");
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
}

/// Starts `run --as-of 2024-12-29` and waits until its engine is open (the night's first part,
/// ingest, is local); the night is then in its queries.
fn start_night(pipeline: &Path, work: &Path) -> Child {
    let night = Command::new(assert_cmd::cargo::cargo_bin("churnflow"))
        .args(["run", pipeline.to_str().unwrap(), "--as-of", "2024-12-29"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !work.join("engine").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the night never reached the engine"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    night
}

/// A Ballista engine on `cluster` whose failed queries run again after `retry_wait_seconds`;
/// a query not done in 45 s counts as failed (a demo query takes about a second in a debug
/// build, so only a job the scheduler wedged reaches it).
fn ballista_engine(cluster: &Cluster, retry_wait_seconds: u64) -> String {
    format!(
        "kind = \"ballista\"\nendpoint = \"df://127.0.0.1:{}\"\ntarget_partitions = 4\n\
         retries = 2\nretry_wait_seconds = {retry_wait_seconds}\nquery_timeout_seconds = 45",
        cluster.scheduler_port
    )
}

/// The rule kept: a lost executor costs a retry, not the night. A query that fails on the
/// cluster runs again once the scheduler has dropped the executor (its timeout here is 5 s, the
/// retry waits 8 s), on the executor that is left; the night's lists are the in-process ones.
#[test]
fn an_executor_killed_mid_night_costs_a_retry_not_the_night() {
    let local = tempfile::tempdir().unwrap();
    let reference = demo_pipeline(local.path(), "kind = \"history\"");
    churnflow()
        .args(["-q", "run"])
        .arg(&reference)
        .args(["--as-of", "2024-12-29"])
        .assert()
        .success();

    let dir = tempfile::tempdir().unwrap();
    let mut cluster = start_cluster(dir.path(), 2);
    let pipeline = demo_pipeline(dir.path(), &ballista_engine(&cluster, 8));
    let work = dir.path().join("work");
    let night = start_night(&pipeline, &work);
    drop(cluster.executors.remove(1));
    let out = night.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stderr}\n{}",
        cluster_logs(dir.path())
    );
    // Whether Ballista recovered by itself or the night ran a query again is timing: say which.
    eprintln!(
        "night with a killed executor: retried = {}",
        stderr.contains("running it again")
    );
    assert_eq!(
        night_lists(&work, "2024-12-29"),
        night_lists(&local.path().join("work"), "2024-12-29")
    );
    // The next night runs on the executor that is left.
    churnflow()
        .args(["-q", "run"])
        .arg(&pipeline)
        .assert()
        .success();
    night_lists(&work, "2024-12-30");
}

/// A lost cluster fails the night: exit 3 ("retry later") once the retries are spent, with the
/// query and the cause named, and nothing of the night written; the next night, with the
/// cluster back, runs.
#[test]
fn a_night_whose_cluster_is_lost_fails_with_exit_3_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start_cluster(dir.path(), 1);
    let pipeline = demo_pipeline(dir.path(), &ballista_engine(&cluster, 1));
    let work = dir.path().join("work");
    let port = cluster.scheduler_port;
    let night = start_night(&pipeline, &work);
    drop(cluster);
    let out = night.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("SQL"), "{stderr}");
    assert!(
        stderr.contains("running it again"),
        "the retries are told: {stderr}"
    );
    assert!(
        !work.join("outputs").join("as_of=2024-12-29").exists(),
        "partial outputs"
    );
    assert!(
        !work.join("outputs/latest.json").exists(),
        "a failed night is not the latest"
    );
    assert!(
        !work.join("models/registry.json").exists() || {
            let r = crate::util::json(&work.join("models/registry.json"));
            r["current"].is_null()
        },
        "no model promoted by a failed night"
    );
    // The scratch folder went with the failed night.
    assert_eq!(std::fs::read_dir(work.join("engine")).unwrap().count(), 0);

    // The cluster is back (on the same port, as a restarted service would be).
    let back = tempfile::tempdir().unwrap();
    let _scheduler = spawn(
        &[
            "cluster",
            "scheduler",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--executor-timeout-seconds",
            "5",
        ],
        &back.path().join("scheduler.log"),
    );
    wait_listening(port, "the restarted scheduler");
    let _executor = start_executor(port, back.path(), 0);
    std::thread::sleep(Duration::from_secs(2));
    churnflow()
        .args(["-q", "run"])
        .arg(&pipeline)
        .args(["--as-of", "2024-12-29"])
        .assert()
        .success();
    night_lists(&work, "2024-12-29");
}

/// The rule kept: a night never waits on a cluster for ever. A scheduler without executors
/// queues the night's first query and never runs it; the query's deadline
/// (`query_timeout_seconds`) ends each run, the retries are spent, and the night exits 3 with
/// the deadline named and nothing of it written.
#[test]
fn a_query_the_cluster_never_runs_ends_the_night_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start_cluster(dir.path(), 0);
    let engine = format!(
        "kind = \"ballista\"\nendpoint = \"df://127.0.0.1:{}\"\ntarget_partitions = 2\n\
         retries = 1\nretry_wait_seconds = 0\nquery_timeout_seconds = 3",
        cluster.scheduler_port
    );
    let pipeline = demo_pipeline(dir.path(), &engine);
    let work = dir.path().join("work");
    let started = Instant::now();
    let out = churnflow()
        .args(["run"])
        .arg(&pipeline)
        .args(["--as-of", "2024-12-29"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("did not finish it within 3 s ([engine] query_timeout_seconds)"),
        "{stderr}"
    );
    assert!(stderr.contains("attempt 2 of 2"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(300),
        "two runs of 3 s, ingest and start-up, not a hang"
    );
    assert!(!work.join("outputs/latest.json").exists());
    assert!(!work.join("outputs").join("as_of=2024-12-29").exists());
    assert_eq!(std::fs::read_dir(work.join("engine")).unwrap().count(), 0);
}
