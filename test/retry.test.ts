import { test } from "uvu";
import * as assert from "uvu/assert";
import { retryDelay } from "../src/ssm/client.ts";

test("backoff: full jitter under a capped exponential", () => {
  assert.is(retryDelay(1, () => 1), 200);
  assert.is(retryDelay(3, () => 1), 800);
  assert.is(retryDelay(10, () => 1), 2000, "capped");
  assert.is(retryDelay(10, () => 0), 0, "jitter reaches down to zero");
  assert.is(retryDelay(2, () => 0.5), 200);
});

test.run();
