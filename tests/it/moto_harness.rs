//! The moto harness itself (tests/it/support/moto.rs and its Python helpers), without the
//! exporter: the real aws-sdk-cloudwatch client publishes through the CBOR proxy into moto,
//! and the readback finds exactly what was sent. Needs `scripts/setup-moto.sh`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::moto::Moto;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::{Credentials, Region};
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, Statistic};
use aws_smithy_http_client::tls;
use serde_json::{Value, json};

/// Every SDK call is bounded: a hung proxy fails the test instead of CI.
const CALL: Duration = Duration::from_secs(30);

/// An SDK client on the same HTTP stack as the exporter's (rustls on ring, see Cargo.toml).
async fn client(endpoint: &str, retries: RetryConfig) -> Client {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(retries)
        .load()
        .await;
    Client::new(&config)
}

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since.as_millis()).expect("millis fit i64")
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn datum(name: &str, dims: &[(&str, &str)], value: f64, at_ms: i64) -> MetricDatum {
    let mut b = MetricDatum::builder()
        .metric_name(name)
        .value(value)
        .unit(StandardUnit::Percent)
        .timestamp(DateTime::from_millis(at_ms));
    for (n, v) in dims {
        b = b.dimensions(dim(n, v));
    }
    b.build()
}

async fn put(client: &Client, namespace: &str, data: Vec<MetricDatum>) -> Result<(), String> {
    let call = client
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data))
        .send();
    match tokio::time::timeout(CALL, call).await {
        Err(_) => Err("PutMetricData timed out".into()),
        Ok(Err(e)) => Err(format!(
            "code={:?} message={:?} ({e:?})",
            e.code(),
            e.message()
        )),
        Ok(Ok(_)) => Ok(()),
    }
}

/// The SDK error code of a PutMetricData that is expected to fail.
async fn put_error_code(client: &Client, namespace: &str, data: Vec<MetricDatum>) -> String {
    let call = client
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data))
        .send();
    let err = tokio::time::timeout(CALL, call)
        .await
        .expect("PutMetricData answers in time")
        .expect_err("the injected fault surfaces as an error");
    err.code()
        .unwrap_or_else(|| panic!("error without a code: {err:?}"))
        .to_string()
}

fn stat(stats: &Value, op: &str, counter: &str) -> u64 {
    stats[op][counter].as_u64().unwrap_or(0)
}

fn metric<'a>(readback: &'a Value, name: &str, dims: &Value) -> &'a Value {
    readback
        .as_array()
        .expect("readback is a list")
        .iter()
        .find(|m| m["MetricName"] == name && &m["Dimensions"] == dims)
        .unwrap_or_else(|| panic!("{name} {dims} not in readback {readback}"))
}

/// Totals over all datapoints: (Sum, SampleCount, Minimum, Maximum).
fn totals(metric: &Value) -> (f64, f64, f64, f64) {
    let points = metric["Datapoints"].as_array().expect("datapoints");
    let field = |p: &Value, k: &str| p[k].as_f64().expect("numeric statistic");
    points.iter().fold(
        (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY),
        |(s, c, lo, hi), p| {
            (
                s + field(p, "Sum"),
                c + field(p, "SampleCount"),
                lo.min(field(p, "Minimum")),
                hi.max(field(p, "Maximum")),
            )
        },
    )
}

