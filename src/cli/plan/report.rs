//! The plan as one structure (`--json` prints it as is) and as a readable report.

use std::fmt::Write as _;

use serde::Serialize;

use super::cost::{self, Cost, CycleFigures};
use super::count::{self, Counts, Growth, PlannedMetric, Projection};
use super::observe::{Observed, SourceInfo};
use super::prices::{self, Prices};
use crate::settings::{OutputKind, Settings};

/// Bumped when a field changes meaning or goes away (new fields do not bump it).
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The settings the plan reflects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PlanSettings {
    pub(crate) namespace: String,
    pub(crate) output: &'static str,
    pub(crate) interval_ms: u64,
    pub(crate) storage_resolution: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Plan {
    pub(crate) format_version: u32,
    pub(crate) source: SourceInfo,
    pub(crate) settings: PlanSettings,
    /// Every metric one task publishes to at steady state (the second poll).
    pub(crate) metrics: Vec<PlannedMetric>,
    /// Published in the first cycle only (`ImagePullTime`): not counted.
    pub(crate) start_only_metrics: Vec<PlannedMetric>,
    pub(crate) counts: Counts,
    pub(crate) projection: Projection,
    /// The growth with tasks, in one sentence.
    pub(crate) growth: String,
    /// One task's planned cycle on the wire.
    pub(crate) cycle: CycleFigures,
    pub(crate) cost: Cost,
    pub(crate) prices: Prices,
    /// Assumptions and what is left out.
    pub(crate) notes: Vec<String>,
}

fn output_name(kind: OutputKind) -> &'static str {
    match kind {
        OutputKind::Stdout => "stdout",
        OutputKind::Agent => "agent",
        OutputKind::Cloudwatch => "cloudwatch",
    }
}

impl Plan {
    pub(crate) fn build(
        observed: &Observed,
        settings: &Settings,
        tasks: u64,
        prices: Prices,
    ) -> Plan {
        let metrics = count::metrics(&observed.steady, settings);
        let start_only = count::start_only(&count::metrics(&observed.first, settings), &metrics);
        let counts = count::counts(&metrics);
        let projection = count::project(&counts, tasks);
        let cycle = cost::measure(&observed.steady, settings);
        let cost = cost::estimate(&cycle, &projection, settings, &prices);
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            source: observed.source.clone(),
            settings: PlanSettings {
                namespace: settings.namespace.clone(),
                output: output_name(settings.output),
                interval_ms: settings.interval.as_millis() as u64,
                storage_resolution: if settings.high_resolution { 1 } else { 60 },
            },
            growth: String::new(),
            metrics,
            start_only_metrics: start_only,
            counts,
            projection,
            cycle,
            cost,
            prices,
            notes: Vec::new(),
        };
        plan.growth = growth_sentence(&plan);
        plan.notes = notes(&plan);
        plan
    }
}

/// The dimension names behind growth of `kind`, each once.
fn varying(plan: &Plan, kind: Growth) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for m in plan.metrics.iter().filter(|m| m.growth == kind) {
        for d in &m.varying_dimensions {
            if !names.contains(&d.as_str()) {
                names.push(d);
            }
        }
    }
    names
}

fn growth_sentence(plan: &Plan) -> String {
    let c = &plan.counts;
    let n = plan.projection.tasks;
    let mut s = if c.per_task == 0 {
        format!(
            "Does not grow with tasks: no dimension set names TaskId, so every task of the service \
             publishes to the same {} shared metrics",
            c.shared
        )
    } else {
        format!(
            "Grows with tasks: {} metrics name TaskId (one set per task) and {} are shared; \
             {n} tasks make {} + {n} × {} metrics",
            c.per_task, c.shared, c.shared, c.per_task
        )
    };
    if c.per_value > 0 {
        let _ = write!(
            s,
            ". {} metrics name {} (per task if the value differs between tasks): counted once in \
             the estimate, {} in all if every task's value differs",
            c.per_value,
            varying(plan, Growth::PerValue).join(", "),
            plan.projection.metrics_if_values_differ
        );
    }
    s.push('.');
    s
}

