//! Invalid settings stop the program before its first poll: exit code 2 and exactly one
//! line on stderr that names the variable, the bad value and what is accepted.

use std::process::Command;

use crate::support::process::bin;

/// Runs `--once` with a clean environment plus `vars`; returns (exit code, stdout, stderr).
fn run(vars: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(bin());
    cmd.env_clear().arg("--once");
    // Port 9 on loopback: nothing answers, but settings are checked before any poll.
    cmd.env("ECS_CONTAINER_METADATA_URI_V4", "http://127.0.0.1:9/v4/x");
    cmd.env("ECS_EMF_HEALTH_FILE", "/nonexistent-dir/health");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn every_invalid_value_is_rejected_with_exit_2_and_one_line_naming_it() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "ECS_EMF_OUTPUT",
            "kafka",
            "expected stdout, agent or cloudwatch",
        ),
        ("ECS_EMF_NAMESPACE", "", "1-255 printable ASCII"),
        ("ECS_EMF_NAMESPACE", "AWS/ECS", "not starting with AWS/"),
        ("ECS_EMF_NAMESPACE", "Ünïcode", "printable ASCII"),
        ("ECS_EMF_NAMESPACE", &"n".repeat(256), "1-255"),
        // CloudWatch's pattern is `[^:].*`: every metric of this namespace would be refused.
        ("ECS_EMF_NAMESPACE", ":ns", "not starting with AWS/ or ':'"),
        // A leading space hid the reserved prefix; spaces at either end are a typo.
        ("ECS_EMF_NAMESPACE", " AWS/ECS", "no space at either end"),
        (
            "ECS_EMF_NAMESPACE",
            "Team/Payments ",
            "no space at either end",
        ),
        (
            "AWS_EMF_NAMESPACE",
            "AWS/Fallback",
            "not starting with AWS/",
        ),
        ("ECS_EMF_STOP_TIMEOUT", "0s", "1s to 2m"),
        ("ECS_EMF_STOP_TIMEOUT", "5m", "1s to 2m"),
        ("ECS_EMF_INTERVAL", "0s", "1s to 1h"),
        ("ECS_EMF_INTERVAL", "2h", "1s to 1h"),
        ("ECS_EMF_INTERVAL", "soon", "1s to 1h"),
        ("ECS_EMF_HIGH_RESOLUTION", "maybe", "true or false"),
        (
            "ECS_EMF_DIMENSIONS",
            "ClusterName,Region",
            "unknown dimension \"Region\"",
        ),
        (
            "ECS_EMF_DIMENSIONS",
            "ClusterName,ContainerName",
            "unknown dimension \"ContainerName\"",
        ),
        (
            "ECS_EMF_CONTAINER_DIMENSIONS",
            "ClusterName;Pod",
            "unknown dimension \"Pod\"",
        ),
        (
            "ECS_EMF_TAG_DIMENSIONS",
            "env,:bad",
            "not starting with ':'",
        ),
        ("ECS_EMF_TAG_DIMENSIONS", "ServiceName", "collides"),
        ("ECS_EMF_TAG_DIMENSIONS", "CpuUtilized", "collides"),
        ("ECS_EMF_TAG_DIMENSIONS", "équipe", "printable ASCII"),
        ("ECS_EMF_STATIC_DIMENSIONS", "env", "name=value"),
        ("ECS_EMF_STATIC_DIMENSIONS", "env=", "1-1024"),
        ("ECS_EMF_STATIC_DIMENSIONS", "env=a,env=b", "given twice"),
        ("ECS_EMF_METRICS", "CpuUtilised", "matches no metric"),
        ("ECS_EMF_EXCLUDE_METRICS", "Gpu*", "matches no metric"),
        ("ECS_EMF_CONTAINER_METRICS", "sometimes", "true or false"),
        ("ECS_EMF_TAGS_REFRESH", "1s", "10s to 24h"),
        ("ECS_EMF_TAGS_FROM_API", "yes please", "true or false"),
        ("ECS_EMF_MAX_LINE_BYTES", "1023", "1024 to 1048576"),
        ("ECS_EMF_MAX_LINE_BYTES", "lots", "1024 to 1048576"),
        ("ECS_EMF_LOG_FORMAT", "xml", "text or json"),
        ("ECS_EMF_LOG_LEVEL", "loud", "error, warn, info"),
        (
            "ECS_CONTAINER_METADATA_URI_V4",
            "ftp://169.254.170.2/v4",
            "http:// URL",
        ),
        (
            "ECS_CONTAINER_METADATA_URI_V4",
            "https://169.254.170.2/v4/x",
            "http:// URL",
        ),
        (
            "ECS_CONTAINER_METADATA_URI_V4",
            "http://10.0.0.5/v4/x",
            "loopback or link-local",
        ),
        (
            "ECS_CONTAINER_METADATA_URI_V4",
            "http://metadata.example.com/v4/x",
            "loopback or link-local",
        ),
        (
            "ECS_EMF_ALLOW_ANY_METADATA_HOST",
            "perhaps",
            "true or false",
        ),
        ("ECS_EMF_SELF_METRICS", "2", "true or false"),
        ("ECS_EMF_HEALTH_FILE", "", "absolute file path"),
        ("ECS_EMF_HEALTH_FILE", "health", "absolute file path"),
        ("ECS_EMF_HEALTH_FILE", "/tmp/", "absolute file path"),
        ("ECS_EMF_INTERVAL", "1.5m", "1s to 1h"),
        ("ECS_EMF_INTERVAL", "999ms", "1s to 1h"),
        ("ECS_EMF_TAGS_REFRESH", "25h", "10s to 24h"),
        ("ECS_EMF_MAX_LINE_BYTES", "1048577", "1024 to 1048576"),
        ("ECS_EMF_BUFFER_BYTES", "1073741825", "65536 to 1073741824"),
        ("ECS_EMF_OUTPUT", "", "expected stdout, agent or cloudwatch"),
        (
            "AWS_EMF_LOG_STREAM_NAME",
            "bad:name",
            "CloudWatch Logs name",
        ),
        (
            "AWS_EMF_AGENT_ENDPOINT",
            "localhost:25888",
            "tcp://HOST:PORT",
        ),
        (
            "AWS_EMF_AGENT_ENDPOINT",
            "tcp://localhost:0",
            "tcp://HOST:PORT",
        ),
        ("AWS_EMF_AGENT_ENDPOINT", "udp://:25888", "udp://HOST:PORT"),
        (
            "AWS_EMF_LOG_GROUP_NAME",
            "bad\"name",
            "CloudWatch Logs name",
        ),
        ("ECS_EMF_BUFFER_BYTES", "1000", "65536 to 1073741824"),
        (
            "ECS_EMF_INTROSPECTION_URI",
            "http://52.1.2.3:51678",
            "loopback, link-local or private address",
        ),
        (
            "ECS_EMF_INTROSPECTION_URI",
            "127.0.0.1:51678",
            "http:// URL",
        ),
        (
            "ECS_EMF_DIMENSIONS",
            "ClusterName,ContainerInstanceId",
            "set ECS_EMF_INTROSPECTION_URI",
        ),
    ];
    // Every setting the binary reads has at least one rejected value above, except those
    // where every value is meaningful: container names and globs (any text names a container).
    let accepts_anything = ["ECS_EMF_EXCLUDE_CONTAINERS"];
    // Every environment variable the command line declares (clap knows them all).
    let cli = <ecs_emf_exporter::cli::Cli as clap::CommandFactory>::command();
    let settings: std::collections::BTreeSet<String> = cli
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect();
    assert!(settings.len() >= 25, "the scan found {settings:?}");
    for setting in settings {
        assert!(
            accepts_anything.contains(&setting.as_str())
                || cases.iter().any(|(var, _, _)| *var == setting),
            "{setting} has no invalid value in the table"
        );
    }

    for (var, value, expected) in cases {
        let (code, stdout, stderr) = run(&[(var, value)]);
        assert_eq!(
            code,
            Some(2),
            "{var}={value:?}: exit code, stderr: {stderr}"
        );
        assert!(
            stdout.is_empty(),
            "{var}: stdout must stay empty, got {stdout:?}"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{var}={value:?}: want one line, got {stderr:?}"
        );
        assert!(
            lines[0].contains(var),
            "{var}: line does not name it: {}",
            lines[0]
        );
        assert!(
            lines[0].contains(expected),
            "{var}={value:?}: {:?} not in {}",
            expected,
            lines[0]
        );
    }
}

