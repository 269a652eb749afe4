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
