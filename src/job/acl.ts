// Access lists, exactly as the original hook judged them. A slug may hold
// `allowed_pipelines` and `allowed_teams`; when one exists, the job must be
// on it, or the whole job fails.

export interface JobIdentity {
  pipeline: string;
  /** Union of the build creator's and the unblocker's teams. */
  teams: string[];
  /** BUILDKITE_SOURCE: ui, api, webhook, schedule, trigger_job... */
  source: string;
}

export interface AccessLists {
  allowedPipelines?: string[];
  allowedTeams?: string[];
}

export type AccessDecision = { allowed: boolean; reason: string };

function splitTeams(value: string | undefined): string[] {
  return (value ?? "").split(":").map((team) => team.trim()).filter(Boolean);
}

export function jobIdentity(env: Record<string, string | undefined>): JobIdentity {
  const teams = new Set([...splitTeams(env.BUILDKITE_BUILD_CREATOR_TEAMS), ...splitTeams(env.BUILDKITE_UNBLOCKER_TEAMS)]);
  return {
    pipeline: env.BUILDKITE_PIPELINE_SLUG ?? "",
    teams: [...teams],
    source: env.BUILDKITE_SOURCE ?? "",
  };
}

/** One name per line; a StringList holds them comma-separated. Blank entries are dropped. */
export function parseAccessList(value: string, type: string): string[] {
  const separator = type === "StringList" ? /[,\n]/ : /\n/;
  return value.split(separator).map((entry) => entry.trim()).filter(Boolean);
}

export function decideAccess(lists: AccessLists, job: JobIdentity): AccessDecision {
  const reasons: string[] = [];
  if (lists.allowedPipelines) {
    if (!lists.allowedPipelines.includes(job.pipeline)) {
      return { allowed: false, reason: `pipeline ${JSON.stringify(job.pipeline)} is not in allowed_pipelines` };
    }
    reasons.push(`pipeline ${job.pipeline} is in allowed_pipelines`);
  }
  if (lists.allowedTeams) {
    if (job.teams.length === 0 && job.source === "schedule") {
      // Creating a scheduled build needs full access to the pipeline, so the
      // original hook trusted a scheduled build that carries no teams.
      reasons.push("scheduled build without teams");
    } else {
      const allowed = new Set(lists.allowedTeams);
      const shared = job.teams.filter((team) => allowed.has(team));
      if (shared.length === 0) {
        const reason = job.teams.length
          ? `none of the build's teams (${job.teams.join(", ")}) is in allowed_teams`
          : "the build carries no teams (BUILDKITE_BUILD_CREATOR_TEAMS, BUILDKITE_UNBLOCKER_TEAMS) and allowed_teams requires one";
        return { allowed: false, reason };
      }
      reasons.push(`team ${shared[0]} is in allowed_teams`);
    }
  }
  return { allowed: true, reason: reasons.length ? reasons.join("; ") : "no access list" };
}