#[test]
fn more_than_30_dimensions_in_a_set_is_rejected() {
    let keys: Vec<String> = (0..29).map(|i| format!("tag{i}")).collect();
    let (code, _, stderr) = run(&[("ECS_EMF_TAG_DIMENSIONS", &keys.join(","))]);
    assert_eq!(code, Some(2));
    // The container set is widest: ClusterName, ServiceName, ContainerName + 29 tags = 32.
    assert!(
        stderr.contains("32 dimensions; CloudWatch allows 30"),
        "{stderr}"
    );
}

#[test]
fn a_flag_wins_over_its_environment_variable() {
    let out = Command::new(bin())
        .env_clear()
        .env("ECS_CONTAINER_METADATA_URI_V4", "http://127.0.0.1:9/v4/x")
        .env("ECS_EMF_INTERVAL", "0s")
        .args(["--interval", "2s", "--namespace", "AWS/Nope", "--once"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    // The interval flag (valid) replaced the invalid env value; the namespace flag is named.
    assert!(
        stderr.contains("ECS_EMF_NAMESPACE=\"AWS/Nope\""),
        "{stderr}"
    );
}

#[test]
fn outside_ecs_the_sidecar_says_so_and_points_to_demo() {
    let out = Command::new(bin()).env_clear().output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("ECS_CONTAINER_METADATA_URI_V4 is not set"),
        "{stderr}"
    );
    assert!(stderr.contains("ecs-emf-exporter demo"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn nothing_collected_in_once_mode_exits_1_with_a_log_line_and_empty_stdout() {
    let (code, stdout, stderr) = run(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("metadata endpoint unreachable (/task)"),
        "{stderr}"
    );
}

#[test]
fn the_catalog_lists_every_metric_as_json() {
    let out = Command::new(bin())
        .args(["metrics", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let catalog: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = catalog
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.contains(&"ContainerCpuUtilized") && names.contains(&"NetworkRxBytes"));
    let rx = catalog
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["name"] == "NetworkRxBytes")
        .expect("present");
    assert_eq!(
        (rx["unit"].as_str(), rx["level"].as_str()),
        (Some("Bytes/Second"), Some("Task"))
    );
}
