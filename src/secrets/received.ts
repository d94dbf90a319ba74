// The AWS_PARAMSTORE_SECRETS_DUMP_ENV listing: what the job received and
// which slug each came from, by name only. Pure; never sees a value it could
// print, since it only reads names, paths and slugs.
import type { GitCredential } from "./gitcredentials.ts";
import type { JobPlan } from "../job/plan.ts";
import type { Slug } from "../job/slug.ts";

function origin(slug: Slug, path: string, overrides?: Slug): string {
  return `from ${slug.name} (${path})${overrides ? `, overriding ${overrides.name}` : ""}`;
}

export function receivedLines(plan: Pick<JobPlan, "env" | "files">, credentials: GitCredential[]): string[] {
  return [
    ...plan.env.map((variable) => `variable ${variable.name} ${origin(variable.slug, variable.path, variable.overrides)}`),
    ...plan.files.map((file) => `file     ${file.name} ${origin(file.slug, file.path, file.overrides)}`),
    ...credentials.map(
      (credential) =>
        `git credential for ${credential.protocol}://${credential.host}${credential.path ? `/${credential.path}` : ""} from line ${credential.line} of ${credential.parameter}`,
    ),
  ];
}
