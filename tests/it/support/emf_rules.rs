//! An EMF validator for the tests, written from docs/limits.md and independent of the
//! encoder: unit names, 100 metrics per directive, 30 dimensions per set, dimension values
//! 1–1024 characters on the root, line length, finite numbers, timestamp window.

use serde_json::Value;

pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

const DAY_MS: i64 = 86_400_000;

fn printable_ascii(s: &str) -> bool {
    s.chars().all(|c| (' '..='~').contains(&c))
}

fn finite_number(v: &Value) -> bool {
    v.as_f64().is_some_and(f64::is_finite)
}

/// Problems of one line (empty when valid). `now_ms`: reference for the timestamp window.
pub fn problems(line: &str, max_line_bytes: usize, now_ms: Option<i64>) -> Vec<String> {
    let mut p = Vec::new();
    if line.len() > max_line_bytes {
        p.push(format!(
            "line is {} bytes (max {max_line_bytes})",
            line.len()
        ));
    }
    if line.contains('\n') {
        p.push("line contains a newline".into());
    }
    let doc: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            p.push(format!("not valid JSON: {e}"));
            return p;
        }
    };
    let Some(root) = doc.as_object() else {
        p.push("not a JSON object".into());
        return p;
    };
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else {
        p.push("missing _aws".into());
        return p;
    };
    match aws.get("Timestamp").and_then(Value::as_i64) {
        None => p.push("_aws.Timestamp must be an integer".into()),
        Some(ts) => {
            if let Some(now) = now_ms
                && (ts < now - 14 * DAY_MS || ts > now + 2 * 3_600_000)
            {
                p.push(format!("timestamp {ts} outside [now-14d, now+2h]"));
            }
        }
    }
    let Some(directives) = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
    else {
        p.push("CloudWatchMetrics must be a non-empty array".into());
        return p;
    };
    for d in directives {
        let ns = d.get("Namespace").and_then(Value::as_str).unwrap_or("");
        if ns.is_empty() || ns.len() > 255 || !printable_ascii(ns) || ns.starts_with("AWS/") {
            p.push(format!("bad namespace {ns:?}"));
        }
        match d.get("Dimensions").and_then(Value::as_array) {
            None => p.push("Dimensions must be an array".into()),
            Some(sets) if sets.is_empty() => p.push("Dimensions must not be empty".into()),
            Some(sets) => {
                for set in sets {
                    let Some(keys) = set.as_array() else {
                        p.push("dimension set is not an array".into());
                        continue;
                    };
                    if keys.len() > 30 {
                        p.push(format!("dimension set has {} keys (max 30)", keys.len()));
                    }
                    let mut seen = std::collections::HashSet::new();
                    for key in keys {
                        let Some(k) = key.as_str() else {
                            p.push("dimension key is not a string".into());
                            continue;
                        };
                        if !seen.insert(k) {
                            p.push(format!("dimension {k:?} repeated in a set"));
                        }
                        if k.is_empty()
                            || k.len() > 250
                            || !printable_ascii(k)
                            || k.starts_with(':')
                        {
                            p.push(format!("bad dimension name {k:?}"));
                        }
                        match root.get(k).and_then(Value::as_str) {
                            None => {
                                p.push(format!("dimension {k:?} has no string value on the root"))
                            }
                            Some(v) if v.trim().is_empty() || v.chars().count() > 1024 => {
                                p.push(format!(
                                    "dimension {k:?} value must be 1-1024 characters, not blank"
                                ))
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        let Some(metrics) = d
            .get("Metrics")
            .and_then(Value::as_array)
            .filter(|m| !m.is_empty())
        else {
            p.push("Metrics must be a non-empty array".into());
            continue;
        };
        if metrics.len() > 100 {
            p.push(format!(
                "{} metrics in one directive (max 100)",
                metrics.len()
            ));
        }
        let mut names = std::collections::HashSet::new();
        for m in metrics {
            let name = m.get("Name").and_then(Value::as_str).unwrap_or("");
            if name.is_empty() || name.len() > 255 || !printable_ascii(name) {
                p.push(format!("bad metric name {name:?}"));
                continue;
            }
            if !names.insert(name) {
                p.push(format!("metric {name:?} defined twice"));
            }
            let unit = m.get("Unit").and_then(Value::as_str).unwrap_or("None");
            if !UNITS.contains(&unit) {
                p.push(format!("metric {name:?} has invalid unit {unit:?}"));
            }
            if let Some(r) = m.get("StorageResolution")
                && r.as_i64() != Some(1)
                && r.as_i64() != Some(60)
            {
                p.push(format!("metric {name:?} has invalid StorageResolution {r}"));
            }
            match root.get(name) {
                Some(v) if finite_number(v) => {}
                Some(Value::Array(vs))
                    if !vs.is_empty() && vs.len() <= 100 && vs.iter().all(finite_number) => {}
                other => p.push(format!(
                    "metric {name:?} value must be a finite number, got {other:?}"
                )),
            }
        }
    }
    p
}

/// Asserts every non-empty line of `text` is a valid EMF document; returns the documents.
pub fn assert_valid_lines(text: &str, max_line_bytes: usize) -> Vec<Value> {
    assert_valid_lines_at(text, max_line_bytes, chrono::Utc::now().timestamp_millis())
}

/// As [`assert_valid_lines`], the timestamps checked against `now` (ms since the epoch).
pub fn assert_valid_lines_at(text: &str, max_line_bytes: usize, now: i64) -> Vec<Value> {
    let mut docs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let problems = problems(line, max_line_bytes, Some(now));
        assert!(
            problems.is_empty(),
            "line {}: {problems:?}\n{}",
            i + 1,
            &line[..line.len().min(400)]
        );
        docs.push(serde_json::from_str(line).expect("checked above"));
    }
    docs
}
