// params.rs — the workload table (names, parameters, defaults, ranges, the power-of-10 rule) and the
// checking of --param values against it. It mirrors the C++ harness's table and runtimes/go/params.go:
// same names, defaults, ranges and messages, so a case means the same work on every runtime.

use std::collections::BTreeMap;

/// One workload parameter: its default and inclusive range; `power_of_10` adds the rule that the value
/// must be 1, 10, 100, ...
pub struct ParamSpec {
    pub name: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
    pub power_of_10: bool,
}

/// One workload: its parameters in their canonical order (the order of the case name) and how many tasks
/// it keeps alive at once, where that is known up front (the memory guard refuses what cannot fit).
pub struct WorkloadSpec {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    pub alive_at_once: Option<fn(&Params) -> i64>,
}

/// Parameter name -> effective value; always holds every parameter of its workload.
pub type Params = BTreeMap<String, i64>;

const fn p(name: &'static str, default: i64, min: i64, max: i64) -> ParamSpec {
    ParamSpec { name, default, min, max, power_of_10: false }
}

fn tasks(p: &Params) -> i64 {
    p["tasks"]
}

fn two_per_pair(p: &Params) -> i64 {
    2 * p["pairs"]
}

/// The table, in the order `list` prints it.
pub static WORKLOADS: &[WorkloadSpec] = &[
    WorkloadSpec { name: "spawn-million", params: &[p("tasks", 1_000_000, 1, 100_000_000)], alive_at_once: None },
    WorkloadSpec {
        name: "ping-pong",
        params: &[p("pairs", 1, 1, 100_000), p("round-trips", 100_000, 1, 1_000_000_000)],
        alive_at_once: Some(two_per_pair),
    },
    WorkloadSpec {
        name: "context-switch-storm",
        params: &[p("tasks", 1_000, 1, 10_000_000), p("yields", 1_000, 1, 1_000_000_000)],
        alive_at_once: Some(tasks),
    },
    WorkloadSpec {
        name: "skynet",
        params: &[ParamSpec { name: "leaves", default: 1_000_000, min: 1, max: 100_000_000, power_of_10: true }],
        alive_at_once: None,
    },
    WorkloadSpec { name: "memory-per-task", params: &[p("tasks", 100_000, 1, 10_000_000)], alive_at_once: Some(tasks) },
];

pub fn workload_names() -> String {
    WORKLOADS.iter().map(|w| w.name).collect::<Vec<_>>().join(", ")
}

pub fn find_workload(name: &str) -> Result<&'static WorkloadSpec, String> {
    WORKLOADS
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| format!("unknown workload {name:?} (valid: {})", workload_names()))
}

impl WorkloadSpec {
    fn param_names(&self) -> String {
        self.params.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
    }

    /// The `k=v` strings of --param resolved into the full parameter set: every parameter not given takes
    /// its default. Unknown or repeated names, non-integers, out-of-range values and non-powers of 10
    /// (where required) are errors naming the value and the valid choices.
    pub fn resolve_params(&self, assignments: &[String]) -> Result<Params, String> {
        let mut given = Params::new();
        for a in assignments {
            let (key, value) = match a.split_once('=') {
                Some((k, v)) if !k.is_empty() => (k, v),
                _ => {
                    return Err(format!(
                        "malformed --param {a:?} (expected name=value, names for {}: {})",
                        self.name,
                        self.param_names()
                    ))
                }
            };
            let spec = self.params.iter().find(|p| p.name == key).ok_or_else(|| {
                format!("unknown param {key:?} for {} (valid: {})", self.name, self.param_names())
            })?;
            if given.contains_key(key) {
                return Err(format!("param {key:?} given twice (give each of {} at most once)", self.param_names()));
            }
            given.insert(key.to_string(), spec.parse(value)?);
        }
        Ok(self.params.iter().map(|s| (s.name.to_string(), *given.get(s.name).unwrap_or(&s.default))).collect())
    }

    /// The case's stable key, e.g. skynet/tokio/leaves:1000000/workers:2: parameters in table order.
    pub fn case_name(&self, runtime: &str, p: &Params, workers: usize) -> String {
        let mut s = format!("{}/{runtime}", self.name);
        for spec in self.params {
            s += &format!("/{}:{}", spec.name, p[spec.name]);
        }
        s + &format!("/workers:{workers}")
    }
}

impl ParamSpec {
    /// Checks one value: a decimal integer inside [min, max], a power of 10 if required.
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        let v: i64 = text
            .parse()
            .map_err(|_| format!("param {}={text:?} is not an integer (valid: {}..{})", self.name, self.min, self.max))?;
        if v < self.min || v > self.max {
            return Err(format!("param {}={v} out of range (valid: {}..{})", self.name, self.min, self.max));
        }
        if self.power_of_10 && !is_power_of_10(v) {
            return Err(format!("param {}={v} is not a power of 10 (valid: 1, 10, 100, ..., {})", self.name, self.max));
        }
        Ok(v)
    }
}

pub fn is_power_of_10(mut v: i64) -> bool {
    if v < 1 {
        return false;
    }
    while v % 10 == 0 {
        v /= 10;
    }
    v == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let w = find_workload("ping-pong").unwrap();
        let p = w.resolve_params(&["pairs=3".into()]).unwrap();
        assert_eq!(p["pairs"], 3);
        assert_eq!(p["round-trips"], 100_000);
        assert_eq!(w.case_name("tokio", &p, 2), "ping-pong/tokio/pairs:3/round-trips:100000/workers:2");
    }

    #[test]
    fn bad_values_name_themselves() {
        let w = find_workload("skynet").unwrap();
        assert!(w.resolve_params(&["leaves=12".into()]).unwrap_err().contains("leaves=12 is not a power of 10"));
        assert!(w.resolve_params(&["leaves=x".into()]).unwrap_err().contains("\"x\" is not an integer"));
        assert!(w.resolve_params(&["leaves=0".into()]).unwrap_err().contains("out of range"));
        assert!(w.resolve_params(&["size=1".into()]).unwrap_err().contains("unknown param \"size\""));
        assert!(w.resolve_params(&["leaves=1".into(), "leaves=1".into()]).unwrap_err().contains("twice"));
        assert!(find_workload("echo2").err().unwrap().contains("valid: spawn-million"));
    }

    #[test]
    fn powers_of_ten() {
        assert!(is_power_of_10(1) && is_power_of_10(1000) && !is_power_of_10(0) && !is_power_of_10(20));
    }
}
