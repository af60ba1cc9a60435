// The gateway's own counters and gauges in Prometheus text. /metrics serves these, then the
// node's metrics from src/telemetry (store and subscriptions), then GatewaySettings.metricsText.

import type { EdgeNode } from "../node/index.ts";

export class GatewayMetrics {
  private readonly responsesByStatus = new Map<number, number>();
  eventsAppended = 0;
  liveStreamsOpen = 0;
  liveEventsSent = 0;

  countResponse(status: number): void {
    this.responsesByStatus.set(status, (this.responsesByStatus.get(status) ?? 0) + 1);
  }

  render(node: EdgeNode, nowMs: number): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric("edge_esdb_http_responses_total", "counter", "HTTP responses by status.", [...this.responsesByStatus].sort((a, b) => a[0] - b[0]).map(([status, n]) => [`{status="${status}"}`, n]));
    metric("edge_esdb_http_events_appended_total", "counter", "Events appended through the HTTP gateway.", [["", this.eventsAppended]]);
    metric("edge_esdb_sse_streams_open", "gauge", "Open SSE live reads.", [["", this.liveStreamsOpen]]);
    metric("edge_esdb_sse_events_sent_total", "counter", "Events sent on SSE live reads.", [["", this.liveEventsSent]]);
    metric("edge_esdb_head_position", "gauge", "The global position the next event gets.", [["", node.store.headPosition]]);
    metric("edge_esdb_uptime_seconds", "gauge", "Seconds since the node started.", [["", Math.max(0, (nowMs - node.startedAtMs) / 1000)]]);
    return `${lines.join("\n")}\n`;
  }
}
