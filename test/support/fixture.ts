// A job fixture: the SSM test endpoint seeded with a tree, a canary secret
// planted in every tree, and the environment a job on an agent would have.
import { randomBytes } from "node:crypto";
import { baseJobEnv, plantSecret, type Env } from "./job.ts";
import { sdkEnv, startSsmServer, type ParameterType, type SsmServer } from "./ssm-server.ts";

export const BASE = "/vendors/buildkite";

/** Present in every fixture tree as `global/env/CANARY_SECRET`; it may only ever reach an eval payload. */
export const CANARY = `canary-${randomBytes(12).toString("hex")}`;
export const CANARY_VARIABLE = "CANARY_SECRET";

export type TreeValue = string | { value: string; type?: ParameterType; tier?: "Standard" | "Advanced" };
export type Tree = Record<string, TreeValue>;

export interface JobFixture {
  server: SsmServer;
  /** The job's environment: the agent's variables, the endpoint's credentials, and `extra`. */
  jobEnv(extra?: Env): Env;
  /** Add parameters after start; their values are planted too. */
  seed(tree: Tree): void;
  close(): Promise<void>;
}

export async function startJobFixture(tree: Tree = {}): Promise<JobFixture> {
  const server = await startSsmServer();
  const seed = (entries: Tree) => {
    for (const [name, entry] of Object.entries(entries)) {
      const { value, type = "SecureString", tier } = typeof entry === "string" ? { value: entry } : entry;
      plantSecret(value);
      server.put(name, value, { type, tier });
    }
  };
  seed({ [`${BASE}/global/env/${CANARY_VARIABLE}`]: CANARY, ...tree });
  return {
    server,
    seed,
    jobEnv: (extra = {}) => baseJobEnv({ ...sdkEnv(server), ...extra }),
    close: () => server.close(),
  };
}
