//! The CLI's help text is part of its interface: snapshot it.

use crate::util::churnflow;

fn help(args: &[&str]) -> String {
    let out = churnflow().args(args).arg("--help").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&[]));
}

#[test]
fn run_help() {
    insta::assert_snapshot!(help(&["run"]));
}

#[test]
fn cluster_commands_say_what_this_build_can_run() {
    let assert = crate::util::churnflow()
        .args(["cluster", "scheduler", "--bind", "127.0.0.1:notaport"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    if churnflow::EngineKind::Ballista.available() {
        assert!(
            stderr.contains("--bind: expected HOST:PORT, found \"127.0.0.1:notaport\""),
            "{stderr}"
        );
    } else {
        assert!(
            stderr.contains("needs a churnflow built with the `distributed` feature"),
            "{stderr}"
        );
    }
}
