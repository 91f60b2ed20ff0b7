//! The prices `plan` uses: documented constants (source and date below), each overridable
//! by a flag, and the tiered price of custom metrics.
//!
//! Source: Amazon CloudWatch pricing, <https://aws.amazon.com/cloudwatch/pricing/>, region
//! US East (N. Virginia), "Paid tier", as documented on 2026-11-30. Other regions differ:
//! pass their prices with the `--price-…` flags.

use serde::Serialize;

/// Where the default prices come from.
pub(crate) const SOURCE: &str = "https://aws.amazon.com/cloudwatch/pricing/";
/// The region the default prices are for.
pub(crate) const REGION: &str = "us-east-1";
/// The day the default prices were read from `SOURCE`.
pub(crate) const AS_OF: &str = "2026-11-30";

/// Custom metrics, USD per metric-month, by tier: first 10,000 metrics $0.30, next 240,000
/// $0.10, next 750,000 $0.05, over 1,000,000 $0.02. Prorated by the hour: a metric costs
/// for the hours in which it receives data.
pub(crate) const METRIC_TIERS: [Tier; 4] = [
    Tier {
        metrics: Some(10_000),
        usd_per_metric_month: 0.30,
    },
    Tier {
        metrics: Some(240_000),
        usd_per_metric_month: 0.10,
    },
    Tier {
        metrics: Some(750_000),
        usd_per_metric_month: 0.05,
    },
    Tier {
        metrics: None,
        usd_per_metric_month: 0.02,
    },
];
/// API requests (PutMetricData among them), USD per 1,000 requests.
pub(crate) const REQUESTS_PER_1000_USD: f64 = 0.01;
/// CloudWatch Logs, standard log class, data ingested, USD per GB.
pub(crate) const LOG_INGEST_PER_GB_USD: f64 = 0.50;
/// CloudWatch Logs storage (archival), USD per GB-month.
pub(crate) const LOG_STORAGE_PER_GB_MONTH_USD: f64 = 0.03;

/// AWS's convention for a month in prorated prices: 730 hours.
pub(crate) const HOURS_PER_MONTH: f64 = 730.0;
/// AWS bills data in GB; `plan` takes a GB as 10^9 bytes (2^30 would give 7 % less).
pub(crate) const BYTES_PER_GB: f64 = 1e9;

/// One price tier of custom metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Tier {
    /// Metrics in this tier; `None` for the last tier, which takes every metric left.
    pub(crate) metrics: Option<u64>,
    pub(crate) usd_per_metric_month: f64,
}

/// A list of tiers as a flag gives it (a newtype: clap reads `Option<Vec<_>>` as a
/// repeated flag).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tiers(pub Vec<Tier>);

/// The prices in use, with where they came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Prices {
    pub(crate) metric_tiers: Vec<Tier>,
    pub(crate) requests_per_1000_usd: f64,
    pub(crate) log_ingest_per_gb_usd: f64,
    pub(crate) log_storage_per_gb_month_usd: f64,
    pub(crate) source: &'static str,
    pub(crate) region: &'static str,
    pub(crate) as_of: &'static str,
    /// The flags that replaced a documented price (empty: all as documented).
    pub(crate) overridden: Vec<&'static str>,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            metric_tiers: METRIC_TIERS.to_vec(),
            requests_per_1000_usd: REQUESTS_PER_1000_USD,
            log_ingest_per_gb_usd: LOG_INGEST_PER_GB_USD,
            log_storage_per_gb_month_usd: LOG_STORAGE_PER_GB_MONTH_USD,
            source: SOURCE,
            region: REGION,
            as_of: AS_OF,
            overridden: Vec::new(),
        }
    }
}

