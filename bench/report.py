"""Benchmark figures: ratios, targets, scaling; the printed table, bench.json, bench.png and README text."""

from __future__ import annotations

import json
import os
import platform
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ROWS = {
    "ping": "1. ping (floor)",
    "role:apply": "2. our role, first apply",
    "role:rerun": "2. our role, re-run",
    "slurp:apply": "3. slurp+combine+copy+restart, first apply",
    "slurp:rerun": "3. slurp+combine+copy+restart, re-run",
    "whole:apply": "4. whole-file copy+restart, first apply",
    "whole:rerun": "4. whole-file copy+restart, re-run",
    "role1:apply": "(diag.) our role in one batch, first apply",
    "role1:rerun": "(diag.) our role in one batch, re-run",
}
FLAT_TOLERANCE = 1.2  # per-host cost at the largest N may be at most 1.2 x that at the smallest N


def out(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8")
                  if line.startswith("model name")), platform.machine())
    mem_kib = next(int(line.split()[1]) for line in open("/proc/meminfo", encoding="utf-8")
                   if line.startswith("MemTotal"))
    ansible = out([os.path.join(ROOT, ".venv", "bin", "ansible"), "--version"]).splitlines()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ansible_core": ansible[0].split("core ")[-1].rstrip("]") if ansible else "?",
        "engine_docker": out(["docker", "version", "--format", "{{.Server.Version}}"]),
        "fleet_hosts": "Debian 12 (systemd + Docker 20.10) containers, --network none, via the Docker socket",
    }


