// main.rs — the spindle-tokio command: parses a case, runs each repetition on a fresh tokio runtime with
// --workers worker threads, prints ONE Google-Benchmark-format JSON document of Spindle records
// (docs/external-runtimes.md, docs/results-format.md). Exit 0 ok (also for status "limit"), 1 a checksum
// failed, 2 bad input.

mod json;
mod params;
mod sync;
mod usage;
mod workloads;

use json::Object;
use params::{find_workload, workload_names, Params, WorkloadSpec, WORKLOADS};
use std::io::Write;
use std::time::{Duration, Instant};
use usage::{read_usage, refuse_if_too_big, UsageSnapshot};
use workloads::Outcome;

const SPINDLE_SCHEMA: i64 = 1;
const MAX_WORKERS: i64 = 4096;
const MAX_REPETITIONS: i64 = 10_000;
const RUNTIME_NAME: &str = "tokio";
const USAGE_LINE: &str =
    "usage: spindle-tokio --workload W [--param k=v]... [--workers N] [--repetitions N] | spindle-tokio list | spindle-tokio version";

/// The scheduler a case runs on: tokio's multi_thread runtime by default; SPINDLE_TOKIO_FLAVOR=current_thread
/// picks the single-threaded one (only with --workers 1), for the comparison in runtimes/rust/README.md.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Flavor {
    MultiThread,
    CurrentThread,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::MultiThread => "multi_thread",
            Flavor::CurrentThread => "current_thread",
        }
    }
}

/// One fully resolved command line.
struct CaseSpec {
    workload: &'static WorkloadSpec,
    params: Params,
    workers: usize,
    repetitions: usize,
    flavor: Flavor,
}

fn version() -> String {
    format!("tokio {} ({})", env!("SPINDLE_TOKIO_VERSION"), env!("SPINDLE_RUSTC_VERSION"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flavor = std::env::var("SPINDLE_TOKIO_FLAVOR").unwrap_or_default();
    let (code, out, err) = run(&args, &flavor);
    std::io::stdout().write_all(out.as_bytes()).ok();
    std::io::stderr().write_all(err.as_bytes()).ok();
    std::process::exit(code);
}

/// run: the whole command; returns the exit code, stdout and stderr.
fn run(args: &[String], flavor: &str) -> (i32, String, String) {
    if args.len() == 1 {
        match args[0].as_str() {
            "version" => return (0, version() + "\n", String::new()),
            "list" => return (0, list_json() + "\n", String::new()),
            "-h" | "--help" | "help" => return (0, format!("{USAGE_LINE}\n"), String::new()),
            _ => {}
        }
    }
    let spec = match parse_args(args, flavor) {
        Ok(s) => s,
        Err(e) => return (2, String::new(), format!("spindle-tokio: {e}\n")),
    };
    let records = run_case(&spec);
    let failed = records.iter().any(|r| r.status == "failed");
    let doc = document(&spec, &records);
    (if failed { 1 } else { 0 }, doc + "\n", String::new())
}

/// parse_args reads `--workload W [--param k=v]... [--workers N] [--repetitions N]`; each option also
/// accepts the `--option=value` form.
fn parse_args(args: &[String], flavor: &str) -> Result<CaseSpec, String> {
    let mut workload_name = None;
    let mut assignments = Vec::new();
    let mut workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut repetitions = 1;
    let mut seen = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < args.len() {
        let (option, inline) = match args[i].split_once('=') {
            Some((o, v)) => (o.to_string(), Some(v.to_string())),
            None => (args[i].clone(), None),
        };
        if !["--workload", "--param", "--workers", "--repetitions"].contains(&option.as_str()) {
            return Err(format!(
                "unknown argument {:?} (valid: --workload, --param, --workers, --repetitions, list, version)",
                args[i]
            ));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i).cloned().ok_or_else(|| format!("{option} needs a value ({USAGE_LINE})"))?
            }
        };
        if option != "--param" && !seen.insert(option.clone()) {
            return Err(format!("{option} given twice (give it at most once)"));
        }
        match option.as_str() {
            "--workload" => workload_name = Some(value),
            "--param" => assignments.push(value),
            "--workers" => workers = parse_count(&option, &value, MAX_WORKERS)?,
            _ => repetitions = parse_count(&option, &value, MAX_REPETITIONS)?,
        }
        i += 1;
    }
    let name = workload_name.ok_or_else(|| format!("--workload is required (valid: {})", workload_names()))?;
    let workload = find_workload(&name)?;
    let params = workload.resolve_params(&assignments)?;
    let flavor = match flavor {
        "" | "multi_thread" => Flavor::MultiThread,
        "current_thread" if workers == 1 => Flavor::CurrentThread,
        "current_thread" => return Err(format!("SPINDLE_TOKIO_FLAVOR=current_thread needs --workers 1, not {workers}")),
        other => return Err(format!("SPINDLE_TOKIO_FLAVOR {other:?} (valid: multi_thread, current_thread)")),
    };
    Ok(CaseSpec { workload, params, workers, repetitions, flavor })
}

