import { test } from "uvu";
import * as assert from "uvu/assert";
import { isPipelineSlug, isSshRepository, jobSlugs, repositorySlug } from "../src/job/slug.ts";
import { isSlugName } from "../src/job/config.ts";
import { Random } from "./support/random.ts";

// The original hook's vectors (BEHAVIOUR.md): a compatibility contract.
const ORIGINAL_VECTORS: Array<[string, string]> = [
  ["https://github.com/a/b.git", "github.com_a_b.git"],
  ["git@github.com:a/b.git", "github.com_a_b.git"],
  ["user@github.com:a/b.git", "github.com_a_b.git"],
  ["https://git@github.com/a/b.git", "github.com_a_b.git"],
  ["ssh://git@github.com/a/b.git", "github.com_a_b.git"],
  ["ssh://git@github.com:22/a/b.git", "github.com-22_a_b.git"],
  ["https://github.com:8080/a/b.git", "github.com-8080_a_b.git"],
  ["https://github.com:8080/~a/b.git", "github.com-8080__a_b.git"],
];

for (const [url, slug] of ORIGINAL_VECTORS) {
  test(`original vector ${url}`, () => assert.is(repositorySlug(url), slug));
}

const MORE_VECTORS: Array<[string, string]> = [
  ["https://github.com/a/b", "github.com_a_b"],
  ["git@github.com:a/b", "github.com_a_b"],
  ["https://github.com/a/b/", "github.com_a_b"],
  ["https://github.com/a/b.git/", "github.com_a_b.git"],
  ["https://user:token@gitlab.example.com:8443/group/sub/repo.git", "gitlab.example.com-8443_group_sub_repo.git"],
  ["ssh://git@git.example.com:2222/~user/repo.git", "git.example.com-2222__user_repo.git"],
  ["git@bitbucket.org:team/repo.git", "bitbucket.org_team_repo.git"],
  ["  https://github.com/a/b.git  ", "github.com_a_b.git"],
  ["http://127.0.0.1:9418/srv/repo.git", "127.0.0.1-9418_srv_repo.git"],
  ["git://github.com/a/b.git", "github.com_a_b.git"],
];
for (const [url, slug] of MORE_VECTORS) {
  test(`extended vector ${url}`, () => assert.is(repositorySlug(url), slug));
}

test("the user part is greedy: it runs to the last @ before the host, so no part of a password reaches a slug", () => {
  for (const url of ["https://user:p@ss@github.com/acme/x.git", "https://a@b@c@github.com/acme/x.git", "ssh://git:p@ss@github.com/acme/x.git", "us@er@github.com:acme/x.git"]) {
    assert.is(repositorySlug(url), "github.com_acme_x.git", url);
  }
  assert.is(repositorySlug("https://user:p@ss@github.com:8443/acme/x.git"), "github.com-8443_acme_x.git");
});

test("a slug SSM could not hold gives no slug", () => {
  for (const url of ["https://github.com/acme/x y.git", "https://github.com/acme/x.git?ref=1", "https://github.com/acme/%2e%2e.git", "https://gïthub.com/acme/x.git"]) {
    assert.is(repositorySlug(url), undefined, url);
  }
});

test("a pipeline slug outside Buildkite's alphabet fails the job instead of reading another slug", () => {
  for (const pipeline of ["deployer/", "../global", "-deployer", "a.b", "deploy_prod", "x y", "deployer\n", "a".repeat(101)]) {
    assert.throws(() => jobSlugs({ defaultKey: "global", pipeline }), (error: Error) => error.name === "JobError" && error.message.startsWith(`BUILDKITE_PIPELINE_SLUG=${JSON.stringify(pipeline)} is not a Buildkite pipeline slug`), pipeline);
  }
  for (const pipeline of ["deploy-prod-2", "0day", "a".repeat(100)]) assert.equal(jobSlugs({ defaultKey: "global", pipeline }).at(-1), { kind: "pipeline", name: pipeline });
});

test("unreadable URLs give no slug", () => {
  for (const url of ["", "   ", "not a url", "https://", "https:///path", "github.com", "git@github.com:", "https://github.com/"]) {
    assert.is(repositorySlug(url), undefined, url);
  }
});

