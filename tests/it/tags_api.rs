//! `ECS_EMF_TAGS_FROM_API=true`: where `/taskWithTags` is missing (Fargate), the task's
//! tags come from ECS ListTagsForResource — the real aws-sdk-ecs against moto.

use crate::support::moto::Moto;
use crate::support::process::Sim;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A task in moto with `tags`; returns its ARN.
fn moto_task(moto: &Moto, tags: &[&str]) -> String {
    let arns = moto.ecs_tasks("prom-ecs-exporter-sandbox", tags, None);
    arns.first()
        .expect("ecs_setup.py prints the task's ARN")
        .clone()
}

/// The Fargate fixture's `/task`, with `task_arn` as its TaskARN, in a temporary file.
fn fargate_task_with_arn(dir: &tempfile::TempDir, task_arn: &str) -> String {
    let fixture = std::fs::read(format!(
        "{ROOT}/tests/fixtures/ecs_exporter/fargate_task_metadata.json"
    ))
    .expect("fixture");
    let mut task: serde_json::Value = serde_json::from_slice(&fixture).expect("json");
    task["TaskARN"] = serde_json::Value::from(task_arn);
    let path = dir.path().join("task.json");
    std::fs::write(&path, serde_json::to_vec(&task).expect("serializes")).expect("write");
    path.to_str().expect("utf-8 path").to_string()
}

fn run(moto: &Moto, sim: &Sim, extra: &[(&str, &str)]) -> (Vec<serde_json::Value>, String) {
    let mut env: Vec<(String, String)> = moto.env();
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL_CLOUDWATCH");
    env.push(("AWS_ENDPOINT_URL_ECS".into(), moto.moto_url.clone()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (code, docs, stderr) = crate::support::process::run_once(&sim.base_url, &refs);
    assert_eq!(code, Some(0), "{stderr}");
    (docs, stderr)
}

#[test]
fn fargate_tags_come_from_list_tags_for_resource() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let arn = moto_task(&moto, &["team=payments", "env=prod"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let task = fargate_task_with_arn(&dir, &arn);
    let stats = format!("{ROOT}/tests/fixtures/ecs_exporter/fargate_task_stats.json");
    // Replay without a /taskWithTags file: it answers 404, as on Fargate.
    let sim = Sim::start(&["--replay-task", &task, "--replay-stats", &stats]);
    let (docs, stderr) = run(
        &moto,
        &sim,
        &[
            ("ECS_EMF_TAGS_FROM_API", "true"),
            ("ECS_EMF_TAG_DIMENSIONS", "team,env,owner"),
        ],
    );
    let t = docs
        .iter()
        .find(|d| d["Type"] == "Task")
        .expect("task document");
    assert_eq!(
        (t["team"].as_str(), t["env"].as_str(), t["owner"].as_str()),
        (Some("payments"), Some("prod"), Some("unknown"))
    );
    assert_eq!(
        t["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([[
            "ClusterName",
            "TaskDefinitionFamily",
            "team",
            "env",
            "owner"
        ]]),
        "the fixture has no ServiceName, so the family stands in"
    );
    assert!(
        stderr.contains("reading the task's tags through the ECS API instead"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tags through the ECS API: "),
        "no API problem: {stderr}"
    );
}

#[test]
fn an_api_failure_is_logged_once_and_tags_stay_unknown() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // A task moto does not know: ListTagsForResource fails.
    let task = fargate_task_with_arn(
        &dir,
        "arn:aws:ecs:us-east-1:123456789012:task/nowhere/0123456789abcdef",
    );
    let stats = format!("{ROOT}/tests/fixtures/ecs_exporter/fargate_task_stats.json");
    let sim = Sim::start(&["--replay-task", &task, "--replay-stats", &stats]);
    let (docs, stderr) = run(
        &moto,
        &sim,
        &[
            ("ECS_EMF_TAGS_FROM_API", "true"),
            ("ECS_EMF_TAG_DIMENSIONS", "team"),
        ],
    );
    let t = docs
        .iter()
        .find(|d| d["Type"] == "Task")
        .expect("task document");
    assert_eq!(t["team"], "unknown");
    assert_eq!(
        stderr.matches("ecs:ListTagsForResource failed").count(),
        1,
        "{stderr}"
    );
}