#[tokio::test]
async fn sdk_put_metric_data_reads_back_exactly() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let cw = client(&moto.endpoint, RetryConfig::disabled()).await;
    let t = now_ms() - 5_000;
    let ns = "Harness/Basic";
    let task = [("ClusterName", "c1"), ("TaskId", "t1")];
    let container = [
        ("ClusterName", "c1"),
        ("TaskId", "t1"),
        ("ContainerName", "app"),
    ];
    put(
        &cw,
        ns,
        vec![
            datum("CpuUtilized", &task, 10.0, t),
            datum("CpuUtilized", &task, 30.0, t + 1_000),
            // A superset of the task's dimensions: moto's GetMetricStatistics would count it
            // into the task's metric; the readback must not.
            datum("CpuUtilized", &container, 7.0, t),
            datum("MemoryUtilized", &[], 2.5, t),
        ],
    )
    .await
    .expect("PutMetricData through the proxy");
    // The same name and dimensions in another namespace must not leak in either.
    put(
        &cw,
        "Harness/Other",
        vec![datum("MemoryUtilized", &[], 99.0, t)],
    )
    .await
    .expect("PutMetricData into a second namespace");

    let back = moto.readback(ns);
    assert_eq!(back.as_array().map(Vec::len), Some(3), "{back}");
    let cpu_task = metric(
        &back,
        "CpuUtilized",
        &json!({"ClusterName": "c1", "TaskId": "t1"}),
    );
    assert_eq!(totals(cpu_task), (40.0, 2.0, 10.0, 30.0), "{cpu_task}");
    assert_eq!(cpu_task["Unit"], "Percent");
    let cpu_container = metric(
        &back,
        "CpuUtilized",
        &json!({"ClusterName": "c1", "TaskId": "t1", "ContainerName": "app"}),
    );
    assert_eq!(
        totals(cpu_container),
        (7.0, 1.0, 7.0, 7.0),
        "{cpu_container}"
    );
    let mem = metric(&back, "MemoryUtilized", &json!({}));
    assert_eq!(totals(mem), (2.5, 1.0, 2.5, 2.5), "{mem}");

    // Period 1: one bucket per second, labelled with the second the datum was sent for.
    let fine = moto.readback_with(ns, &["--period", "1"]);
    let cpu_task = metric(
        &fine,
        "CpuUtilized",
        &json!({"ClusterName": "c1", "TaskId": "t1"}),
    );
    let stamps: Vec<i64> = cpu_task["Datapoints"]
        .as_array()
        .expect("datapoints")
        .iter()
        .filter_map(|p| p["Timestamp"].as_i64())
        .collect();
    assert_eq!(stamps, vec![t / 1000 * 1000, (t + 1_000) / 1000 * 1000]);

    // moto stored each datum once; the proxy's log has them as the SDK sent them.
    let raw = moto.readback_raw(ns);
    assert_eq!(raw.as_array().map(Vec::len), Some(4), "{raw}");
    let sent = moto.accepted_datums(ns);
    assert_eq!(sent.as_array().map(Vec::len), Some(4), "{sent}");
    assert_eq!(sent[0]["Timestamp"], t);
    assert_eq!(
        sent[0]["Dimensions"],
        json!({"ClusterName": "c1", "TaskId": "t1"})
    );
    assert_eq!(sent[0]["Unit"], "Percent");
    let stats = moto.stats();
    assert_eq!(stat(&stats, "PutMetricData", "received"), 2, "{stats}");
    assert_eq!(
        stat(&stats, "PutMetricData", "datums_accepted"),
        5,
        "{stats}"
    );
}

