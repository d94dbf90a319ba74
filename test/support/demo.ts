// `make demo`: one job's whole lifecycle on this machine, with the compiled
// binary and the real hooks, the way buildkite-agent runs them. The bundled
// SSM endpoint holds an example tree (global, repository and pipeline slugs,
// an access list, git credentials and a secret file); the checkout clones a
// repository over HTTPS from a local git server with the token from SSM; the
// agent's Job API takes the redactions. Then it shows what the job received:
// names, masked values, and the slug each came from.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { repositorySlug } from "../../src/job/slug.ts";
import { makeCertificate, makeRepository, startGitHttpServer } from "./git-http-server.ts";
import { startJobApiServer } from "./job-api-server.ts";
import { runLifecycle } from "./lifecycle.ts";
import { sdkEnv, startSsmServer, type SeedParam } from "./ssm-server.ts";

const binary = resolve(process.argv[2] ?? join(import.meta.dir, "../../dist/bk-ssm-secrets-linux-x64"));
const BASE = "/vendors/buildkite";
const TOKEN = "ghs_demoToken0123456789abcdef";

const scratch = mkdtempSync("/tmp/bk-ssm-secrets-demo-");
const [home, tmp, builds] = ["home", "tmp", "builds"].map((dir) => join(scratch, dir));
for (const dir of [home!, tmp!, builds!]) mkdirSync(dir);
const certificate = makeCertificate(scratch);
makeRepository(join(scratch, "git"), "widgets.git", "widgets: the repository this job checks out\n");
const git = startGitHttpServer({ root: join(scratch, "git"), username: "x-access-token", password: TOKEN, certificate, hostname: "127.0.0.1" });
const REPO = `${git.url}/widgets.git`;
const REPO_SLUG = repositorySlug(REPO)!;

const tree: SeedParam[] = [
  { name: `${BASE}/global/env/NPM_TOKEN`, value: "npm_demo_0123456789abcdef", type: "SecureString" },
  { name: `${BASE}/global/env/ARTIFACT_BUCKET`, value: "acme-artifacts-global", type: "String" },
  { name: `${BASE}/${REPO_SLUG}/env/CODECOV_TOKEN`, value: "c0dec0v-demo-token", type: "SecureString" },
  { name: `${BASE}/${REPO_SLUG}/env/ARTIFACT_BUCKET`, value: "acme-artifacts-widgets", type: "String" },
  { name: `${BASE}/${REPO_SLUG}/git-credentials`, value: `${git.url.replace("https://", `https://x-access-token:${TOKEN}@`)}\n`, type: "SecureString" },
  { name: `${BASE}/widgets-deploy/env/deploy-role-arn`, value: "arn:aws:iam::123456789012:role/deploy", type: "String" },
  { name: `${BASE}/widgets-deploy/env/DEPLOY_REGIONS`, value: "us-east-1,eu-west-1", type: "StringList" },
  { name: `${BASE}/widgets-deploy/file/KUBECONFIG`, value: "apiVersion: v1\nkind: Config\nusers: [{name: deploy, user: {token: k8s-demo-token}}]\n", type: "SecureString" },
  { name: `${BASE}/widgets-deploy/allowed_teams`, value: "platform\nrelease", type: "String" },
  { name: `${BASE}/widgets-deploy/env/signing.key`, value: "never-exported", type: "SecureString" },
];
const server = await startSsmServer({ params: tree });
const jobApi = startJobApiServer();
const mask = (value: string) => (value.length <= 6 ? "******" : `${value.slice(0, 3)}${"*".repeat(Math.min(value.length - 5, 12))}${value.slice(-2)}`);

try {
  console.log(`SSM test endpoint on ${server.url}, tree under ${BASE}:`);
  for (const { name, type } of tree) console.log(`  ${name}  (${type})`);
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home!,
    TMPDIR: tmp!,
    LANG: "C.UTF-8",
    ...sdkEnv(server),
    ...jobApi.jobEnv(),
    BUILDKITE: "true",
    AWS_SSM_SECRETS_PLUGIN_ENABLED: "1",
    AWS_PARAMSTORE_SECRETS_VERBOSE: "1",
    AWS_PARAMSTORE_SECRETS_DUMP_ENV: "1",
    BK_SSM_SECRETS_BIN: binary,
    BK_SSM_SECRETS_DEFAULTS_FILE: "/nonexistent",
    BUILDKITE_REPO: REPO,
    BUILDKITE_PIPELINE_SLUG: "widgets-deploy",
    BUILDKITE_BUILD_CREATOR_TEAMS: "platform",
    BUILDKITE_SOURCE: "ui",
    // The local git server's self-signed certificate; no system git configuration.
    GIT_SSL_CAINFO: certificate.certFile,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
  };
  console.log(`\nJob: pipeline widgets-deploy, repository ${REPO} (slug ${REPO_SLUG}), team platform`);
  const command = 'echo "checked out: $(cat README)"; echo "KUBECONFIG is a file: mode $(stat -c %a "$KUBECONFIG"), $(wc -c < "$KUBECONFIG") bytes"';
  const job = await runLifecycle({ env, command, buildDir: builds! });
  for (const phase of job.ran) {
    const run = job.runs[phase]!;
    console.log(`\n--- ${phase} (exit ${run.status}) ---`);
    process.stdout.write(run.stderr + run.stdout);
  }
  const environment = job.runs.environment;
  if (!environment || environment.status !== 0 || !job.commandEnv) throw new Error("the job failed: see the log above");

  // The log names each variable and file with the slug it came from.
  const origin = new Map([...environment.stderr.matchAll(/^(?:variable|file) +(\w+) from (\S+) \(/gm)].map(([, name, slug]) => [name!, slug!]));
  const received = [...origin.keys()].sort();
  console.log(`\n=== what the job received (${received.length} variables and files) ===`);
  const width = Math.max(...received.map((name) => name.length));
  for (const name of received) console.log(`  ${name.padEnd(width)}  ${mask(job.commandEnv[name] ?? "").padEnd(26)}  from ${origin.get(name)}`);
  console.log(`\nThe checkout used the token from ${BASE}/${REPO_SLUG}/git-credentials: ${git.authorized} authorised git request(s), ${git.refused} refused (git first asks without credentials, then calls its helper).`);
  console.log(`Values registered with the agent's redactor through its Job API: ${jobApi.redactions.length}.`);
  console.log(`SSM calls for the whole job: ${server.callCount()} (${server.callCount("GetParametersByPath")} GetParametersByPath, one per slug; ${server.callCount("GetParameters")} GetParameters, git's credential helper).`);
  const filesDir = environment.env.BK_SSM_SECRETS_FILES_DIR;
  console.log(`After pre-exit the secret files directory is ${filesDir && !existsSync(filesDir) ? "gone" : "STILL THERE"}.`);
} finally {
  git.close();
  jobApi.close();
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
}