fn parse_count(option: &str, text: &str, max: i64) -> Result<usize, String> {
    match text.parse::<i64>() {
        Ok(v) if (1..=max).contains(&v) => Ok(v as usize),
        _ => Err(format!("{option} {text:?} is not an integer in 1..{max}")),
    }
}

/// A repetition as measured, before it becomes a record.
struct Record {
    status: &'static str,
    body: Object,
}

/// run_case: every repetition on a fresh runtime, whose start and shutdown are outside the timing; glibc's
/// free heap is returned to the OS before each (untimed, as the C++ harness does).
fn run_case(c: &CaseSpec) -> Vec<Record> {
    let name = c.workload.case_name(RUNTIME_NAME, &c.params, c.workers);
    if let Some(alive) = c.workload.alive_at_once {
        if let Some(why) = refuse_if_too_big(alive(&c.params)) {
            let out = Outcome { limit: why, ..Default::default() };
            return vec![make_record(c, &name, 0, &out, Duration::ZERO, UsageSnapshot::default(), UsageSnapshot::default())];
        }
    }
    (0..c.repetitions)
        .map(|rep| {
            usage::release_free_heap();
            let rt = build_runtime(c);
            let (workload, params) = (c.workload.name, c.params.clone());
            let before = read_usage();
            let start = Instant::now();
            let out = rt.block_on(async move {
                // The root is a task like any other (block_on's own future runs on this thread, not a worker).
                tokio::spawn(workloads::run(workload, params)).await.unwrap_or_else(|e| Outcome {
                    reason: format!("the root task failed: {e}"),
                    ..Default::default()
                })
            });
            let elapsed = start.elapsed();
            let after = read_usage();
            drop(rt);
            make_record(c, &name, rep, &out, elapsed, before, after)
        })
        .collect()
}

fn build_runtime(c: &CaseSpec) -> tokio::runtime::Runtime {
    let mut b = match c.flavor {
        Flavor::MultiThread => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(c.workers);
            b
        }
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
    };
    b.build().expect("building the tokio runtime")
}

fn make_record(
    c: &CaseSpec,
    name: &str,
    rep: usize,
    out: &Outcome,
    elapsed: Duration,
    before: UsageSnapshot,
    after: UsageSnapshot,
) -> Record {
    let (status, reason) = if !out.limit.is_empty() {
        ("limit", out.limit.as_str())
    } else if !out.checksum_ok {
        ("failed", out.reason.as_str())
    } else {
        ("ok", "")
    };
    let ok = status == "ok";
    let user = after.user_cpu - before.user_cpu;
    let sys = after.sys_cpu - before.sys_cpu;
    let secs = elapsed.as_secs_f64();
    let mut r = Object::new();
    r.str("name", name).str("run_name", name).str("run_type", "iteration");
    r.int("repetitions", c.repetitions as i64).int("repetition_index", rep as i64).int("threads", 1);
    r.int("iterations", if ok { 1 } else { 0 });
    r.num("real_time", if ok { secs * 1e3 } else { 0.0 }).num("cpu_time", if ok { (user + sys) * 1e3 } else { 0.0 });
    r.str("time_unit", "ms");
    if !ok {
        // A wrong or partial answer is never a time: no timing on a record that is not ok.
        r.bool("error_occurred", true).str("error_message", reason);
    }
    r.str("case_id", name).str("runtime", RUNTIME_NAME).str("workload", c.workload.name);
    let mut p = Object::new();
    for (k, v) in &c.params {
        p.int(k, *v);
    }
    r.obj("params", p).int("workers", c.workers as i64).str("status", status);
    if !reason.is_empty() {
        r.str("reason", reason);
    }
    r.bool("checksum_ok", ok).int("tasks_created", out.tasks_created);
    r.str("tokio_version", &version()).str("tokio_flavor", c.flavor.name());
    r.int("ops", out.ops);
    r.num("ns_per_op", if ok && out.ops > 0 { secs * 1e9 / out.ops as f64 } else { 0.0 });
    r.num("ops_per_second", if ok && secs > 0.0 { out.ops as f64 / secs } else { 0.0 });
    r.int("peak_rss_bytes", after.max_rss_bytes);
    r.int("voluntary_csw", after.voluntary_csw - before.voluntary_csw);
    r.int("involuntary_csw", after.involuntary_csw - before.involuntary_csw);
    r.num("user_cpu_s", user).num("sys_cpu_s", sys);
    if let Some(m) = out.memory {
        r.num("rss_bytes_per_task", m.rss_bytes_per_task).int("tasks_reached", m.tasks_reached);
        r.num("vm_bytes_per_task", m.vm_bytes_per_task).int("mappings", m.mappings);
    }
    Record { status, body: r }
}

