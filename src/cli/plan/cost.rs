//! What one cycle weighs on the wire, measured with the outputs' own code, and the monthly
//! cost that follows: custom metrics for every output, plus PutMetricData requests for the
//! cloudwatch output or CloudWatch Logs ingestion for the EMF outputs (stdout, agent).

use serde::Serialize;

use super::count::Projection;
use super::prices::{self, Prices, TierUse};
use crate::emf::{self, EncoderConfig};
use crate::output::agent;
use crate::output::cloudwatch;
use crate::pipeline::cycle::Cycle;
use crate::settings::{OutputKind, Settings};

/// One task's cycle, as each kind of output would send it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CycleFigures {
    /// Values in the cycle (each published once per dimension set).
    pub(crate) values: usize,
    /// PutMetricData: one datum per value and dimension set.
    pub(crate) datums: usize,
    /// PutMetricData requests, as the cloudwatch output batches the cycle.
    pub(crate) put_metric_data_requests: usize,
    /// The EMF output the bytes were measured for: the configured one, or `stdout` when the
    /// output is `cloudwatch` (for comparison).
    pub(crate) emf_output: &'static str,
    /// EMF documents = CloudWatch Logs events.
    pub(crate) emf_documents: usize,
    /// EMF bytes, newline excluded (the log driver / agent strips it; ingestion is billed
    /// on the event's text).
    pub(crate) emf_bytes: usize,
    /// Values the encoder could not fit within the line limit (normally 0).
    pub(crate) emf_rejected_values: usize,
}

/// The encoder configuration of the EMF output `settings` use (stdout when it is
/// `cloudwatch`), built by the same functions `app::make_output` uses.
fn emf_encoder(settings: &Settings) -> (&'static str, EncoderConfig) {
    match settings.output {
        OutputKind::Agent => ("agent", agent::encoder_config(settings)),
        _ => ("stdout", settings.encoder()),
    }
}

pub(crate) fn measure(cycle: &Cycle, settings: &Settings) -> CycleFigures {
    let (emf_output, config) = emf_encoder(settings);
    let encoded = emf::encode(cycle, &config);
    CycleFigures {
        values: cycle.value_count(),
        datums: cloudwatch::datums(cycle, settings.high_resolution).len(),
        put_metric_data_requests: cloudwatch::requests_for_cycle(cycle, settings.high_resolution),
        emf_output,
        emf_documents: encoded.documents,
        emf_bytes: encoded.bytes.len() - encoded.documents,
        emf_rejected_values: encoded.rejected.iter().map(|r| r.values).sum(),
    }
}

/// Cycles in a 730-hour month at `interval_ms`.
pub(crate) fn cycles_per_month(interval_ms: u128) -> f64 {
    prices::HOURS_PER_MONTH * 3_600_000.0 / interval_ms.max(1) as f64
}

/// One line of the bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CostItem {
    /// `custom_metrics`, `put_metric_data_requests`, `log_ingestion` or `log_storage`.
    pub(crate) item: &'static str,
    pub(crate) quantity: f64,
    /// What `quantity` counts: `metric-months`, `requests`, `GB`, `GB-months`.
    pub(crate) unit: &'static str,
    /// USD per `unit` (per 1,000 requests for requests); for metrics, the tiers used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) unit_price_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tiers: Option<Vec<TierUse>>,
    #[serde(serialize_with = "prices::micro_usd")]
    pub(crate) usd: f64,
    /// False for figures shown for information only (storage depends on retention).
    pub(crate) in_total: bool,
}

/// The monthly estimate for the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Cost {
    pub(crate) currency: &'static str,
    pub(crate) hours_per_month: f64,
    pub(crate) bytes_per_gb: f64,
    pub(crate) interval_ms: u64,
    pub(crate) cycles_per_month: f64,
    pub(crate) tasks: u64,
    pub(crate) output: &'static str,
    pub(crate) items: Vec<CostItem>,
    #[serde(serialize_with = "prices::micro_usd")]
    pub(crate) total_usd: f64,
    /// Custom metrics and total when every task's tag / zone values differ (equal to the
    /// above when no dimension can differ between tasks).
    #[serde(serialize_with = "prices::micro_usd")]
    pub(crate) metrics_usd_if_values_differ: f64,
    #[serde(serialize_with = "prices::micro_usd")]
    pub(crate) total_usd_if_values_differ: f64,
}

fn metric_item(metrics: u64, p: &Prices) -> CostItem {
    let (usd, tiers) = prices::metric_cost(metrics, &p.metric_tiers);
    CostItem {
        item: "custom_metrics",
        quantity: metrics as f64,
        unit: "metric-months",
        unit_price_usd: None,
        tiers: Some(tiers),
        usd,
        in_total: true,
    }
}

fn priced(
    item: &'static str,
    quantity: f64,
    unit: &'static str,
    price: f64,
    per: f64,
    in_total: bool,
) -> CostItem {
    CostItem {
        item,
        quantity,
        unit,
        unit_price_usd: Some(price),
        tiers: None,
        usd: quantity / per * price,
        in_total,
    }
}