def add_ratios(rows: dict, size: int) -> None:
    ping = rows.get("ping", {}).get("median_s")
    for label, row in rows.items():
        phase = label.split(":")[-1]
        pattern3 = rows.get(f"slurp:{phase}", {}).get("median_s")
        row["x_ping"] = row["median_s"] / ping if ping else None
        row["x_pattern3"] = row["median_s"] / pattern3 if pattern3 else None
        ping_cpu = rows.get("ping", {}).get("controller_cpu_s")
        pattern3_cpu = rows.get(f"slurp:{phase}", {}).get("controller_cpu_s")
        row["cpu_x_ping"] = row["controller_cpu_s"] / ping_cpu if ping_cpu else None
        row["cpu_x_pattern3"] = row["controller_cpu_s"] / pattern3_cpu if pattern3_cpu else None
        row["s_per_host"] = row["median_s"] / size


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares seconds per added host."""
    if len(points) < 2:
        return None
    mean_n = sum(n for n, _ in points) / len(points)
    mean_t = sum(t for _, t in points) / len(points)
    spread = sum((n - mean_n) ** 2 for n, _ in points)
    return sum((n - mean_n) * (t - mean_t) for n, t in points) / spread


def scaling(sizes: dict[int, dict]) -> dict:
    labels = [label for label in ROWS if any(label in rows for rows in sizes.values())]
    result = {}
    for label in labels:
        points = [(n, rows[label]["median_s"]) for n, rows in sorted(sizes.items()) if label in rows]
        result[label] = {"points": points, "s_per_added_host": slope(points),
                         "s_per_host": {n: t / n for n, t in points}}
    return result


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def flat_cost(scale: dict) -> bool | None:
    per_host = scale.get("s_per_host", {})
    if len(per_host) < 2:
        return None
    return per_host[max(per_host)] <= FLAT_TOLERANCE * per_host[min(per_host)]


def ratio_text(row: dict, key: str) -> str:
    if not row[key]:
        return "not measured"
    return f"{row[key]:.2f} x (controller CPU: {row['cpu_' + key]:.2f} x)"


def targets(rows: dict, scale: dict) -> list[dict]:
    apply_, rerun = rows.get("role:apply"), rows.get("role:rerun")
    if not apply_ or not rerun:
        return [{"target": "all role targets", "measured": "role not measured", "verdict": "n/a"}]
    role_rows = (apply_, rerun)
    flat = [flat_cost(scale.get(label, {})) for label in ("role:apply", "role:rerun")]
    per_host = {label: scale.get(label, {}).get("s_per_host", {}) for label in ("role:apply", "role:rerun")}
    return [
        {"target": "first apply <= 0.6 x pattern 3 (wall time)",
         "measured": ratio_text(apply_, "x_pattern3"),
         "verdict": verdict(apply_["x_pattern3"] <= 0.6 if apply_["x_pattern3"] else None)},
        {"target": "no-change re-run <= 3 x ping floor (wall time)", "measured": ratio_text(rerun, "x_ping"),
         "verdict": verdict(rerun["x_ping"] <= 3 if rerun["x_ping"] else None)},
        {"target": "zero containers interrupted", "measured": f"{max(r['interrupted'] for r in role_rows)}",
         "verdict": verdict(all(r["interrupted"] == 0 for r in role_rows))},
        {"target": "zero daemon.json keys lost", "measured": ", ".join(
            sorted({k for r in role_rows for k in r["keys_lost"]})) or "0",
         "verdict": verdict(not any(r["keys_lost"] for r in role_rows))},
        {"target": f"cost per host flat as N grows (largest N <= {FLAT_TOLERANCE} x smallest N)",
         "measured": "; ".join(f"{label.split(':')[1]}: " + ", ".join(
             f"N={n} {s:.2f}s" for n, s in sorted(ph.items())) for label, ph in per_host.items())
         if len(per_host["role:apply"]) > 1 else "one size only (run BENCH_SIZES=5,10,20)",
         "verdict": "n/a" if None in flat else verdict(all(flat))},
    ]


def rebuild(saved: dict) -> dict:
    """Recompute ratios, scaling and targets from a saved bench.json (rows and machine kept as measured)."""
    sizes = {int(n): rows for n, rows in saved["sizes"].items()}
    for size, rows in sizes.items():
        add_ratios(rows, size)
    scale = scaling(sizes)
    primary = primary_size(sizes)
    return {**saved, "sizes": {str(n): rows for n, rows in sizes.items()}, "scaling": scale,
            "primary_size": primary, "targets": targets(sizes[primary], scale)}


def primary_size(sizes: dict) -> int:
    return 10 if 10 in sizes else max(sizes)


def build(sizes: dict[int, dict], args, elapsed: float) -> dict:
    for size, rows in sizes.items():
        add_ratios(rows, size)
    scale = scaling(sizes)
    primary = primary_size(sizes)
    return {
        "machine": machine(),
        "settings": {"sizes": args.sizes, "repetitions": args.reps, "variants": args.variants,
                     "forks": "N (at most 20)", "pipelining": True, "mirror": "http://127.0.0.1:5000",
                     "fact_gathering": "ping: off; role: as its playbook says; patterns 3 and 4: default (on)"},
        "elapsed_s": round(elapsed, 1),
        "primary_size": primary,
        "sizes": {str(n): rows for n, rows in sizes.items()},
        "scaling": scale,
        "targets": targets(sizes[primary], scale),
    }


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table_rows(rows: dict, size: int) -> list[list[str]]:
    lines = []
    for label, title in ROWS.items():
        row = rows.get(label)
        if not row:
            continue
        failed = f" ({row['failed_runs']} FAILED)" if row["failed_runs"] else ""
        lines.append([
            title, f"{row['median_s']:.1f}{failed}", f"{row['controller_cpu_s']:.1f}", fmt_ratio(row["x_ping"]), fmt_ratio(row["x_pattern3"]),
            f"{row['s_per_host']:.2f}", str(row["tasks_per_host"]), f"{row['interrupted']}/{size}",
            f"{row['restarted']}/{size}", f"{row['reloaded']}/{size}",
            str(len(row["keys_lost"])), f"{row['mirror_live']}/{size}",
        ])
    return lines


HEADER = ["variant", "median s", "controller CPU s", "x ping", "x pattern 3", "s/host", "tasks/host", "containers interrupted",
          "dockerd restarts", "dockerd reloads", "keys lost", "mirror live"]


def markdown_table(header: list[str], lines: list[list[str]]) -> str:
    rendered = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    rendered += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(rendered)


def plain_table(header: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*line) for line in lines])


def scaling_lines(results: dict) -> tuple[list[str], list[list[str]]]:
    sizes = sorted(int(n) for n in results["sizes"])
    header = ["variant"] + [f"N={n}: s (s/host)" for n in sizes] + ["s per added host"]
    lines = []
    for label, scale in results["scaling"].items():
        points = dict(scale["points"])
        cells = [f"{points[n]:.1f} ({points[n] / n:.2f})" if n in points else "-" for n in sizes]
        added = scale["s_per_added_host"]
        lines.append([ROWS[label], *cells, "-" if added is None else f"{added:.2f}"])
    return header, lines


def target_lines(results: dict) -> list[list[str]]:
    return [[t["target"], t["measured"], t["verdict"]] for t in results["targets"]]


def text_tables(results: dict) -> str:
    size = results["primary_size"]
    parts = [f"\nFleet benchmark, N={size} hosts, median of {results['settings']['repetitions']} run(s):",
             plain_table(HEADER, table_rows(results["sizes"][str(size)], size)),
             "\nTargets for our role:", plain_table(["target", "measured", "verdict"], target_lines(results))]
    if len(results["sizes"]) > 1:
        parts += ["\nScaling:", plain_table(*scaling_lines(results))]
    return "\n".join(parts) + "\n"


def plot(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = results["primary_size"]
    rows = results["sizes"][str(size)]
    labels = [label for label in ROWS if label in rows]
    fig, (bars, curve) = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    medians = [rows[label]["median_s"] for label in labels]
    colours = ["tab:green" if not rows[label]["interrupted"] and not rows[label]["keys_lost"] else "tab:red"
               for label in labels]
    bars.barh([ROWS[label] for label in labels], medians, color=colours)
    bars.invert_yaxis()
    if "ping" in rows:
        bars.axvline(rows["ping"]["median_s"], color="grey", linestyle="--", label="ping floor")
        bars.axvline(3 * rows["ping"]["median_s"], color="grey", linestyle=":", label="3 x ping (re-run target)")
    for y, label in enumerate(labels):
        row = rows[label]
        bars.text(row["median_s"], y, f" {row['median_s']:.1f}s  interrupted {row['interrupted']}/{size}, "
                  f"keys lost {len(row['keys_lost'])}", va="center", fontsize=8)
    bars.set_xlabel(f"wall time, s (median of {results['settings']['repetitions']}), N={size} hosts")
    bars.set_xlim(0, max(medians) * 1.9)
    bars.legend(loc="lower right", fontsize=8)
    bars.set_title("Time and damage (red: containers interrupted or keys lost)", fontsize=10)
    if len(results["sizes"]) > 1:
        plot_scaling(curve, results)
    else:
        plot_cpu(curve, rows, labels, colours, size)
    m = results["machine"]
    fig.suptitle(f"fleetops.docker_mirror fleet benchmark — {m['cpus']} CPUs, {m['memory_gib']} GiB, "
                 f"ansible-core {m['ansible_core']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_scaling(axes, results: dict) -> None:
    for label, scale in results["scaling"].items():
        ns = [int(n) for n, _ in scale["points"]]
        axes.plot(ns, [t / int(n) for n, t in scale["points"]], marker="o", label=ROWS[label])
    axes.set_xlabel("fleet size N (hosts)")
    axes.set_ylabel("wall time per host, s")
    axes.set_title("Cost per host as N grows", fontsize=10)
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=7)


def plot_cpu(axes, rows: dict, labels: list[str], colours: list[str], size: int) -> None:
    axes.barh(range(len(labels)), [rows[label]["controller_cpu_s"] for label in labels], color=colours)
    axes.set_yticks(range(len(labels)), [""] * len(labels))
    axes.invert_yaxis()
    axes.set_xlabel(f"controller CPU, s (user + system, median), N={size} hosts")
    axes.set_title("Controller CPU (less sensitive to other load)", fontsize=10)


def readme_section(results: dict) -> str:
    size, m, s = results["primary_size"], results["machine"], results["settings"]
    parts = [
        "## Benchmark: our role against the common playbook patterns",
        "",
        f"`make bench` starts a local fleet of {size} Debian 12 hosts (`tools/fleet.py`, prefix `bench`), gives "
        "each a running container and a `daemon.json` of unrelated keys (log-opts, labels, "
        "default-address-pools, ...), and times, on that same fleet, in one run: `ansible.builtin.ping` (the "
        "floor of any playbook), our `fleetops.docker_mirror.configure` playbook (first apply, then a re-run "
        "with nothing to change), the common hand-written pattern (`slurp` + `from_json | combine` + `copy` + "
        "restart handler + `docker info` assert, `bench/patterns/slurp_merge.yml`) and the whole-file pattern "
        "many roles use (`copy: content: \"{{ options | to_nice_json }}\"` + restart, "
        "`bench/patterns/whole_file.yml`). The fleet is reset between variants. Every variant runs with the "
        f"same settings: pipelining on, forks = N (at most 20), mirror `{s['mirror']}` (each host's own "
        "loopback). Patterns 3 and 4 keep Ansible's default fact gathering, as they are usually written; "
        "ping does not gather facts.",
        "",
        f"N = {size} hosts, median of {s['repetitions']} runs (wall time of `ansible-playbook`, start-up "
        "included). *Interrupted*: the container's `State.StartedAt` changed or it stopped; *restarts*: "
        "dockerd's PID or start time changed; *reloads*: dockerd logged a SIGHUP reload; *keys lost*: keys "
        "other than `registry-mirrors` missing or changed; *mirror live*: `docker info` reports the mirror "
        "afterwards; *controller CPU*: user + system CPU seconds of `ansible-playbook` and its children on the "
        "controller (the `docker exec` clients included), less sensitive than wall time to other load. "
        "Re-runs follow the first apply without a reset, so they change nothing. Rows marked (diag.) are "
        "diagnostics, not targets: our playbook with `-e docker_mirror_serial=100%` (one batch instead of its "
        "default canary host first, then the rest).",
        "",
        markdown_table(HEADER, table_rows(results["sizes"][str(size)], size)),
        "",
        "Targets for our role:",
        "",
        markdown_table(["target", "measured", "verdict"], target_lines(results)),
        "",
    ]
    if len(results["sizes"]) > 1:
        parts += ["How the time grows with N (wall time, s, and per host):", "",
                  markdown_table(*scaling_lines(results)), ""]
    parts += [
        "![Fleet benchmark](bench/figures/bench.png)",
        "",
        f"Measured on {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}, ansible-core {m['ansible_core']}, Docker {m['engine_docker']} engine; fleet "
        f"hosts: {m['fleet_hosts']}. 1-minute load average before the runs: {load_range(results)} (other "
        f"jobs shared the machine). Whole run: {results['elapsed_s']:.0f} s. Figures: "
        "`bench/figures/bench.json`. Reproduce with `make bench` (`make bench BENCH_SIZES=5,10,20` for the "
        "scaling curve, `BENCH_REPS=5` for more repetitions).",
        "",
    ]
    return "\n".join(parts)


def load_range(results: dict) -> str:
    loads = [x for rows in results["sizes"].values() for row in rows.values() for x in row["load_before"]]
    return f"{min(loads):.1f}-{max(loads):.1f}" if loads else "?"


def write_all(results: dict, directory: str) -> dict:
    paths = {name: os.path.join(directory, file) for name, file in
             (("json", "bench.json"), ("png", "bench.png"), ("section", "README-section.md"))}
    with open(paths["json"], "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    plot(results, paths["png"])
    with open(paths["section"], "w", encoding="utf-8") as f:
        f.write(readme_section(results))
    return paths