#[tokio::test]
async fn injected_faults_surface_with_their_query_error_codes() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let cw = client(&moto.endpoint, RetryConfig::disabled()).await;
    let ns = "Harness/Faults";
    let one = || vec![datum("M", &[("K", "v")], 1.0, now_ms())];

    moto.inject("PutMetricData", "throttling", 1);
    assert_eq!(put_error_code(&cw, ns, one()).await, "Throttling");
    moto.inject("PutMetricData", "invalid", 1);
    let call = cw
        .put_metric_data()
        .namespace(ns)
        .set_metric_data(Some(one()))
        .send();
    let err = tokio::time::timeout(CALL, call)
        .await
        .expect("answers in time")
        .expect_err("invalid is an error");
    assert_eq!(err.code(), Some("InvalidParameterValue"));
    assert!(
        err.message()
            .is_some_and(|m| m.contains("MetricData.member.1.Value")),
        "{err:?}"
    );
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_value_exception()),
        "modeled as InvalidParameterValueException: {err:?}"
    );
    moto.inject("PutMetricData", "unavailable", 1);
    assert_eq!(put_error_code(&cw, ns, one()).await, "ServiceUnavailable");

    // Faults are consumed: the next call goes through to moto.
    put(&cw, ns, one()).await.expect("no fault left");
    let stats = moto.stats();
    assert_eq!(stat(&stats, "PutMetricData", "received"), 4, "{stats}");
    assert_eq!(stat(&stats, "PutMetricData", "injected"), 3, "{stats}");
    assert_eq!(stat(&stats, "PutMetricData", "forwarded"), 1, "{stats}");
    assert_eq!(moto.readback_raw(ns).as_array().map(Vec::len), Some(1));

    // A real moto validation error comes back through the same error mapping.
    let nan = vec![datum("M", &[("K", "v")], f64::NAN, now_ms())];
    assert_eq!(put_error_code(&cw, ns, nan).await, "InvalidParameterValue");

    // With the SDK's standard retries, two throttles are retried away.
    let retrying = client(&moto.endpoint, RetryConfig::standard().with_max_attempts(3)).await;
    moto.reset();
    moto.inject("PutMetricData", "throttling", 2);
    put(&retrying, ns, one())
        .await
        .expect("succeeds on the 3rd try");
    let stats = moto.stats();
    assert_eq!(stat(&stats, "PutMetricData", "received"), 3, "{stats}");
    assert_eq!(stat(&stats, "PutMetricData", "accepted"), 1, "{stats}");
}

#[tokio::test]
async fn large_put_is_gzipped_and_arrives_whole() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let cw = client(&moto.endpoint, RetryConfig::disabled()).await;
    let ns = "Harness/Large";
    let t = now_ms() - 10_000;
    let data: Vec<MetricDatum> = (0..1000)
        .map(|i| {
            datum(
                "Big",
                &[("Series", &format!("s{:04}", i % 10))],
                f64::from(i),
                t,
            )
        })
        .collect();
    put(&cw, ns, data).await.expect("1000 datums in one call");

    let stats = moto.stats();
    assert_eq!(stat(&stats, "PutMetricData", "compressed"), 1, "{stats}");
    assert_eq!(stat(&stats, "PutMetricData", "datums_accepted"), 1000);
    let back = moto.readback(ns);
    let series = back.as_array().expect("list");
    assert_eq!(series.len(), 10, "{back}");
    let (mut sum, mut count) = (0.0, 0.0);
    for m in series {
        let (s, c, _, _) = totals(m);
        sum += s;
        count += c;
    }
    assert_eq!(count, 1000.0);
    assert_eq!(sum, f64::from(999 * 1000 / 2));
    assert_eq!(moto.readback_raw(ns).as_array().map(Vec::len), Some(1000));
}

#[tokio::test]
async fn sdk_reads_through_the_proxy_too() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let cw = client(&moto.endpoint, RetryConfig::disabled()).await;
    let ns = "Harness/Read";
    let t = now_ms() - 30_000;
    put(
        &cw,
        ns,
        vec![
            datum("Lat", &[("Api", "get")], 4.0, t),
            datum("Lat", &[("Api", "get")], 6.0, t + 500),
        ],
    )
    .await
    .expect("put");

    let call = cw
        .get_metric_statistics()
        .namespace(ns)
        .metric_name("Lat")
        .dimensions(dim("Api", "get"))
        .start_time(DateTime::from_millis(t - 60_000))
        .end_time(DateTime::from_millis(t + 60_000))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Maximum)
        .send();
    let out = tokio::time::timeout(CALL, call)
        .await
        .expect("in time")
        .expect("GetMetricStatistics through the proxy");
    let points = out.datapoints();
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].sum(), Some(10.0));
    assert_eq!(points[0].sample_count(), Some(2.0));
    assert_eq!(points[0].maximum(), Some(6.0));
    assert_eq!(points[0].unit(), Some(&StandardUnit::Percent));
    // moto labels the bucket with its first datum's time: a CBOR tag-1 timestamp.
    assert_eq!(
        points[0].timestamp().and_then(|ts| ts.to_millis().ok()),
        Some(t)
    );

    let call = cw.list_metrics().namespace(ns).send();
    let listed = tokio::time::timeout(CALL, call)
        .await
        .expect("in time")
        .expect("ListMetrics through the proxy");
    assert!(
        listed
            .metrics()
            .iter()
            .all(|m| m.metric_name() == Some("Lat") && m.namespace() == Some(ns)),
        "{listed:?}"
    );
}