pub(crate) fn estimate(
    figures: &CycleFigures,
    projection: &Projection,
    settings: &Settings,
    p: &Prices,
) -> Cost {
    let interval_ms = settings.interval.as_millis();
    let cycles = cycles_per_month(interval_ms);
    let task_cycles = cycles * projection.tasks as f64;
    let mut items = vec![metric_item(projection.metrics, p)];
    let output = match settings.output {
        OutputKind::Cloudwatch => {
            let requests = figures.put_metric_data_requests as f64 * task_cycles;
            items.push(priced(
                "put_metric_data_requests",
                requests,
                "requests",
                p.requests_per_1000_usd,
                1000.0,
                true,
            ));
            "cloudwatch"
        }
        OutputKind::Stdout | OutputKind::Agent => {
            let gb = figures.emf_bytes as f64 * task_cycles / prices::BYTES_PER_GB;
            items.push(priced(
                "log_ingestion",
                gb,
                "GB",
                p.log_ingest_per_gb_usd,
                1.0,
                true,
            ));
            // A month of data kept for a month, uncompressed: an upper bound (CloudWatch
            // bills archived data compressed).
            items.push(priced(
                "log_storage",
                gb,
                "GB-months",
                p.log_storage_per_gb_month_usd,
                1.0,
                false,
            ));
            if settings.output == OutputKind::Agent {
                "agent"
            } else {
                "stdout"
            }
        }
    };
    let total_usd: f64 = items.iter().filter(|i| i.in_total).map(|i| i.usd).sum();
    let metrics_usd = items[0].usd;
    let metrics_usd_if_values_differ =
        prices::metric_cost(projection.metrics_if_values_differ, &p.metric_tiers).0;
    Cost {
        currency: "USD",
        hours_per_month: prices::HOURS_PER_MONTH,
        bytes_per_gb: prices::BYTES_PER_GB,
        interval_ms: interval_ms as u64,
        cycles_per_month: cycles,
        tasks: projection.tasks,
        output,
        items,
        total_usd,
        metrics_usd_if_values_differ,
        total_usd_if_values_differ: total_usd - metrics_usd + metrics_usd_if_values_differ,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RawSettings;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    fn figures() -> CycleFigures {
        CycleFigures {
            values: 31,
            datums: 31,
            put_metric_data_requests: 1,
            emf_output: "stdout",
            emf_documents: 4,
            emf_bytes: 5_000,
            emf_rejected_values: 0,
        }
    }

    fn settings(output: &str, interval: &str) -> Settings {
        Settings::from_raw(&RawSettings {
            output: Some(output.into()),
            interval: Some(interval.into()),
            ..RawSettings::default()
        })
        .expect("valid")
    }

    fn projection(metrics: u64, tasks: u64) -> Projection {
        Projection {
            tasks,
            metrics,
            metrics_if_values_differ: metrics,
            grows_with_tasks: false,
        }
    }

    #[test]
    fn a_month_is_730_hours() {
        // 730 × 3600 / 60 = 43,800 cycles; at 90 s 29,200; at 1.5 s 1,752,000.
        assert!(close(cycles_per_month(60_000), 43_800.0));
        assert!(close(cycles_per_month(90_000), 29_200.0));
        assert!(close(cycles_per_month(1_500), 1_752_000.0));
    }

    #[test]
    fn stdout_pays_ingestion_by_the_measured_bytes_and_no_requests() {
        let c = estimate(
            &figures(),
            &projection(31, 2),
            &settings("stdout", "60s"),
            &Prices::default(),
        );
        let names: Vec<&str> = c.items.iter().map(|i| i.item).collect();
        assert_eq!(names, ["custom_metrics", "log_ingestion", "log_storage"]);
        // 31 × 0.30 = 9.30. Bytes: 5,000 × 43,800 cycles × 2 tasks = 438,000,000 = 0.438 GB,
        // × 0.50 = 0.219. Storage 0.438 × 0.03 = 0.01314, not in the total.
        assert!(close(c.items[0].usd, 9.30));
        assert!(close(c.items[1].quantity, 0.438));
        assert!(close(c.items[1].usd, 0.219));
        assert!(close(c.items[2].usd, 0.013_14));
        assert!(close(c.total_usd, 9.519));
        assert_eq!(c.output, "stdout");
    }

    #[test]
    fn cloudwatch_pays_requests_and_no_ingestion() {
        let mut f = figures();
        f.put_metric_data_requests = 3;
        let c = estimate(
            &f,
            &projection(12_000, 10),
            &settings("cloudwatch", "60s"),
            &Prices::default(),
        );
        let names: Vec<&str> = c.items.iter().map(|i| i.item).collect();
        assert_eq!(names, ["custom_metrics", "put_metric_data_requests"]);
        // 10,000 × 0.30 + 2,000 × 0.10 = 3,200. Requests: 3 × 43,800 × 10 = 1,314,000,
        // / 1000 × 0.01 = 13.14.
        assert!(close(c.items[0].usd, 3_200.0));
        assert!(close(c.items[1].quantity, 1_314_000.0));
        assert!(close(c.items[1].usd, 13.14));
        assert!(close(c.total_usd, 3_213.14));
    }

    #[test]
    fn overridden_prices_are_used() {
        let p = Prices::with_overrides(&prices::PriceArgs {
            metric_tiers: Some(prices::parse_tiers("rest=1").expect("valid")),
            log_ingest_per_gb: Some(1.0),
            ..prices::PriceArgs::default()
        });
        let c = estimate(
            &figures(),
            &projection(31, 1),
            &settings("agent", "30s"),
            &p,
        );
        // 31 × 1; 5,000 B × 87,600 cycles = 0.438 GB × 1.
        assert!(close(c.total_usd, 31.438));
        assert_eq!(c.output, "agent");
    }
}
