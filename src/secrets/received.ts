// What the job received and which slug each came from, by name only: a line
// per variable, file, deploy key and git host in the environment phase's log
// group. Pure; never sees a value it could print, since it only reads names,
// paths and slugs.
import type { GitCredential } from "./gitcredentials.ts";
import type { JobPlan } from "../job/plan.ts";
import type { Slug } from "../job/slug.ts";

function origin(slug: Slug, path: string, overrides?: Slug): string {
  return `from ${slug.name} (${path})${overrides ? `, overriding ${overrides.name}` : ""}`;
}

/** A deploy key as the log names it: its parameter, the slug it came from (none for a global key) and its agent. */
export interface ReceivedKey {
  path: string;
  slug?: string;
  agent: string;
}

export function receivedLines(plan: Pick<JobPlan, "env" | "files" | "gitCredentials">, credentials: GitCredential[], keys: ReceivedKey[] = []): string[] {
  const credentialSlug = new Map(plan.gitCredentials.map((parameter) => [parameter.path, parameter.slug.name]));
  return [
    ...plan.env.map((variable) => `variable ${variable.name} ${origin(variable.slug, variable.path, variable.overrides)}`),
    ...plan.files.map((file) => `file     ${file.name} ${origin(file.slug, file.path, file.overrides)}`),
    ...keys.map((key) => `deploy key from ${key.slug ?? "AWS_PARAMSTORE_SECRETS_GLOBAL_SSH"} (${key.path}), in the ${key.agent}`),
    ...credentials.map(
      (credential) =>
        `git credential for ${credential.protocol}://${credential.host}${credential.path ? `/${credential.path}` : ""} from ${credentialSlug.get(credential.parameter) ?? "?"} (line ${credential.line} of ${credential.parameter})`,
    ),
  ];
}
