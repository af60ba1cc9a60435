// Routing as a client meets it: a path segment is decoded once (and only when it has '%'),
// malformed percent-encoding is a 400 with the JSON error body, and a wrong method on each kind of
// path is a 405 whose Allow header names exactly that path's methods.

import { describe, expect, test } from "bun:test";
import { pathSegments } from "../../../src/api/router.ts";
import { startTestGateway } from "./harness.ts";

describe("routing", () => {
  test("segments are decoded once; plain ones are kept as they are", () => {
    expect(pathSegments("/v1/streams/order-1")).toEqual(["v1", "streams", "order-1"]);
    expect(pathSegments("/v1/streams/a%2Fb%2520c")).toEqual(["v1", "streams", "a/b%20c"]);
    expect(pathSegments("/v1/streams/")).toEqual(["v1", "streams", ""]);
    expect(() => pathSegments("/v1/streams/%E0%A4%A")).toThrow(/not valid percent-encoding/);
  });

  test("malformed percent-encoding is 400 invalid_argument; each path's 405 names its own methods", async () => {
    await using gw = await startTestGateway();
    const bad = await gw.unix("/v1/streams/%E0%A4%A");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "invalid_argument" });
    const cases: Array<[string, string, string]> = [
      ["/health", "POST", "GET, HEAD"],
      ["/v1/streams/s", "PATCH", "POST, GET, HEAD, DELETE"],
      ["/v1/streams/s/snapshots/latest", "PUT", "GET"],
      ["/v1/streams/s/snapshots/3", "POST", "PUT, GET, DELETE"],
      ["/v1/subscriptions/x/ack", "GET", "POST"],
      ["/v1/all", "POST", "GET"],
    ];
    for (const [path, method, allow] of cases) {
      const response = await gw.unix(path, { method });
      expect({ path, status: response.status, allow: response.headers.get("allow") }).toEqual({ path, status: 405, allow });
      expect(await response.json()).toMatchObject({ error: "method_not_allowed" });
    }
  });
});
