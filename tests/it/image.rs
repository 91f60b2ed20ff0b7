//! The container image users run (Dockerfile, built by scripts/build-image.sh): what is in it,
//! who it runs as, and `healthcheck` with and without a read-only root filesystem.
//! Run by scripts/e2e-docker.sh (a private dockerd); ignored by a plain `cargo test`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::docker::Docker;
use crate::support::process::Sim;

const WAIT: Duration = Duration::from_secs(30);

/// Every entry of the image's filesystem as `path -> (mode string, owner)`, from `docker export`
/// of a created (never started) container, minus what Docker itself adds to every container.
fn image_files(docker: &Docker) -> BTreeMap<String, (String, String)> {
    let id = docker.ok(&["create", &docker.image]).trim().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let tar = dir.path().join("fs.tar");
    let tar_path = tar.to_str().expect("utf-8 path");
    docker.ok(&["export", "-o", tar_path, &id]);
    docker.ok(&["rm", "-v", &id]);
    let listing = std::process::Command::new("tar")
        .args(["--numeric-owner", "-tvf", tar_path])
        .output()
        .expect("tar runs");
    let injected = [
        ".dockerenv",
        "dev/",
        "dev/console",
        "dev/pts/",
        "dev/shm/",
        "etc/hostname",
        "etc/hosts",
        "etc/mtab",
        "etc/resolv.conf",
        "proc/",
        "sys/",
    ];
    String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // mode owner size date time path [-> target]
            let path = fields.get(5)?.to_string();
            (!injected.contains(&path.as_str()))
                .then(|| (path, (fields[0].to_string(), fields[1].to_string())))
        })
        .collect()
}

#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn the_image_holds_one_static_binary_a_ca_bundle_and_a_tmp_owned_by_the_runtime_user() {
    let docker = Docker::from_env();
    let files = image_files(&docker);
    let paths: Vec<&str> = files.keys().map(String::as_str).collect();
    // No shell, no package manager, nothing else.
    assert_eq!(
        paths,
        [
            "ecs-emf-exporter",
            "etc/",
            "etc/group",
            "etc/passwd",
            "etc/ssl/",
            "etc/ssl/certs/",
            "etc/ssl/certs/ca-certificates.crt",
            "tmp/"
        ]
    );
    assert_eq!(files["ecs-emf-exporter"].0, "-rwxr-xr-x");
    assert_eq!(
        files["ecs-emf-exporter"].1, "0/0",
        "root-owned: the sidecar cannot replace itself"
    );
    assert_eq!(
        files["tmp/"],
        ("drwxr-xr-x".to_string(), "65532/65532".to_string())
    );

    let config = docker.ok(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.User}} {{json .Config.Entrypoint}} {{json .Config.Volumes}} {{json .Config.Healthcheck.Test}}",
        &docker.image,
    ]);
    assert_eq!(
        config.trim(),
        r#""65532:65532" ["/ecs-emf-exporter"] {"/tmp":{}} ["CMD","/ecs-emf-exporter","healthcheck"]"#
    );

    // The size budget the README states: a few MB, not a 100+ MB collector.
    let size: u64 = docker
        .ok(&["image", "inspect", "-f", "{{.Size}}", &docker.image])
        .trim()
        .parse()
        .expect("a size");
    assert!(size < 16_000_000, "image is {size} bytes");
}

#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn the_ca_bundle_trusts_the_roots_of_aws_endpoints() {
    let docker = Docker::from_env();
    let id = docker.ok(&["create", &docker.image]).trim().to_string();
    let out = docker.run(&[
        "cp",
        &format!("{id}:/etc/ssl/certs/ca-certificates.crt"),
        "-",
    ]);
    docker.ok(&["rm", "-v", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `docker cp … -` writes a tar stream; the PEM text is in it verbatim.
    let bundle = String::from_utf8_lossy(&out.stdout);
    // CloudWatch's TLS certificates chain to Amazon Root CA 1 (or Starfield, cross-signed).
    for root in [
        "Amazon_Root_CA_1.pem",
        "Starfield_Services_Root_Certificate_Authority_-_G2.pem",
    ] {
        let pem = std::fs::read_to_string(format!("/etc/ssl/certs/{root}"))
            .unwrap_or_else(|e| panic!("this machine's ca-certificates has no {root}: {e}"));
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let bundle_flat: String = bundle.lines().collect();
        assert!(
            bundle_flat.contains(&body),
            "{root} is not in the image's bundle"
        );
    }
}

#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn healthcheck_without_a_running_sidecar_is_unhealthy() {
    let docker = Docker::from_env();
    let out = docker.run(&["run", "--rm", &docker.image, "healthcheck"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unhealthy: no health file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sidecar_options<'a>(sim: &'a Sim, extra: &[&'a str]) -> Vec<String> {
    let mut options: Vec<String> = ["--network", "host", "-e", "ECS_EMF_INTERVAL=1s", "-e"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    options.push(format!("ECS_CONTAINER_METADATA_URI_V4={}", sim.base_url));
    options.extend(extra.iter().map(|s| s.to_string()));
    options
}

#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn healthcheck_is_healthy_with_and_without_a_read_only_root() {
    let docker = Docker::from_env();
    let sim = Sim::start(&[]);
    // The image's VOLUME /tmp gives a read-only container a writable, 65532-owned /tmp (an
    // anonymous volume here, the task volume infra/ adds on ECS).
    for extra in [&["--read-only"][..], &[][..]] {
        let options = sidecar_options(&sim, extra);
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        let sidecar = docker.start(&options, &[]);
        assert!(
            sidecar.wait_healthy(WAIT),
            "{extra:?}: never healthy; logs: {:?}",
            sidecar.logs()
        );
        assert_eq!(sidecar.stop(), 0, "SIGTERM ends the sidecar with 0");
    }
}

#[test]
#[ignore = "needs dockerd and the image: scripts/e2e-docker.sh"]
fn a_read_only_root_without_a_writable_health_path_is_unhealthy_but_still_publishes() {
    let docker = Docker::from_env();
    let sim = Sim::start(&[]);
    let options = sidecar_options(
        &sim,
        &[
            "--read-only",
            "-e",
            "ECS_EMF_HEALTH_FILE=/ecs-emf-exporter.health",
        ],
    );
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let sidecar = docker.start(&options, &[]);
    std::thread::sleep(Duration::from_secs(3));
    let check = sidecar.exec(&["healthcheck"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(sidecar.stop(), 0);
    let (stdout, stderr) = sidecar.logs();
    let docs = crate::support::emf_rules::assert_valid_lines(&stdout, 16_383);
    assert!(
        docs.iter().filter(|d| d["Type"] == "Task").count() >= 2,
        "metrics keep flowing; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("/ecs-emf-exporter.health"),
        "the unwritable health file is logged:\n{stderr}"
    );
}