fn document(c: &CaseSpec, records: &[Record]) -> String {
    let mut ctx = Object::new();
    ctx.str("date", &json::utc_now()).str("host_name", &hostname());
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    ctx.str("executable", &exe);
    ctx.int("num_cpus", std::thread::available_parallelism().map(|n| n.get() as i64).unwrap_or(1));
    ctx.int("spindle_schema", SPINDLE_SCHEMA).str("tokio_version", &version());
    ctx.str("tokio_flavor", c.flavor.name()).int("worker_threads", c.workers as i64);
    let bodies: Vec<String> = records.iter().map(|r| r.body.render()).collect();
    format!("{{\n  \"context\": {},\n  \"benchmarks\": [\n    {}\n  ]\n}}", ctx.render(), bodies.join(",\n    "))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// list_json: the workload table as JSON, what the harness asks for before it offers a workload.
fn list_json() -> String {
    let workloads: Vec<String> = WORKLOADS
        .iter()
        .map(|w| {
            let params: Vec<String> = w
                .params
                .iter()
                .map(|p| {
                    let mut o = Object::new();
                    o.str("name", p.name).int("default", p.default).int("min", p.min).int("max", p.max);
                    if p.power_of_10 {
                        o.bool("power_of_10", true);
                    }
                    o.render()
                })
                .collect();
            format!("{{\"name\": {}, \"params\": [{}]}}", json::quote(w.name), params.join(", "))
        })
        .collect();
    format!(
        "{{\"runtime\": \"{RUNTIME_NAME}\", \"tokio_version\": {}, \"workloads\": [\n  {}\n]}}",
        json::quote(&version()),
        workloads.join(",\n  ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn a_case_prints_one_record_per_repetition() {
        let (code, out, err) = run(&args("--workload skynet --param leaves=100 --workers 2 --repetitions 2"), "");
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.matches("\"case_id\": \"skynet/tokio/leaves:100/workers:2\"").count(), 2, "{out}");
        assert_eq!(out.matches("\"tasks_created\": 111,").count(), 2, "{out}");
        assert!(out.contains("\"checksum_ok\": true") && out.contains("\"status\": \"ok\""), "{out}");
    }

    #[test]
    fn current_thread_flavor_runs_with_one_worker_only() {
        let (code, out, _) = run(&args("--workload=ping-pong --param=round-trips=100 --workers=1"), "current_thread");
        assert_eq!(code, 0);
        assert!(out.contains("\"tokio_flavor\": \"current_thread\""));
        let (code, _, err) = run(&args("--workload ping-pong --workers 2"), "current_thread");
        assert_eq!(code, 2);
        assert!(err.contains("needs --workers 1"), "{err}");
    }

    #[test]
    fn bad_input_exits_2_with_one_line() {
        for bad in ["--workload nope", "--workload skynet --param leaves=3", "--workers 0 --workload skynet",
                    "--workload skynet --workload skynet", "--frob 1", "--workload"] {
            let (code, out, err) = run(&args(bad), "");
            assert_eq!(code, 2, "{bad}");
            assert!(out.is_empty() && err.lines().count() == 1, "{bad}: {err}");
        }
    }

    #[test]
    fn list_and_version() {
        let (code, out, _) = run(&args("list"), "");
        assert_eq!(code, 0);
        for w in WORKLOADS {
            assert!(out.contains(&format!("\"name\": \"{}\"", w.name)));
        }
        assert!(run(&args("version"), "").1.starts_with("tokio 1."));
    }
}
