// Process bookkeeping for the benchmark: CPU time from /proc, finding the workerd that a Miniflare
// instance spawned, and killing everything this run started when it ends (normally or not).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the command name (which may itself contain spaces and parentheses). */
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // proc(5): field 3 (state) follows the ")" that closes field 2 (comm).
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU time of one process in microseconds: the scheduler's exact runtime of each of its threads
 * (/proc/<pid>/task/<tid>/schedstat, nanoseconds), or where the kernel has no schedstat, user +
 * system time from /proc/<pid>/stat (sampled at the clock tick, 10 ms here: fine over seconds, coarse
 * over a quick run). schedstat misses threads that exited in between; workerd's threads live as
 * long as the process.
 */
export function cpuMicros(pid) {
  try {
    let nanos = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    }
    return nanos / 1000;
  } catch {
    return tickCpuMicros(pid);
  }
}

/** User + system time from /proc/<pid>/stat (all threads, living and exited), in microseconds. */
export function tickCpuMicros(pid) {
  const fields = statFields(pid);
  // proc(5): utime is field 14, stime field 15; fields[0] is field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time of several processes together, in microseconds; a process that has exited counts 0. */
export function totalCpuMicros(pids) {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += cpuMicros(pid);
    } catch {
      // exited between listing and reading
    }
  }
  return sum;
}

/** A field of /proc/<pid>/status in KiB (VmRSS: resident now; VmHWM: peak resident). */
export function statusKiB(pid, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * Resets a process's peak resident size (VmHWM) to its current resident size (proc(5), clear_refs
 * value 5), so that VmHWM read later is the exact peak since now. False where the kernel refuses.
 */
export function resetPeakResident(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Watches one process's resident memory while `work` runs: the peak minus the resident size just
 * before, in KiB. Exact (VmHWM after resetting it) where the kernel allows, otherwise the largest
 * VmRSS sampled every 2 ms, which can miss a short spike.
 */
export async function addedPeakResident(pid, work) {
  const before = statusKiB(pid, "VmRSS");
  const exact = resetPeakResident(pid);
  let sampledPeak = before;
  const sampler = exact
    ? null
    : setInterval(() => {
        try {
          sampledPeak = Math.max(sampledPeak, statusKiB(pid, "VmRSS"));
        } catch {
          // exited
        }
      }, 2);
  try {
    const value = await work();
    const peak = exact ? statusKiB(pid, "VmHWM") : Math.max(sampledPeak, statusKiB(pid, "VmRSS"));
    return { value, addedKiB: peak - before, exact };
  } finally {
    if (sampler) clearInterval(sampler);
  }
}

function parentOf(pid) {
  return Number(statFields(pid)[1]);
}

function commandLine(pid) {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
}

function livePids() {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Every process whose ancestry leads to `rootPid` (not including it). */
export function descendantsOf(rootPid) {
  const parents = new Map();
  for (const pid of livePids()) {
    try {
      parents.set(pid, parentOf(pid));
    } catch {
      // exited while listing
    }
  }
  const found = [];
  let frontier = [rootPid];
  while (frontier.length > 0) {
    const next = [];
    for (const [pid, ppid] of parents) if (frontier.includes(ppid)) next.push(pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** This process's direct children whose command line names workerd. */
export function workerdChildren() {
  return livePids().filter((pid) => {
    try {
      return parentOf(pid) === process.pid && commandLine(pid).includes("workerd");
    } catch {
      return false;
    }
  });
}

/**
 * Runs `start`, and returns its value with the one workerd process it spawned. Starts must not
 * overlap (one Miniflare at a time), or the new process would be ambiguous.
 */
export async function withNewWorkerd(start) {
  const before = new Set(workerdChildren());
  const value = await start();
  const spawned = workerdChildren().filter((pid) => !before.has(pid));
  if (spawned.length !== 1) throw new Error(`expected one new workerd process, found ${spawned.length}`);
  return { value, workerdPid: spawned[0] };
}

/**
 * Cleanups run in reverse order of registration, once, whatever ends the run. `onExitKill` pids are
 * killed synchronously on process exit as a last resort (no async work is possible there).
 */
export function createCleanup() {
  const steps = [];
  const lastResortPids = new Set();
  let ran = false;

  async function runAll() {
    if (ran) return;
    ran = true;
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  function killLastResort() {
    for (const pid of lastResortPids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  process.on("exit", killLastResort);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping everything the benchmark started`);
      runAll().finally(() => process.exit(130));
    });
  }

  return {
    /** Register an async stop step. */
    add(step) {
      steps.push(step);
    },
    /** A pid to SIGKILL on exit if nothing stopped it before (a negative pid means its process group). */
    onExitKill(pid) {
      lastResortPids.add(pid);
    },
    forget(pid) {
      lastResortPids.delete(pid);
    },
    runAll,
  };
}
