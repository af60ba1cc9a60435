// Live reads outlive the server's idle timeout on both listeners: a quiet SSE stream (heartbeat
// slower than the timeout) still delivers the next event. This test must wait past the timeout.

import { expect, test } from "bun:test";
import { jsonBody, readSseUntil, sseEvents, startTestGateway } from "../../unit/api/harness.ts";

test("an SSE stream quiet for longer than the idle timeout stays open, over the unix socket and TCP", async () => {
  await using gw = await startTestGateway({ idleTimeoutSeconds: 1, heartbeatIntervalMs: 60_000 });
  const unix = await gw.unix("/v1/all/live");
  const tcp = await gw.tcp("/v1/all/live");
  const readers = [unix, tcp].map((r) => (r.body as ReadableStream<Uint8Array>).getReader());
  const states = [{ text: "" }, { text: "" }];
  for (const [i, reader] of readers.entries()) await readSseUntil(reader, states[i] as { text: string }, (t) => t.length > 0);
  // Past the 1 s idle timeout, with nothing sent (Bun checks timeouts every few seconds: 6 s
  // cut the unix stream when the unix socket had the timeout too).
  await Bun.sleep(6_000);
  await gw.unix("/v1/streams/s", jsonBody({ events: [{ type: "T", data: 1 }] }));
  for (const [i, reader] of readers.entries()) {
    await readSseUntil(reader, states[i] as { text: string }, (t) => sseEvents(t).length === 1);
    expect(sseEvents((states[i] as { text: string }).text).map((e) => e.id)).toEqual([0]);
    await reader.cancel();
  }
});
