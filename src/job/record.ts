// Where a job's record lives and what it holds, and whether a job has one:
// no module with it, so that pre-exit can tell without loading node:fs (see
// ../core/files.ts). Reading, checking and writing a record is state.ts's.
import { onlyLettersDigitsAnd } from "../core/chars.ts";
import type { AwsSettings } from "../ssm/settings.ts";

/** What the helper may read, and the AWS settings the environment phase read SSM with. */
export interface GitGrant {
  parameters: string[];
  aws: AwsSettings;
}

export interface JobRecord {
  /** Directories for the job's ssh-agent sockets, each recorded before it is made. */
  agentDirectories: string[];
  /** The agents' sockets, recorded before each agent starts: an agent is found by its socket. */
  sockets: string[];
  /** Directories of the job's secret files, each recorded before it is made. */
  filesDirectories: string[];
  grant?: GitGrant;
}

/** A job's record before the environment phase wrote one. */
export const EMPTY_RECORD: Readonly<JobRecord> = Object.freeze({ agentDirectories: [], sockets: [], filesDirectories: [] });

/** A job id as Buildkite makes them (a UUID), and nothing that could leave the records directory: 1-64 letters, digits or `-`. Written out: pre-exit then runs no regular expression at all, whose first one costs ~0.5 ms. */
function isJobId(id: string): boolean {
  return id.length >= 1 && id.length <= 64 && onlyLettersDigitsAnd(id, "-");
}

/** The agent user's own directory of job records: fixed, so a job's TMPDIR cannot move it. */
export function recordsDirectory(uid = process.getuid?.() ?? 0): string {
  return `/tmp/bk-ssm-secrets-jobs-${uid}`;
}

/** The record's path for a job, or undefined without a usable BUILDKITE_JOB_ID. The directory is used as given, with no join (node:path costs pre-exit ~1.3 ms): recordsDirectory() is normalised. */
export function jobRecordPath(jobId: string | undefined, directory = recordsDirectory()): string | undefined {
  return jobId && isJobId(jobId) ? `${directory}/${jobId}.json` : undefined;
}

/**
 * Whether the job may have a record, answered by one stat and no module: a
 * record is never empty, so a size of 0 means none there, or none this user
 * may see. Most jobs never write one; a job that did has it read and checked
 * by state.ts's readJobRecord.
 */
export function mayHaveJobRecord(path: string): boolean {
  return Bun.file(path).size > 0;
}