/// The `--price-…` flags, already parsed (clap calls the parsers below).
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct PriceArgs {
    /// Custom metric tiers, USD per metric-month: `SIZE=PRICE,…,rest=PRICE` (metrics in each
    /// tier, in order; the last tier is `rest`). Default: 10000=0.30,240000=0.10,750000=0.05,rest=0.02
    #[arg(long = "price-metric-tiers", value_name = "TIERS", value_parser = parse_tiers)]
    pub(crate) metric_tiers: Option<Tiers>,
    /// USD per 1,000 PutMetricData requests. Default: 0.01
    #[arg(long = "price-requests-per-1000", value_name = "USD", value_parser = parse_usd, allow_hyphen_values = true)]
    pub(crate) requests_per_1000: Option<f64>,
    /// USD per GB of CloudWatch Logs ingestion (EMF outputs). Default: 0.50
    #[arg(long = "price-log-ingest-per-gb", value_name = "USD", value_parser = parse_usd, allow_hyphen_values = true)]
    pub(crate) log_ingest_per_gb: Option<f64>,
    /// USD per GB-month of CloudWatch Logs storage (shown, not added). Default: 0.03
    #[arg(long = "price-log-storage-per-gb-month", value_name = "USD", value_parser = parse_usd, allow_hyphen_values = true)]
    pub(crate) log_storage_per_gb_month: Option<f64>,
}

impl Prices {
    /// The documented prices with the flags' overrides.
    pub(crate) fn with_overrides(args: &PriceArgs) -> Prices {
        let mut p = Prices::default();
        if let Some(Tiers(tiers)) = &args.metric_tiers {
            p.metric_tiers = tiers.clone();
            p.overridden.push("--price-metric-tiers");
        }
        let mut set = |value: Option<f64>, field: &mut f64, flag: &'static str| {
            if let Some(v) = value {
                *field = v;
                p.overridden.push(flag);
            }
        };
        set(
            args.requests_per_1000,
            &mut p.requests_per_1000_usd,
            "--price-requests-per-1000",
        );
        set(
            args.log_ingest_per_gb,
            &mut p.log_ingest_per_gb_usd,
            "--price-log-ingest-per-gb",
        );
        set(
            args.log_storage_per_gb_month,
            &mut p.log_storage_per_gb_month_usd,
            "--price-log-storage-per-gb-month",
        );
        p
    }
}

/// A price in USD: a finite number, 0 or more.
pub(crate) fn parse_usd(text: &str) -> Result<f64, String> {
    text.trim()
        .trim_start_matches('$')
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("expected a price in USD, 0 or more (e.g. 0.50), got {text:?}"))
}

/// `10000=0.30,240000=0.10,750000=0.05,rest=0.02`: each tier's size in metrics (not a
/// running total) and its USD per metric-month; the last tier must be `rest`, and only it.
pub(crate) fn parse_tiers(text: &str) -> Result<Tiers, String> {
    const FORM: &str =
        "expected SIZE=PRICE,…,rest=PRICE, e.g. 10000=0.30,240000=0.10,750000=0.05,rest=0.02";
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut tiers = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let Some((size, price)) = part.split_once('=') else {
            return Err(format!("{FORM}; {part:?} has no '='"));
        };
        let usd_per_metric_month = parse_usd(price).map_err(|e| format!("{FORM}; {e}"))?;
        let metrics =
            match (size.trim(), last) {
                ("rest", true) => None,
                ("rest", false) => return Err(format!("{FORM}; only the last tier may be 'rest'")),
                (_, true) => return Err(format!("{FORM}; the last tier must be rest=PRICE")),
                (n, false) => Some(n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("{FORM}; tier size {n:?} is not a whole number above 0")
                })?),
            };
        tiers.push(Tier {
            metrics,
            usd_per_metric_month,
        });
    }
    Ok(Tiers(tiers))
}

/// How many metrics fell into one tier and what they cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TierUse {
    pub(crate) metrics: u64,
    pub(crate) usd_per_metric_month: f64,
    #[serde(serialize_with = "micro_usd")]
    pub(crate) usd: f64,
}

/// USD in JSON to a millionth of a dollar: sums of binary fractions such as 31 × 0.30 would
/// otherwise print as 9.299999999999999.
pub(crate) fn micro_usd<S: serde::Serializer>(usd: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((usd * 1e6).round() / 1e6)
}