#[tokio::test]
async fn stopped_proxy_refuses_and_restarts_on_the_same_port() {
    let Some(mut moto) = Moto::start() else {
        return;
    };
    let cw = client(&moto.endpoint, RetryConfig::disabled()).await;
    let ns = "Harness/Outage";
    let endpoint = moto.endpoint.clone();
    put(&cw, ns, vec![datum("Up", &[], 1.0, now_ms())])
        .await
        .expect("before the outage");

    moto.stop_proxy();
    let down = put(&cw, ns, vec![datum("Up", &[], 2.0, now_ms())]).await;
    assert!(down.is_err(), "CloudWatch is down, yet the put succeeded");

    moto.start_proxy();
    assert_eq!(moto.endpoint, endpoint, "same port after the restart");
    put(&cw, ns, vec![datum("Up", &[], 3.0, now_ms())])
        .await
        .expect("after the outage");
    // The counters and the datum log survived the restart; the failed put never arrived.
    assert_eq!(stat(&moto.stats(), "PutMetricData", "accepted"), 2);
    let values: Vec<f64> = moto
        .accepted_datums(ns)
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["Value"].as_f64())
        .collect();
    assert_eq!(values, vec![1.0, 3.0]);
}

#[tokio::test]
async fn readback_refuses_what_moto_cannot_answer_exactly() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let cw = client(&moto.endpoint, RetryConfig::disabled()).await;
    let ns = "Harness/Ambiguous";
    let t = now_ms();
    put(
        &cw,
        ns,
        vec![datum("X", &[], 1.0, t), datum("X", &[("D", "d")], 2.0, t)],
    )
    .await
    .expect("put");
    // moto filters no dimensions for a query without any, so X alone cannot be read.
    let err = moto
        .try_readback(ns, &[])
        .expect_err("a metric without dimensions beside its dimensioned variant");
    assert!(err.contains("without dimensions"), "{err}");
}

#[tokio::test]
async fn query_wire_to_moto_works_too() {
    let Some(moto) = Moto::start_with("query") else {
        return;
    };
    let cw = client(&moto.endpoint, RetryConfig::disabled()).await;
    let ns = "Harness/Query";
    let t = now_ms() - 5_000;
    put(
        &cw,
        ns,
        vec![
            datum("Q", &[("K", "v")], 1.5, t),
            datum("Q", &[("K", "v")], 2.5, t + 1),
        ],
    )
    .await
    .expect("put over the query wire");
    let back = moto.readback(ns);
    assert_eq!(
        totals(metric(&back, "Q", &json!({"K": "v"}))),
        (4.0, 2.0, 1.5, 2.5)
    );
    assert_eq!(moto.accepted_datums(ns)[1]["Timestamp"], t + 1);

    let call = cw
        .get_metric_statistics()
        .namespace(ns)
        .metric_name("Q")
        .dimensions(dim("K", "v"))
        .start_time(DateTime::from_millis(t - 60_000))
        .end_time(DateTime::from_millis(t + 60_000))
        .period(60)
        .statistics(Statistic::Sum)
        .send();
    let out = tokio::time::timeout(CALL, call)
        .await
        .expect("in time")
        .expect("GetMetricStatistics over the query wire");
    assert_eq!(out.datapoints().first().and_then(|p| p.sum()), Some(4.0));
    assert_eq!(
        out.datapoints()
            .first()
            .and_then(|p| p.timestamp())
            .and_then(|ts| ts.to_millis().ok()),
        Some(t)
    );

    let nan = vec![datum("Q", &[("K", "v")], f64::NAN, now_ms())];
    assert_eq!(put_error_code(&cw, ns, nan).await, "InvalidParameterValue");
}
