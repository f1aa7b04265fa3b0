// One measurement: autocannon (as a library) against one URL for a fixed duration, with the CPU
// time of the measured processes read just before and just after.
import autocannon from "autocannon";
import { totalCpuMicros } from "./processes.mjs";

/**
 * `body` makes the body of each request (each gets its own JSON-RPC id).
 * @param {{ url: string, headers: Record<string,string>, body: () => string, connections: number,
 *           seconds: number, amount?: number, cpuPids: { worker: number[], upstream: number[] } }} load
 * @returns {Promise<{ completed: number, ok: number, non2xx: number, errors: number, timeouts: number,
 *                     seconds: number, latenciesMs: number[], workerCpuMicros: number, upstreamCpuMicros: number }>}
 */
export function measure(load) {
  return new Promise((resolve, reject) => {
    // autocannon's own histogram keeps whole milliseconds; the targets need tenths, so keep every
    // 2xx latency as autocannon measured it (hrtime, fractional ms).
    const latenciesMs = [];
    const workerBefore = totalCpuMicros(load.cpuPids.worker);
    const upstreamBefore = totalCpuMicros(load.cpuPids.upstream);
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: load.url,
        method: "POST",
        headers: load.headers,
        requests: [{ setupRequest: (request) => ({ ...request, body: load.body() }) }],
        connections: load.connections,
        pipelining: 1,
        duration: load.seconds,
        // When set, a fixed number of requests instead (autocannon: amount overrides duration).
        ...(load.amount === undefined ? {} : { amount: load.amount }),
        // autocannon stops at the first sample tick after the duration; its default 1 s tick
        // stretched every 0.5 s (--quick) measurement to 1 s.
        sampleInt: 100,
        timeout: 10,
      },
      (error, result) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const workerCpuMicros = totalCpuMicros(load.cpuPids.worker) - workerBefore;
        const upstreamCpuMicros = totalCpuMicros(load.cpuPids.upstream) - upstreamBefore;
        if (error) {
          reject(error);
          return;
        }
        resolve({
          completed: result.requests.total,
          ok: result["2xx"],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds,
          latenciesMs,
          workerCpuMicros,
          upstreamCpuMicros,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTimeMs);
    });
  });
}