/// The monthly price of `count` metrics (each receiving data all month) over `tiers`,
/// with the tiers it used. Metrics beyond a list without a `rest` tier cost nothing (the
/// parser never builds such a list).
pub(crate) fn metric_cost(count: u64, tiers: &[Tier]) -> (f64, Vec<TierUse>) {
    let mut left = count;
    let mut used = Vec::new();
    for tier in tiers {
        if left == 0 {
            break;
        }
        let n = tier.metrics.map_or(left, |size| size.min(left));
        let usd = n as f64 * tier.usd_per_metric_month;
        used.push(TierUse {
            metrics: n,
            usd_per_metric_month: tier.usd_per_metric_month,
            usd,
        });
        left -= n;
    }
    (used.iter().map(|u| u.usd).sum(), used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn documented_tiers_price_by_hand_worked_numbers() {
        // 31 metrics, all in the first tier: 31 × 0.30.
        assert!(close(metric_cost(31, &METRIC_TIERS).0, 9.30));
        // 10,000 × 0.30 + 2,000 × 0.10 = 3,000 + 200.
        let (usd, used) = metric_cost(12_000, &METRIC_TIERS);
        assert!(close(usd, 3_200.0), "{usd}");
        assert_eq!(
            used.iter().map(|u| u.metrics).collect::<Vec<_>>(),
            [10_000, 2_000]
        );
        // 10,000 × 0.30 + 240,000 × 0.10 + 750,000 × 0.05 + 500,000 × 0.02
        // = 3,000 + 24,000 + 37,500 + 10,000.
        assert!(close(metric_cost(1_500_000, &METRIC_TIERS).0, 74_500.0));
        // Exactly at a boundary: nothing spills into the next tier.
        let (usd, used) = metric_cost(10_000, &METRIC_TIERS);
        assert!(close(usd, 3_000.0));
        assert_eq!(used.len(), 1);
        assert_eq!(metric_cost(0, &METRIC_TIERS), (0.0, Vec::new()));
    }

    #[test]
    fn tier_overrides_parse_and_price() {
        let Tiers(tiers) = parse_tiers("100=1, 50=0.5, rest=$0.1").expect("valid");
        assert_eq!(
            tiers,
            vec![
                Tier {
                    metrics: Some(100),
                    usd_per_metric_month: 1.0
                },
                Tier {
                    metrics: Some(50),
                    usd_per_metric_month: 0.5
                },
                Tier {
                    metrics: None,
                    usd_per_metric_month: 0.1
                },
            ]
        );
        // 100 × 1 + 50 × 0.5 + 50 × 0.1 = 100 + 25 + 5.
        assert!(close(metric_cost(200, &tiers).0, 130.0));
        // A flat price.
        let Tiers(flat) = parse_tiers("rest=0.25").expect("valid");
        assert!(close(metric_cost(40, &flat).0, 10.0));
        // The documented default, written as a flag, is the same list.
        assert_eq!(
            parse_tiers("10000=0.30,240000=0.10,750000=0.05,rest=0.02"),
            Ok(Tiers(METRIC_TIERS.to_vec()))
        );
    }

    #[test]
    fn bad_price_flags_say_what_is_expected() {
        for bad in [
            "",
            "10000=0.30",
            "rest=0.1,10=0.2",
            "0=1,rest=1",
            "ten=1,rest=1",
            "10=-1,rest=1",
            "10=x,rest=1",
            "10:0.3,rest=1",
        ] {
            let e = parse_tiers(bad).expect_err(bad);
            assert!(e.contains("expected SIZE=PRICE"), "{bad}: {e}");
        }
        for bad in ["-0.01", "NaN", "inf", "", "abc"] {
            assert!(parse_usd(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_usd("$0.5"), Ok(0.5));
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let p = Prices::with_overrides(&PriceArgs {
            log_ingest_per_gb: Some(0.76),
            ..PriceArgs::default()
        });
        assert_eq!(p.log_ingest_per_gb_usd, 0.76);
        assert_eq!(p.requests_per_1000_usd, REQUESTS_PER_1000_USD);
        assert_eq!(p.metric_tiers, METRIC_TIERS.to_vec());
        assert_eq!(p.overridden, vec!["--price-log-ingest-per-gb"]);
        assert!(Prices::default().overridden.is_empty());
    }
}