fn notes(plan: &Plan) -> Vec<String> {
    let p = &plan.prices;
    let mut notes = vec![
        format!(
            "A month is {} hours (AWS's convention): {} cycles at the {} s interval, per task.",
            prices::HOURS_PER_MONTH,
            grouped(plan.cost.cycles_per_month),
            secs(plan.settings.interval_ms)
        ),
        "Custom metrics are prorated by the hour: a metric costs only for the hours it receives data. \
         A TaskId metric stops receiving data when its task stops, so tasks that come and go cost about \
         (average tasks running) × the per-task metrics: pass that average as --tasks."
            .to_string(),
        "The free tier (10 metrics, 1 million API requests, 5 GB of log data per month) applies per \
         account, not per service, and is not subtracted."
            .to_string(),
        format!(
            "Prices: {} {}, as documented on {}; other regions differ (override with --price-metric-tiers, \
             --price-requests-per-1000, --price-log-ingest-per-gb, --price-log-storage-per-gb-month).",
            p.region, p.source, p.as_of
        ),
    ];
    if plan.cost.output == "cloudwatch" {
        notes.push(format!(
            "The cloudwatch output writes no EMF, so no log ingestion is charged; requests are the cycle's \
             {} datums batched as the output does (at most 1,000 datums, about 900 KB per request).",
            plan.cycle.datums
        ));
    } else {
        notes.push(format!(
            "EMF bytes are the encoder's output for the planned cycle, newline excluded (the log driver \
             strips it), at 1 GB = 10^9 bytes; PutLogEvents also counts 26 bytes per event ({} events \
             per cycle) toward its limits, not billed here. The EMF outputs make no PutMetricData \
             requests. Log storage is shown for one month of retention, uncompressed (an upper bound: \
             CloudWatch bills archived data compressed), and not added to the total.",
            plan.cycle.emf_documents
        ));
    }
    notes.push(format!(
        "Values were read {} ms apart; at a longer interval counters and rates can carry a few more digits, \
         so EMF bytes can differ by a few bytes per value.",
        plan.source.poll_gap_ms
    ));
    notes
        .push("The exporter's own log lines on stderr (a few a day) are not included.".to_string());
    if !plan.start_only_metrics.is_empty() {
        let mut names: Vec<&str> = Vec::new();
        for m in &plan.start_only_metrics {
            if !names.contains(&m.name) {
                names.push(m.name);
            }
        }
        notes.push(format!(
            "Published only in a task's first cycle, not counted: {} ({} metric(s) with their \
             dimension sets; each costs only for the hours in which a task starts).",
            names.join(", "),
            plan.start_only_metrics.len()
        ));
    }
    if plan.metrics.iter().any(|m| {
        m.dimensions
            .iter()
            .any(|(k, _)| k == "TaskDefinitionRevision")
    }) {
        notes.push(
            "TaskDefinitionRevision is a dimension: each deployment starts new metrics and the old \
             revision's stop receiving data (and, prorated by the hour, stop costing)."
                .to_string(),
        );
    }
    if plan.settings.storage_resolution == 1 {
        notes.push(
            "High-resolution metrics cost the same per metric; alarms with periods under 60 s cost more \
             (not included)."
                .to_string(),
        );
    }
    if plan.cycle.emf_rejected_values > 0 {
        notes.push(format!(
            "{} values do not fit the EMF line limit and would not be published (see the exporter's log).",
            plan.cycle.emf_rejected_values
        ));
    }
    notes
}

