// `make demo`: the main job end to end on this machine. Starts the bundled
// SSM endpoint with an example tree, runs hooks/environment the way the
// agent does with the compiled binary, and shows what the job received:
// names, masked values, and the slug each came from.
import { join, resolve } from "node:path";
import { envChanges, runHook } from "./job.ts";
import { sdkEnv, startSsmServer } from "./ssm-server.ts";

const binary = resolve(process.argv[2] ?? join(import.meta.dir, "../../dist/bk-ssm-secrets-linux-x64"));
const BASE = "/vendors/buildkite";
const REPO = "git@github.com:acme/widgets.git";

const tree: Array<[string, string, "String" | "SecureString" | "StringList"]> = [
  [`${BASE}/global/env/NPM_TOKEN`, "npm_demo_0123456789abcdef", "SecureString"],
  [`${BASE}/global/env/ARTIFACT_BUCKET`, "acme-artifacts-global", "String"],
  [`${BASE}/github.com_acme_widgets.git/env/CODECOV_TOKEN`, "c0dec0v-demo-token", "SecureString"],
  [`${BASE}/github.com_acme_widgets.git/env/ARTIFACT_BUCKET`, "acme-artifacts-widgets", "String"],
  [`${BASE}/widgets-deploy/env/deploy-role-arn`, "arn:aws:iam::123456789012:role/deploy", "String"],
  [`${BASE}/widgets-deploy/env/DEPLOY_REGIONS`, "us-east-1,eu-west-1", "StringList"],
  [`${BASE}/widgets-deploy/allowed_teams`, "platform\nrelease", "String"],
  [`${BASE}/widgets-deploy/env/signing.key`, "never-exported", "SecureString"],
];

const server = await startSsmServer({ params: tree.map(([name, value, type]) => ({ name, value, type })) });
const mask = (value: string) => (value.length <= 4 ? "****" : `${value.slice(0, 2)}${"*".repeat(Math.min(value.length - 4, 12))}${value.slice(-2)}`);

try {
  console.log(`SSM test endpoint on ${server.url}, tree under ${BASE}:`);
  for (const [name, , type] of tree) console.log(`  ${name}  (${type})`);
  const job = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    ...sdkEnv(server),
    AWS_SSM_SECRETS_PLUGIN_ENABLED: "1",
    AWS_PARAMSTORE_SECRETS_VERBOSE: "1",
    BK_SSM_SECRETS_BIN: binary,
    BK_SSM_SECRETS_DEFAULTS_FILE: "/nonexistent",
    BUILDKITE_REPO: REPO,
    BUILDKITE_PIPELINE_SLUG: "widgets-deploy",
    BUILDKITE_BUILD_CREATOR_TEAMS: "platform",
    BUILDKITE_SOURCE: "ui",
  };
  console.log(`\nJob: pipeline widgets-deploy, repository ${REPO}, teams platform\n--- hooks/environment log (stderr) ---`);
  const run = await runHook("environment", job);
  process.stdout.write(run.stderr);
  if (run.status !== 0) throw new Error(`the environment hook failed with status ${run.status}`);

  // The verbose log says which parameter each variable came from; the slug is its second level.
  const origin = new Map([...run.stderr.matchAll(/\] (\w+) from (\S+)/g)].map(([, name, path]) => [name!, path!.slice(BASE.length + 1).split("/")[0]!]));
  const changes = envChanges(job, run.env);
  console.log(`--- what the job received (${Object.keys(changes).length} variables) ---`);
  const width = Math.max(...Object.keys(changes).map((name) => name.length));
  for (const [name, value] of Object.entries(changes).sort()) {
    console.log(`  ${name.padEnd(width)}  ${mask(value).padEnd(26)}  from ${origin.get(name) ?? "?"}`);
  }
  console.log(`\nSSM calls: ${server.callCount()} (${server.callCount("GetParametersByPath")} GetParametersByPath, one per slug)`);
} finally {
  await server.close();
}