test("ssh detection", () => {
  assert.ok(isSshRepository("git@github.com:a/b.git"));
  assert.ok(isSshRepository("ssh://git@github.com:22/a/b.git"));
  assert.not.ok(isSshRepository("https://github.com/a/b.git"));
  assert.not.ok(isSshRepository("http://host/a.git"));
  assert.not.ok(isSshRepository("/srv/git/repo.git"));
  for (const ssh of ["SSH://host/a.git", "git+ssh://host/a.git", "ssh+git://host/a.git", "  ssh://host/a.git  "]) assert.ok(isSshRepository(ssh), ssh);
  for (const other of ["https://host/ssh://x", "file:///srv/a.git", "git://host/a.git", "xssh://host/a.git", " https://host/a.git"]) assert.not.ok(isSshRepository(other), other);
});

test("job slugs in precedence order, each once", () => {
  assert.equal(jobSlugs({ defaultKey: "global", repository: "git@github.com:a/b.git", pipeline: "app" }), [
    { kind: "default", name: "global" },
    { kind: "repository", name: "github.com_a_b.git" },
    { kind: "pipeline", name: "app" },
  ]);
  assert.equal(jobSlugs({ defaultKey: "global", repository: "", pipeline: "global" }), [{ kind: "default", name: "global" }]);
  assert.equal(jobSlugs({ defaultKey: "shared", repository: "not a url" }), [{ kind: "default", name: "shared" }]);
});

// The slug functions as they were written with regular expressions: the
// written-out versions must agree with them on every input.
const SLUG_NAME = /^[A-Za-z0-9_.-]+$/;
const SCP_LIKE = /^(?:[^/:]*@)?([^@:/]+):(.*)$/;
const WITH_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/]*@)?([^/:@]*)(?::(\d*))?(\/.*)?$/;
const PIPELINE_SLUG = /^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/;
function patternSlug(repo: string): string | undefined {
  const url = repo.trim();
  if (url === "" || /\s/.test(url)) return undefined;
  let host: string | undefined;
  let port: string | undefined;
  let path: string | undefined;
  const withScheme = WITH_SCHEME.exec(url);
  if (withScheme) [, host, port, path] = withScheme;
  else if (!url.includes("://")) [, host, path] = SCP_LIKE.exec(url) ?? [];
  if (!host) return undefined;
  const trimmedPath = (path ?? "").replace(/^\/+/, "").replace(/\/+$/, "");
  if (trimmedPath === "") return undefined;
  const slug = `${host}${port ? `-${port}` : ""}_${trimmedPath.replace(/[/~]/g, "_")}`;
  return SLUG_NAME.test(slug) ? slug : undefined;
}
const patternIsSsh = (repo: string) => {
  const url = repo.trim();
  const scheme = url.indexOf("://");
  return scheme >= 0 ? ["ssh", "git+ssh", "ssh+git"].includes(url.slice(0, scheme).toLowerCase()) : SCP_LIKE.test(url);
};

test("repository slugs, ssh detection and name checks agree with the original patterns on 50,000 random URLs", () => {
  const random = new Random();
  const pieces = ["ssh", "https", "git+ssh", "s3", "1x", "://", ":", ":", "/", "/", "//", "@", "@", "~", "host", "github.com", "acme", "22", "0", "-", ".", "_", "+", " ", "\n", "\u2028", "\u00a0", "\u2001", "é", "x:y", ".git"];
  const fixed = ["git@github.com:acme/app.git", "ssh://git@host:22/org/repo", "https://u:p@w@host/org/repo/", "host:", "@host:x", "a://", "a://b:c:d/x", "s://h:/p", "h:p\nq", "h\n:p", "x://@/p"];
  for (let i = 0; i < 50_000 + fixed.length; i++) {
    // Half of them shaped like URLs, with random pieces in every part.
    const some = (count: number) => Array.from({ length: random.int(count) }, () => random.pick(pieces)).join("");
    const url = i < fixed.length ? fixed[i]! : i % 2 ? some(9) : `${random.pick(["ssh", "https", "git+ssh", ""])}${some(2)}://${some(3)}${random.pick(["@", ""])}${some(2)}${random.pick([":22", ":", ""])}${some(2)}/${some(4)}`;
    const seed = `${JSON.stringify(url)} (seed ${random.seed})`;
    assert.is(repositorySlug(url), patternSlug(url), seed);
    assert.is(isSshRepository(url), patternIsSsh(url), seed);
    assert.is(isSlugName(url), SLUG_NAME.test(url), seed);
    assert.is(isPipelineSlug(url), PIPELINE_SLUG.test(url), seed);
  }
  for (const length of [99, 100, 101]) assert.is(isPipelineSlug("a".repeat(length)), PIPELINE_SLUG.test("a".repeat(length)), String(length));
});

test.run();
