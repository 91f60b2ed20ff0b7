//! `blkio_stats`: cgroup v1's six capitalised ops per device, or cgroup v2's lowercase two.

use serde::Serialize;

use super::counter;

/// Bytes per second of one container; the counters start at 0.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rates {
    pub read: u64,
    pub write: u64,
    /// Counted by cgroup v1 only (in `Discard` and `Total`).
    pub discard: u64,
}

/// cgroup v1 fills every list (`[]` when empty); cgroup v2 only the first, the rest `null`.
#[derive(Debug, Serialize)]
pub(super) struct BlkioStats {
    io_service_bytes_recursive: Option<Vec<BlkioEntry>>,
    io_serviced_recursive: Option<Vec<BlkioEntry>>,
    io_queue_recursive: Option<Vec<BlkioEntry>>,
    io_service_time_recursive: Option<Vec<BlkioEntry>>,
    io_wait_time_recursive: Option<Vec<BlkioEntry>>,
    io_merged_recursive: Option<Vec<BlkioEntry>>,
    io_time_recursive: Option<Vec<BlkioEntry>>,
    sectors_recursive: Option<Vec<BlkioEntry>>,
}

#[derive(Debug, Serialize)]
struct BlkioEntry {
    major: u64,
    minor: u64,
    op: &'static str,
    value: u64,
}

pub(super) fn blkio_stats(rates: Rates, elapsed_ns: u64, v1: bool) -> BlkioStats {
    let read = counter(0, rates.read, elapsed_ns);
    let write = counter(0, rates.write, elapsed_ns);
    let discard = counter(0, rates.discard, elapsed_ns);
    // Split evenly over two NVMe devices; the halves add up to the exact total.
    let halves = |v: u64| [v / 2, v - v / 2];
    let (r, w, d) = (halves(read), halves(write), halves(discard));
    let devices = [(259, 0), (259, 1)];
    if v1 {
        let mut bytes = Vec::new();
        let mut ops = Vec::new();
        for (i, (major, minor)) in devices.into_iter().enumerate() {
            bytes.extend(v1_ops(major, minor, r[i], w[i], d[i]));
            ops.extend(v1_ops(major, minor, r[i] / 4096, w[i] / 4096, d[i] / 4096));
        }
        BlkioStats {
            io_service_bytes_recursive: Some(bytes),
            io_serviced_recursive: Some(ops),
            io_queue_recursive: Some(Vec::new()),
            io_service_time_recursive: Some(Vec::new()),
            io_wait_time_recursive: Some(Vec::new()),
            io_merged_recursive: Some(Vec::new()),
            io_time_recursive: Some(Vec::new()),
            sectors_recursive: Some(Vec::new()),
        }
    } else {
        let mut bytes = Vec::new();
        for (i, (major, minor)) in devices.into_iter().enumerate() {
            bytes.push(BlkioEntry {
                major,
                minor,
                op: "read",
                value: r[i],
            });
            bytes.push(BlkioEntry {
                major,
                minor,
                op: "write",
                value: w[i],
            });
        }
        BlkioStats {
            io_service_bytes_recursive: Some(bytes),
            io_serviced_recursive: None,
            io_queue_recursive: None,
            io_service_time_recursive: None,
            io_wait_time_recursive: None,
            io_merged_recursive: None,
            io_time_recursive: None,
            sectors_recursive: None,
        }
    }
}

/// The six cgroup v1 ops of one device. Total includes Discard and Sync is ¾ of Total, so
/// summing any op other than Read and Write gives a wrong answer.
fn v1_ops(major: u64, minor: u64, read: u64, write: u64, discard: u64) -> [BlkioEntry; 6] {
    let total = read + write + discard;
    let sync = total / 4 * 3;
    let entry = |op, value| BlkioEntry {
        major,
        minor,
        op,
        value,
    };
    [
        entry("Read", read),
        entry("Write", write),
        entry("Sync", sync),
        entry("Async", total - sync),
        entry("Discard", discard),
        entry("Total", total),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const RATES: Rates = Rates {
        read: 4096,
        write: 8192,
        discard: 1024,
    };

    fn bytes(v1: bool) -> Vec<Value> {
        let stats =
            serde_json::to_value(blkio_stats(RATES, 10_000_000_000, v1)).unwrap_or(json!(null));
        stats["io_service_bytes_recursive"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn sum(list: &[Value], op: &str) -> u64 {
        list.iter()
            .filter(|x| x["op"] == op)
            .filter_map(|x| x["value"].as_u64())
            .sum()
    }

    #[test]
    fn v1_has_six_ops_per_device_and_only_read_write_sum_right() {
        let list = bytes(true);
        assert_eq!(list.len(), 12);
        assert_eq!(sum(&list, "Read"), 4096 * 10);
        assert_eq!(sum(&list, "Write"), 8192 * 10);
        for other in ["Sync", "Async", "Total"] {
            assert_ne!(
                sum(&list, other),
                sum(&list, "Read") + sum(&list, "Write"),
                "{other}"
            );
        }
        assert_eq!(
            sum(&list, "Total"),
            sum(&list, "Sync") + sum(&list, "Async")
        );
        let stats = serde_json::to_value(blkio_stats(RATES, 1, true)).unwrap_or(json!(null));
        assert_eq!(stats["io_queue_recursive"], json!([]));
    }

    #[test]
    fn v2_is_lowercase_over_two_devices_with_null_lists() {
        let list = bytes(false);
        let ops: Vec<&str> = list.iter().filter_map(|x| x["op"].as_str()).collect();
        assert_eq!(ops, ["read", "write", "read", "write"]);
        let devices: Vec<u64> = list.iter().filter_map(|x| x["minor"].as_u64()).collect();
        assert_eq!(devices, [0, 0, 1, 1]);
        assert_eq!(sum(&list, "read"), 4096 * 10);
        let stats = serde_json::to_value(blkio_stats(RATES, 1, false)).unwrap_or(json!(null));
        assert_eq!(stats["io_serviced_recursive"], Value::Null);
    }
}
