import { test } from "uvu";
import * as assert from "uvu/assert";
import { isSshRepository, jobSlugs, repositorySlug } from "../src/job/slug.ts";

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

test.run();
