// Which deploy key goes into which agent, and which keys cannot be loaded:
// pure decisions, checked on keys ssh-keygen makes at test time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyProblem, normaliseKey, planKeys, type KeyInput } from "../src/ssh/keys.ts";
import type { Slug } from "../src/job/slug.ts";

const base = "/vendors/buildkite";
const repoSlug: Slug = { kind: "repository", name: "github.com_acme_app.git" };
const pipelineSlug: Slug = { kind: "pipeline", name: "app" };

/** A private key in the given format, straight from ssh-keygen. */
function keygen(args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "bk-keys-test-"));
  try {
    const result = Bun.spawnSync(["ssh-keygen", "-q", ...args, "-f", join(dir, "key")], { stderr: "pipe" });
    if (!result.success) throw new Error(result.stderr.toString());
    return readFileSync(join(dir, "key"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ed25519 = keygen(["-t", "ed25519", "-N", ""]);
const otherEd25519 = keygen(["-t", "ed25519", "-N", ""]);

function input(extra: Partial<KeyInput> = {}): KeyInput {
  return {
    slugKeys: [],
    global: { names: [], found: [], missing: [] },
    repository: "git@github.com:acme/app.git",
    repositorySlugPath: `${base}/${repoSlug.name}`,
    pipelineSlugPath: `${base}/app`,
    skipMissingKeyWarning: false,
    ...extra,
  };
}

test("loadable keys: OpenSSH and PEM without a passphrase", () => {
  assert.is(keyProblem(ed25519), undefined);
  assert.is(keyProblem(keygen(["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", ""])), undefined);
  assert.is(keyProblem(keygen(["-t", "ecdsa", "-m", "PKCS8", "-N", ""])), undefined);
});

test("passphrase-protected keys are refused in every format, without quoting the key", () => {
  for (const key of [
    keygen(["-t", "ed25519", "-N", "secret-pass"]),
    keygen(["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "secret-pass"]),
    keygen(["-t", "ecdsa", "-m", "PKCS8", "-N", "secret-pass"]),
  ]) {
    const problem = keyProblem(key);
    assert.match(problem ?? "", /^is protected by a passphrase/);
    assert.not.ok(key.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----")).some((line) => problem!.includes(line)));
  }
});

test("something that is not a private key, or whose body does not decode, is refused", () => {
  const publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test";
  assert.match(keyProblem(publicKey)!, /^is not an SSH private key/);
  assert.match(keyProblem("")!, /^is not an SSH private key/);
  const garbled = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END OPENSSH PRIVATE KEY-----\n";
  assert.match(keyProblem(garbled)!, /^is not a valid OpenSSH private key/);
});

test("normalising: CRLF and a missing final newline become what ssh-add reads", () => {
  assert.is(normaliseKey(ed25519.trimEnd()), ed25519);
  assert.is(normaliseKey(ed25519.replaceAll("\n", "\r\n")), ed25519);
  assert.is(normaliseKey(`\n  ${ed25519}\n\n`), ed25519);
  assert.is(keyProblem(ed25519.trimEnd().replaceAll("\n", "\r\n")), undefined);
});

test("repository and pipeline keys share the slug agent, the pipeline key first", () => {
  const plan = planKeys(
    input({
      slugKeys: [
        { path: `${base}/${repoSlug.name}/ssh/key`, value: ed25519, slug: repoSlug },
        { path: `${base}/app/ssh/key`, value: otherEd25519, slug: pipelineSlug },
      ],
    }),
  );
  assert.equal(
    plan.agents.map((agent) => [agent.role, agent.keys.map((key) => key.origin)]),
    [["slug", ["pipeline", "repository"]]],
  );
  assert.equal(plan.warnings, []);
  assert.is(plan.problem, undefined);
});

test("global keys go into the default agent in the configured order; missing ones are warned about by name", () => {
  const names = [`${base}/keys/b`, `${base}/keys/missing`, `${base}/keys/a`];
  const plan = planKeys(
    input({
      global: {
        names,
        // GetParameters answers in any order.
        found: [
          { name: `${base}/keys/a`, value: ed25519, type: "SecureString" },
          { name: `${base}/keys/b`, value: otherEd25519, type: "SecureString" },
        ],
        missing: [`${base}/keys/missing`],
      },
    }),
  );
  assert.equal(plan.agents.map((agent) => [agent.role, agent.keys.map((key) => key.path)]), [["default", [`${base}/keys/b`, `${base}/keys/a`]]]);
  assert.equal(plan.warnings, [`AWS_PARAMSTORE_SECRETS_GLOBAL_SSH lists ${base}/keys/missing, which does not exist: create the parameter or remove it from the list`]);
});

test("a bad key stops the plan: no agent, one problem naming the parameter", () => {
  const plan = planKeys(
    input({
      slugKeys: [{ path: `${base}/app/ssh/key`, value: "not a key", slug: pipelineSlug }],
      global: { names: [`${base}/keys/a`], found: [{ name: `${base}/keys/a`, value: ed25519, type: "SecureString" }], missing: [] },
    }),
  );
  assert.equal(plan.agents, []);
  assert.match(plan.problem!, new RegExp(`^the deploy key ${base}/app/ssh/key is not an SSH private key`));
});

test("an SSH repository without any key gets one warning with the exact places; HTTPS or the switch silence it", () => {
  const warned = planKeys(input());
  assert.equal(warned.warnings, [
    `no SSH deploy key found for this job's repository: put one at ${base}/github.com_acme_app.git/ssh/key, or ${base}/app/ssh/key for this pipeline only, or a key for every job in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH; AWS_PARAMSTORE_SECRETS_SKIP_SSH_KEY_NOT_FOUND_WARNING=1 silences this warning`,
  ]);
  assert.equal(planKeys(input({ skipMissingKeyWarning: true })).warnings, []);
  assert.equal(planKeys(input({ repository: "https://github.com/acme/app.git" })).warnings, []);
  const withGlobal = planKeys(input({ global: { names: ["/k"], found: [{ name: "/k", value: ed25519, type: "SecureString" }], missing: [] } }));
  assert.equal(withGlobal.warnings, []);
});

test.run();
