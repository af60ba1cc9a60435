// Metrics in the Prometheus text format (version 0.0.4): counters and latency histograms that
// the store's hooks update inline (a few additions per append), and gauges that other parts
// (subscriptions) report through collectors when the text is rendered. The HTTP gateway serves
// prometheusText() at /metrics.

/** Latency buckets in seconds: from half a millisecond (a batched append) to ten seconds. */
export const latencyBucketsSeconds: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bucketsUpper: readonly number[] = latencyBucketsSeconds) {
    this.counts = new Float64Array(bucketsUpper.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const buckets = this.bucketsUpper;
    for (let i = 0; i < buckets.length; i++) {
      if (value <= (buckets[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
}

export type MetricType = "counter" | "gauge";

export interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: readonly MetricSample[];
}

export type MetricsCollector = () => readonly MetricFamily[];

/** The store's own metrics, updated by the telemetry store observer. */
export class Metrics {
  appends = 0;
  appendErrors = new Map<string, number>();
  eventsAppended = 0;
  bytesAppended = 0;
  readonly appendDurationSeconds = new Histogram();
  reads = 0;
  eventsRead = 0;
  readonly readDurationSeconds = new Histogram();
  snapshotsSaved = 0;
  private readonly collectors = new Set<MetricsCollector>();

  appendStopped(eventCount: number, bytes: number, durationMs: number): void {
    this.appends++;
    this.eventsAppended += eventCount;
    this.bytesAppended += bytes;
    this.appendDurationSeconds.observe(durationMs / 1000);
  }

  appendFailed(code: string): void {
    this.appendErrors.set(code, (this.appendErrors.get(code) ?? 0) + 1);
  }

  readStopped(eventCount: number, durationMs: number): void {
    this.reads++;
    this.eventsRead += eventCount;
    this.readDurationSeconds.observe(durationMs / 1000);
  }

  /** Adds a source of gauges and counters; returns a function that removes it. */
  addCollector(collector: MetricsCollector): () => void {
    this.collectors.add(collector);
    return () => this.collectors.delete(collector);
  }

  /** Every metric in the Prometheus text format. */
  prometheusText(): string {
    const out: string[] = [];
    family(out, "edge_esdb_appends_total", "Appends committed.", "counter", [{ value: this.appends }]);
    family(out, "edge_esdb_append_errors_total", "Appends that failed, by error code.", "counter", [...this.appendErrors].map(([code, value]) => ({ labels: { code }, value })));
    family(out, "edge_esdb_events_appended_total", "Events committed by appends.", "counter", [{ value: this.eventsAppended }]);
    family(out, "edge_esdb_appended_bytes_total", "Bytes of event data and metadata committed.", "counter", [{ value: this.bytesAppended }]);
    histogram(out, "edge_esdb_append_duration_seconds", "Time from an append's call to its commit (fsync included).", this.appendDurationSeconds);
    family(out, "edge_esdb_reads_total", "Reads of a stream or of $all.", "counter", [{ value: this.reads }]);
    family(out, "edge_esdb_events_read_total", "Events returned by reads.", "counter", [{ value: this.eventsRead }]);
    histogram(out, "edge_esdb_read_duration_seconds", "Time of one read call.", this.readDurationSeconds);
    family(out, "edge_esdb_snapshots_saved_total", "Snapshots saved.", "counter", [{ value: this.snapshotsSaved }]);
    for (const collector of this.collectors) {
      for (const f of collector()) family(out, f.name, f.help, f.type, f.samples);
    }
    return out.join("\n") + "\n";
  }
}

function family(out: string[], name: string, help: string, type: MetricType, samples: readonly MetricSample[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const sample of samples) out.push(`${name}${labelText(sample.labels)} ${numberText(sample.value)}`);
}

function histogram(out: string[], name: string, help: string, h: Histogram): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  let cumulative = 0;
  h.bucketsUpper.forEach((upper, i) => {
    cumulative += h.counts[i] ?? 0;
    out.push(`${name}_bucket{le="${upper}"} ${cumulative}`);
  });
  out.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${numberText(h.sum)}`, `${name}_count ${h.count}`);
}

function labelText(labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return "";
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
