/**
 * Prometheus metrics of the service, in the text exposition format (version 0.0.4): request
 * counts, a latency histogram, queue depth and in-flight gauges, model rows and rows/s, and
 * process metrics (CPU, memory, event-loop delay, GC pauses, lost worker slots).
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/** Upper bounds (seconds) of the latency histogram buckets. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** Window (ms) of the model rows/s gauge. */
const RATE_WINDOW_MS = 60_000;

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** The service's metrics. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly modelRows = new Map<string, number>();
  private readonly explainedRows = new Map<string, number>();
  private readonly recent = new Map<string, { t: number; rows: number }[]>();
  private readonly started = Date.now();

  private readonly loopDelay: IntervalHistogram;
  private readonly gc = { count: 0, seconds: 0 };
  private readonly gcObserver: PerformanceObserver;

  constructor(
    private readonly gauges: { queueDepth(): number; inFlight(): number; lostSlots?(): number },
    private readonly now: () => number = Date.now,
  ) {
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gc.count++;
        this.gc.seconds += e.duration / 1000;
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  /** Stops the event-loop and GC observers. */
  close(): void {
    this.loopDelay.disable();
    this.gcObserver.disconnect();
  }

  /** Records one finished HTTP request. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `route="${escapeLabel(route)}",method="${escapeLabel(method)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hkey = `route="${escapeLabel(route)}"`;
    let h = this.latency.get(hkey);
    if (!h) {
      h = { counts: new Array(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0 };
      this.latency.set(hkey, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** Records the model rows and explained rows of one explanation (or prediction). */
  observeModelRows(model: string, modelRows: number, explained: number): void {
    const key = `model="${escapeLabel(model)}"`;
    this.modelRows.set(key, (this.modelRows.get(key) ?? 0) + modelRows);
    this.explainedRows.set(key, (this.explainedRows.get(key) ?? 0) + explained);
    const list = this.recent.get(key) ?? [];
    const now = this.now();
    list.push({ t: now, rows: modelRows });
    if (list[0].t < now - 2 * RATE_WINDOW_MS) trim(list, now); // bounded without scrapes too
    this.recent.set(key, list);
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    out.push('# HELP whybox_http_requests_total HTTP requests answered, by route, method and status.');
    out.push('# TYPE whybox_http_requests_total counter');
    for (const [k, v] of this.requests) out.push(`whybox_http_requests_total{${k}} ${v}`);
    out.push('# HELP whybox_http_request_duration_seconds Request latency, from arrival to the response.');
    out.push('# TYPE whybox_http_request_duration_seconds histogram');
    for (const [k, h] of this.latency) {
      LATENCY_BUCKETS.forEach((b, i) => {
        out.push(`whybox_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`);
      });
      out.push(`whybox_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`whybox_http_request_duration_seconds_sum{${k}} ${h.sum}`);
      out.push(`whybox_http_request_duration_seconds_count{${k}} ${h.count}`);
    }
    out.push('# HELP whybox_queue_depth Requests waiting for a computation slot.');
    out.push('# TYPE whybox_queue_depth gauge');
    out.push(`whybox_queue_depth ${this.gauges.queueDepth()}`);
    out.push('# HELP whybox_in_flight Requests being computed.');
    out.push('# TYPE whybox_in_flight gauge');
    out.push(`whybox_in_flight ${this.gauges.inFlight()}`);
    out.push('# HELP whybox_model_rows_total Rows sent to each model (explanations and predictions).');
    out.push('# TYPE whybox_model_rows_total counter');
    for (const [k, v] of this.modelRows) out.push(`whybox_model_rows_total{${k}} ${v}`);
    out.push('# HELP whybox_explained_rows_total Rows explained or predicted, by model.');
    out.push('# TYPE whybox_explained_rows_total counter');
    for (const [k, v] of this.explainedRows) out.push(`whybox_explained_rows_total{${k}} ${v}`);
    out.push('# HELP whybox_model_rows_per_second Model rows per second over the last 60 s (or since start).');
    out.push('# TYPE whybox_model_rows_per_second gauge');
    const now = this.now();
    const span = Math.max(1, Math.min(RATE_WINDOW_MS, now - this.started)) / 1000;
    for (const [k, list] of this.recent) {
      trim(list, now);
      const rows = list.reduce((s, e) => s + e.rows, 0);
      out.push(`whybox_model_rows_per_second{${k}} ${rows / span}`);
    }
    out.push('# HELP process_resident_memory_bytes Resident memory size in bytes.');
    out.push('# TYPE process_resident_memory_bytes gauge');
    out.push(`process_resident_memory_bytes ${process.memoryUsage.rss()}`);
    out.push('# HELP nodejs_heap_size_used_bytes V8 heap used by the main thread, in bytes.');
    out.push('# TYPE nodejs_heap_size_used_bytes gauge');
    out.push(`nodejs_heap_size_used_bytes ${process.memoryUsage().heapUsed}`);
    const cpu = process.cpuUsage();
    out.push('# HELP process_cpu_seconds_total User and system CPU time of the process (all threads), in seconds.');
    out.push('# TYPE process_cpu_seconds_total counter');
    out.push(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
    out.push('# HELP nodejs_eventloop_delay_seconds Main-thread event-loop delay since the last scrape.');
    out.push('# TYPE nodejs_eventloop_delay_seconds gauge');
    const delay = this.loopDelay;
    const q = (v: number) => (Number.isFinite(v) ? v / 1e9 : 0);
    out.push(`nodejs_eventloop_delay_seconds{quantile="0.5"} ${q(delay.percentile(50))}`);
    out.push(`nodejs_eventloop_delay_seconds{quantile="0.99"} ${q(delay.percentile(99))}`);
    out.push(`nodejs_eventloop_delay_seconds{quantile="1"} ${q(delay.max)}`);
    delay.reset();
    out.push('# HELP nodejs_gc_duration_seconds Garbage-collection pauses of the main thread.');
    out.push('# TYPE nodejs_gc_duration_seconds summary');
    out.push(`nodejs_gc_duration_seconds_sum ${this.gc.seconds}`);
    out.push(`nodejs_gc_duration_seconds_count ${this.gc.count}`);
    if (this.gauges.lostSlots) {
      out.push('# HELP whybox_worker_slots_lost Worker slots held by tasks past their time limit.');
      out.push('# TYPE whybox_worker_slots_lost gauge');
      out.push(`whybox_worker_slots_lost ${this.gauges.lostSlots()}`);
    }
    return `${out.join('\n')}\n`;
  }
}

/** Drops the entries older than the window. */
function trim(list: { t: number }[], now: number): void {
  let k = 0;
  while (k < list.length && list[k].t < now - RATE_WINDOW_MS) k++;
  if (k > 0) list.splice(0, k);
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
