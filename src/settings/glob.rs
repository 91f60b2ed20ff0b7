//! Name patterns for the settings that select metrics and containers: plain names or `*`/`?`
//! globs. Small on purpose: these lists are matched a few dozen times per cycle.

/// A list of patterns; a name matches the list when it matches any pattern.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameFilter {
    patterns: Vec<String>,
}

impl NameFilter {
    pub fn new(patterns: Vec<String>) -> NameFilter {
        NameFilter { patterns }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| glob_match(p, name))
    }
}

pub(crate) fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// `*` matches any run of characters (also none), `?` exactly one; everything else itself.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Position after the last `*` seen, and where in the text it started matching.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi + 1, ti));
            pi += 1;
        } else if let Some((after_star, start)) = star {
            pi = after_star;
            ti = start + 1;
            star = Some((after_star, start + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_match("Container*", "ContainerCpuUtilized"));
        assert!(glob_match("*Bytes", "NetworkRxBytes"));
        assert!(glob_match("Network?xBytes", "NetworkTxBytes"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(!glob_match("Cpu", "CpuUtilized"));
        assert!(glob_match("CpuUtilized", "CpuUtilized"));
    }

    #[test]
    fn a_filter_matches_any_of_its_patterns() {
        let f = NameFilter::new(vec!["envoy".into(), "log-*".into()]);
        assert!(f.matches("envoy"));
        assert!(f.matches("log-router"));
        assert!(!f.matches("app"));
        assert!(NameFilter::default().is_empty());
    }
}