/// `1234567.8` → `1,234,568`.
fn grouped(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn secs(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    format!("{s}")
}

/// A unit price: at least two decimals (`0.5` → `$0.50`), more when it has them.
fn price(x: f64) -> String {
    let cents = format!("{x:.2}");
    if cents.parse::<f64>().is_ok_and(|c| c == x) {
        format!("${cents}")
    } else {
        format!("${x}")
    }
}

/// Dollars: cents, or four decimals below a cent.
fn usd(x: f64) -> String {
    if x != 0.0 && x.abs() < 0.01 {
        format!("${x:.4}")
    } else {
        let cents = (x.max(0.0) * 100.0).round() as u64;
        format!("${}.{:02}", grouped((cents / 100) as f64), cents % 100)
    }
}

fn render_metrics(out: &mut String, plan: &Plan) {
    for level in ["Task", "Container", "Exporter"] {
        let of_level: Vec<&PlannedMetric> =
            plan.metrics.iter().filter(|m| m.level == level).collect();
        if of_level.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{level} metrics: {}", of_level.len());
        // One group per dimension set with its values, in the documents' order.
        let mut groups: Vec<Vec<&PlannedMetric>> = Vec::new();
        for m in of_level {
            match groups.iter_mut().find(|g| g[0].dimensions == m.dimensions) {
                Some(group) => group.push(m),
                None => groups.push(vec![m]),
            }
        }
        for ms in groups {
            let head = ms[0];
            let dims: Vec<String> = head
                .dimensions
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let growth = match head.growth {
                Growth::Shared => "shared by every task".to_string(),
                Growth::PerTask => "one per task".to_string(),
                Growth::PerValue => format!(
                    "per task if {} differs between tasks",
                    head.varying_dimensions.join(", ")
                ),
            };
            let _ = writeln!(out, "  [{}]  {growth}", dims.join(", "));
            for m in ms {
                let _ = writeln!(
                    out,
                    "    {:<30} {:<14} {} s",
                    m.name, m.unit, m.storage_resolution
                );
            }
        }
    }
}

fn render_counts(out: &mut String, plan: &Plan) {
    let c = &plan.counts;
    let p = &plan.projection;
    let _ = writeln!(out, "\nCounts");
    let _ = writeln!(
        out,
        "  one task creates               {:>7}   (task {}, container {}, exporter {})",
        c.one_task, c.task, c.container, c.exporter
    );
    let _ = writeln!(out, "  shared by every task           {:>7}", c.shared);
    let _ = writeln!(out, "  one per task (TaskId)          {:>7}", c.per_task);
    let _ = writeln!(out, "  one per tag / zone value       {:>7}", c.per_value);
    let _ = writeln!(out, "  with --tasks {:<17} {:>7}", p.tasks, p.metrics);
    if p.metrics_if_values_differ != p.metrics {
        let _ = writeln!(
            out,
            "  … if every task's value differs {:>6}",
            p.metrics_if_values_differ
        );
    }
    let _ = writeln!(out, "  {}", plan.growth);
}

fn render_cost(out: &mut String, plan: &Plan) {
    let f = &plan.cycle;
    let cost = &plan.cost;
    let _ = writeln!(out, "\nOne cycle of one task");
    let _ = writeln!(
        out,
        "  {} values → {} PutMetricData datums → {} request(s)",
        f.values, f.datums, f.put_metric_data_requests
    );
    let written = if cost.output == "cloudwatch" {
        " (for comparison: the cloudwatch output writes no EMF)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  {} EMF documents ({}), {} bytes, newline excluded{written}",
        f.emf_documents,
        f.emf_output,
        grouped(f.emf_bytes as f64)
    );
    let _ = writeln!(
        out,
        "\nMonthly cost estimate, USD ({} task(s), output {}, {} s interval → {} cycles per task in {} hours)",
        cost.tasks,
        cost.output,
        secs(cost.interval_ms),
        grouped(cost.cycles_per_month),
        cost.hours_per_month
    );
    for item in &cost.items {
        let how = match (&item.tiers, item.unit) {
            (Some(tiers), _) => tiers
                .iter()
                .map(|t| {
                    format!(
                        "{} × {}",
                        grouped(t.metrics as f64),
                        price(t.usd_per_metric_month)
                    )
                })
                .collect::<Vec<_>>()
                .join(" + "),
            (None, "requests") => format!(
                "{} requests × {} per 1,000",
                grouped(item.quantity),
                price(item.unit_price_usd.unwrap_or_default())
            ),
            (None, unit) => format!(
                "{:.4} {unit} × {}",
                item.quantity,
                price(item.unit_price_usd.unwrap_or_default())
            ),
        };
        let label = item.item.replace('_', " ");
        let tail = if item.in_total {
            ""
        } else {
            "  (not in total)"
        };
        let _ = writeln!(out, "  {label:<26} {how:<46} {:>10}{tail}", usd(item.usd));
    }
    let _ = writeln!(out, "  {:<73} {:>10}", "total", usd(cost.total_usd));
    if plan.projection.metrics_if_values_differ != plan.projection.metrics {
        let _ = writeln!(
            out,
            "  {:<73} {:>10}",
            "total if every task's tag / zone value differs",
            usd(cost.total_usd_if_values_differ)
        );
    }
}

fn render_prices(out: &mut String, plan: &Plan) {
    let p = &plan.prices;
    let tiers: Vec<String> = p
        .metric_tiers
        .iter()
        .map(|t| match t.metrics {
            Some(n) => format!("{} × {}", price(t.usd_per_metric_month), grouped(n as f64)),
            None => format!("{} beyond", price(t.usd_per_metric_month)),
        })
        .collect();
    let _ = writeln!(
        out,
        "\nPrices ({}, {}, as documented on {})",
        p.region, p.source, p.as_of
    );
    let _ = writeln!(
        out,
        "  custom metrics per metric-month: {}",
        tiers.join(", ")
    );
    let _ = writeln!(
        out,
        "  PutMetricData {} per 1,000 requests; Logs ingestion {} per GB; storage {} per GB-month",
        price(p.requests_per_1000_usd),
        price(p.log_ingest_per_gb_usd),
        price(p.log_storage_per_gb_month_usd)
    );
    if !p.overridden.is_empty() {
        let _ = writeln!(out, "  overridden: {}", p.overridden.join(", "));
    }
}

/// The readable report.
pub(crate) fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let s = &plan.settings;
    let _ = writeln!(out, "ecs-emf-exporter plan for {}", plan.source.description);
    let _ = writeln!(
        out,
        "namespace {}, output {}, interval {} s, storage resolution {} s",
        s.namespace,
        s.output,
        secs(s.interval_ms),
        s.storage_resolution
    );
    let _ = writeln!(
        out,
        "read by the exporter's own pipeline step: {} polls {} ms apart, planned from the last (rates need two samples)",
        plan.source.polls, plan.source.poll_gap_ms
    );
    render_metrics(&mut out, plan);
    render_counts(&mut out, plan);
    render_cost(&mut out, plan);
    render_prices(&mut out, plan);
    let _ = writeln!(out, "\nNotes");
    for n in &plan.notes {
        let _ = writeln!(out, "  - {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(grouped(43_800.0), "43,800");
        assert_eq!(grouped(1_752_000.4), "1,752,000");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(usd(9.3), "$9.30");
        assert_eq!(usd(3_213.14), "$3,213.14");
        assert_eq!(usd(0.00657), "$0.0066");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(9.999), "$10.00");
        assert_eq!(secs(60_000), "60");
        assert_eq!(price(0.5), "$0.50");
        assert_eq!(price(0.0125), "$0.0125");
        assert_eq!(secs(1_500), "1.5");
    }
}
