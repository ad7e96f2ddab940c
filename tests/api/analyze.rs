//! `arkiv analyze --lang LANG`: the terms the index makes of each line of
//! standard input, one line of terms per line.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `arkiv analyze` with `args` on `input`: (success, stdout, stderr).
fn analyze(args: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .arg("analyze")
        .args(args)
        .env("ARKIV_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("arkiv runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // Written from a thread: a long input fills the pipe before arkiv
    // stops reading.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("arkiv ends");
    writer.join().expect("writer");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn albanian_inflections_give_one_term() {
    let (ok, out, err) = analyze(
        &["--lang", "sq"],
        "raportin raporteve raport\n\nPrishtinë, Prishtina, prishtine\n".as_bytes(),
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "one line out per line in: {out:?}");
    assert_eq!(lines[0], "raport raport raport");
    assert_eq!(lines[1], "", "a line without words has no terms");
    let prishtina: Vec<&str> = lines[2].split(' ').collect();
    assert_eq!(prishtina.len(), 3, "{}", lines[2]);
    assert!(
        prishtina.iter().all(|term| *term == prishtina[0]),
        "{}",
        lines[2]
    );
}

#[test]
fn serbian_meets_across_scripts() {
    let text = "Приштина и Србија\r\nPriština i Srbija\nPristina i Srbija";
    let (ok, out, err) = analyze(&["--lang", "sr"], text.as_bytes());
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out:?}");
    assert!(!lines[0].is_empty());
    assert!(lines.iter().all(|line| *line == lines[0]), "{out:?}");
    for alias in ["sr-Cyrl", "sr-Latn", "SR"] {
        let (ok, same, err) = analyze(&["--lang", alias], text.as_bytes());
        assert!(ok, "{alias}: {err}");
        assert_eq!(same, out, "{alias}");
    }
}

#[test]
fn common_pairs_are_shown_as_the_index_holds_them() {
    let (ok, out, err) = analyze(&["--lang", "en"], b"Normalization of the relations\n");
    assert!(ok, "{err}");
    assert_eq!(out, "normal of the \"of the\" relat\n");
}

#[test]
fn an_unknown_language_or_an_overlong_line_is_an_error() {
    let (ok, out, err) = analyze(&["--lang", "de"], b"Wort\n");
    assert!(!ok);
    assert!(out.is_empty());
    assert!(err.contains("\"de\" is not one of en, sq, sr"), "{err}");
    let (ok, _, err) = analyze(&[], b"word\n");
    assert!(!ok, "--lang is required: {err}");
    let mut long = b"short line\n".to_vec();
    long.extend(std::iter::repeat_n(b'a', (1 << 20) + 1));
    let (ok, out, err) = analyze(&["--lang", "en"], &long);
    assert!(!ok);
    assert_eq!(out, "short line\n", "the lines before it are answered");
    assert!(err.contains("line 2 is longer than 1048576 bytes"), "{err}");
}
