/**
 * Prometheus metrics of the service (prom-client, text exposition format 0.0.4), in a registry
 * of the service's own (two services in one process never share or clash): request counts, a
 * latency histogram, queue depth and in-flight gauges, model rows and rows/s, lost worker slots,
 * prom-client's default process and Node.js metrics, the event-loop delay since the last scrape
 * and the main thread's GC pauses.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry, Summary } from 'prom-client';

/** Upper bounds (seconds) of the latency histogram buckets. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** Window (ms) of the model rows/s gauge. */
const RATE_WINDOW_MS = 60_000;

/**
 * prom-client's default GC metric (a histogram with a `kind` label, which also counts only the
 * first entry of each observer batch) is replaced by the service's `nodejs_gc_duration_seconds`
 * summary (`_sum`, `_count`, every pause), the series the service has always exported.
 */
const GC_METRIC = 'nodejs_gc_duration_seconds';

/** The service's metrics. */
export class Metrics {
  /** The service's own registry (`registry.metrics()` is the exposition text). */
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route'>;
  private readonly modelRows: Counter<'model'>;
  private readonly explainedRows: Counter<'model'>;
  private readonly recent = new Map<string, { t: number; rows: number }[]>();
  private readonly started: number;
  private readonly loopDelay: IntervalHistogram;
  private readonly gcObserver: PerformanceObserver;

  constructor(
    gauges: { queueDepth(): number; inFlight(): number; lostSlots?(): number },
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'whybox_http_requests_total',
      help: 'HTTP requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'whybox_http_request_duration_seconds',
      help: 'Request latency, from arrival to the response.',
      labelNames: ['route'],
      buckets: [...LATENCY_BUCKETS],
      registers,
    });
    new Gauge({
      name: 'whybox_queue_depth',
      help: 'Requests waiting for a computation slot.',
      registers,
      collect() {
        this.set(gauges.queueDepth());
      },
    });
    new Gauge({
      name: 'whybox_in_flight',
      help: 'Requests being computed.',
      registers,
      collect() {
        this.set(gauges.inFlight());
      },
    });
    this.modelRows = new Counter({
      name: 'whybox_model_rows_total',
      help: 'Rows sent to each model (explanations and predictions).',
      labelNames: ['model'],
      registers,
    });
    this.explainedRows = new Counter({
      name: 'whybox_explained_rows_total',
      help: 'Rows explained or predicted, by model.',
      labelNames: ['model'],
      registers,
    });
    const recent = this.recent;
    const self = this;
    new Gauge({
      name: 'whybox_model_rows_per_second',
      help: 'Model rows per second over the last 60 s (or since start).',
      labelNames: ['model'],
      registers,
      collect() {
        const t = self.now();
        const span = Math.max(1, Math.min(RATE_WINDOW_MS, t - self.started)) / 1000;
        for (const [model, list] of recent) {
          trim(list, t);
          this.set({ model }, list.reduce((s, e) => s + e.rows, 0) / span);
        }
      },
    });
    if (gauges.lostSlots) {
      const lost = gauges.lostSlots;
      new Gauge({
        name: 'whybox_worker_slots_lost',
        help: 'Worker slots held by tasks past their time limit.',
        registers,
        collect() {
          this.set(lost());
        },
      });
    }

    // prom-client's process and Node.js metrics (CPU, memory, heap spaces, handles, event-loop
    // lag, version...), collected into a scratch registry and moved over, its GC metric aside
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    for (const { name } of defaults.getMetricsAsArray()) {
      const metric = defaults.getSingleMetric(name);
      if (metric && name !== GC_METRIC) this.registry.registerMetric(metric);
    }

    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    const delay = this.loopDelay;
    new Gauge({
      name: 'nodejs_eventloop_delay_seconds',
      help: 'Main-thread event-loop delay since the last scrape.',
      labelNames: ['quantile'],
      registers,
      collect() {
        const q = (v: number) => (Number.isFinite(v) ? v / 1e9 : 0);
        this.set({ quantile: '0.5' }, q(delay.percentile(50)));
        this.set({ quantile: '0.99' }, q(delay.percentile(99)));
        this.set({ quantile: '1' }, q(delay.max));
        delay.reset();
      },
    });
    const gc = new Summary({
      name: GC_METRIC,
      help: 'Garbage-collection pauses of the main thread.',
      percentiles: [],
      registers,
    });
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gc.observe(e.duration / 1000);
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
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route }, seconds);
  }

  /** Records the model rows and explained rows of one explanation (or prediction). */
  observeModelRows(model: string, modelRows: number, explained: number): void {
    this.modelRows.inc({ model }, modelRows);
    this.explainedRows.inc({ model }, explained);
    const list = this.recent.get(model) ?? [];
    const now = this.now();
    list.push({ t: now, rows: modelRows });
    if (list[0].t < now - 2 * RATE_WINDOW_MS) trim(list, now); // bounded without scrapes too
    this.recent.set(model, list);
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition's content type (`text/plain; version=0.0.4; charset=utf-8`). */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Drops the entries older than the window. */
function trim(list: { t: number }[], now: number): void {
  let k = 0;
  while (k < list.length && list[k].t < now - RATE_WINDOW_MS) k++;
  if (k > 0) list.splice(0, k);
}
