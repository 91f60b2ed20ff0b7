//! Security properties of the running sidecar (SECURITY.md): it listens on no port, and its
//! logs at the default level carry neither credentials nor tag values.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::process::{Exporter, Sim, task_docs};

const WAIT: Duration = Duration::from_secs(20);

/// Inodes of the sockets in LISTEN state (st 0A) in /proc/net/tcp, tcp6, udp and udp6 (UDP
/// sockets bound for receiving show st 07 and an all-zero remote address).
fn listening_inodes() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for table in ["tcp", "tcp6", "udp", "udp6"] {
        let text = std::fs::read_to_string(format!("/proc/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let listening = if table.starts_with("tcp") {
                f.get(3) == Some(&"0A")
            } else {
                f.get(2)
                    .is_some_and(|remote| remote.trim_start_matches(['0', ':']).is_empty())
            };
            if listening && let Some(inode) = f.get(9) {
                out.insert((*inode).to_string());
            }
        }
    }
    out
}

/// The socket inodes the process holds open.
fn socket_inodes(pid: u32) -> BTreeSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the process's fds")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            t.strip_prefix("socket:[")?
                .strip_suffix(']')
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn the_sidecar_listens_on_no_port_and_logs_no_secret_or_tag_value() {
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
    let tag_value = "payments-team-confidential-cost-centre-4711";
    let sim = Sim::start(&["--platform", "ec2", "--tag", &format!("team={tag_value}")]);
    let exporter = Exporter::start(
        &sim.base_url,
        &[
            ("ECS_EMF_TAG_DIMENSIONS", "team"),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_SESSION_TOKEN", secret),
        ],
        &[],
    );
    let docs = exporter.read_until(WAIT, |d| task_docs(d).len() >= 2);
    assert!(task_docs(&docs).len() >= 2, "{}", exporter.stderr.text());
    // The tag reaches the metrics (so the test has really read it)...
    assert_eq!(task_docs(&docs)[0]["team"], tag_value);

    let sockets = socket_inodes(exporter.pid());
    let all_listening = listening_inodes();
    let listening: Vec<&String> = sockets.intersection(&all_listening).collect();
    assert!(
        listening.is_empty(),
        "listening sockets: {listening:?} of {sockets:?}"
    );

    // ...but never the logs, and neither do credentials.
    let stderr = exporter.stderr.text();
    assert!(!stderr.is_empty());
    for needle in [secret, "AKIAIOSFODNN7EXAMPLE", tag_value] {
        assert!(!stderr.contains(needle), "{needle} in the logs:\n{stderr}");
    }
}

/// The control for the scan above: a socket this test opens for listening is found.
#[test]
fn the_listening_scan_finds_a_listening_socket() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let ours = socket_inodes(std::process::id());
    assert!(!ours.is_disjoint(&listening_inodes()), "{ours:?}");
    drop(listener);
}
