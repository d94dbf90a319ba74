// doctor's report, as pure functions of what the command gathered: the
// configuration and where each setting came from, the job it imagines, each
// slug's read and access decision, the plan (what the job would get), and the
// machine's facts. Each section is a list of items with a status; the report
// is rendered as tables or as JSON from the same items. Names only, never a value.
import { SETTINGS, type Config, type SettingName } from "../../job/config.ts";
import type { UnknownVariable } from "../../job/variables.ts";
import type { MachineFacts } from "./machine.ts";
import { ALLOWED_NAMES_SETTING } from "../../job/names.ts";
import type { JobCredentials } from "../../secrets/gitcredentials.ts";
import type { KeyPlan } from "../../ssh/keys.ts";
import { colors, renderTable, type Column, type Tone } from "../output.ts";
import { printable } from "../../core/log.ts";
import { CAUSES, causeCount, failingByCause, groupByCause, MACHINE_TITLE, storeErrorCause } from "./causes.ts";
import type { EnvAssignment, FileAssignment, JobPlan } from "../../job/plan.ts";
import { repositorySlug, type Slug } from "../../job/slug.ts";

/** One line of a section. `detail`, the last column, says why; a failing item's detail says what to do, its `cause` (if not its section's) what to fix. */
export type Item = { status: Tone; detail: string; cause?: string } & Record<string, string>;

export interface Section {
  title: string;
  /** The item fields shown, after `status` and before `detail`. */
  columns: Column[];
  items: Item[];
  /** What an empty section means. */
  empty: string;
}

export interface DoctorReport {
  /** True only when a job would succeed. */
  ok: boolean;
  verdict: string;
  /** Every failing item's detail. */
  problems: string[];
  /** The same problems grouped by what causes them, so one fix is read once. */
  causes: Array<{ cause: string; problems: string[] }>;
  sections: Section[];
}

/** A setting of the imagined job and where it came from (a flag, a variable, or nowhere). */
export interface JobFact<T> {
  value: T;
  from: string;
}

export interface JobFacts {
  pipeline: JobFact<string>;
  repository: JobFact<string>;
  teams: JobFact<string[]>;
  source: JobFact<string>;
}

/** A slug as doctor read it: its parameters were read, or the read failed. */
export interface SlugOutcome {
  slug: Slug;
  path: string;
  /** The explained failure (a StoreError's message), when the read failed. */
  error?: string;
  /** The StoreError's code (AccessDeniedException, CredentialsProviderError, Timeout...), to group the failure by cause. */
  code?: string;
}

export interface DoctorInput {
  config: Config;
  /**
   * `old`: the Python hook's settings file, read because there is no defaults
   * file yet. `otherThanHooks`: the agent's installed hooks record another
   * (`hooksRead`), and BK_SSM_SECRETS_DEFAULTS_FILE chose this one or not.
   */
  defaultsFile: { path: string; present: boolean; old: boolean; otherThanHooks?: { hooksRead: string; byVariable: boolean } };
  unknownVariables: UnknownVariable[];
  /** Why the job would get nothing at all, when it would. */
  nothingFound?: string;
  job: JobFacts;
  outcomes: SlugOutcome[];
  /** The plan of the slugs that were read, its Secrets Manager references resolved. */
  plan: JobPlan;
  /** Why the plan's Secrets Manager references cannot be resolved, when they cannot. */
  referenceProblem?: string;
  /** The deploy keys, planned as the environment phase plans them, from the slugs' keys and the global keys read. */
  keys: KeyPlan;
  /** Why AWS_PARAMSTORE_SECRETS_GLOBAL_SSH could not be read, when it could not, and the error's code. */
  globalKeysError?: string;
  globalKeysCode?: string;
  /** The plan's git-credentials, parsed as the environment phase parses them. */
  credentials: JobCredentials;
  machine: MachineFacts;
  /** A workstation: no checks of the agent's hooks, programs and binary, only of its AWS access. */
  short?: boolean;
}

const item = (status: Tone, fields: Record<string, string>, detail: string): Item => ({ status, ...fields, detail });

export function buildReport(input: DoctorInput): DoctorReport {
  const sections = [
    configurationSection(input.config, input.defaultsFile, input.unknownVariables),
    jobSection(input.job),
    slugSection(input.outcomes, input.plan, input.nothingFound),
    variableSection(input),
    fileSection(input),
    keySection(input),
    credentialSection(input),
    skippedSection(input.plan),
    machineSection(input.machine, input.keys.agents.length > 0, input.short ?? false),
  ];
  const failing = failingByCause(sections);
  const problems = failing.map((entry) => entry.detail);
  const warnings = sections.reduce((count, section) => count + section.items.filter((entry) => entry.status === "warn").length, 0);
  const pipeline = input.job.pipeline.value;
  const job = pipeline ? `a job of pipeline ${pipeline}` : "a job";
  const [open, gets] = [input.plan.misnamedAccessLists.length, `get ${received(input)} from ${plural(input.outcomes.length, "slug")}`]; // open: misnamed access lists, problems that leave a slug open rather than stop the job
  // A report on settings the agent's jobs do not use judges no job of this agent: said so, rather than that the job would fail.
  const other = input.defaultsFile.otherThanHooks;
  const unjudged = other && !other.byVariable ? 1 : 0;
  const verdict = problems.length > open + unjudged ? `${job} would fail: ${plural(problems.length, "problem")}${causeCount(failing)}`
    : unjudged ? `${job} was not checked: doctor read another defaults file than the agent's hooks, which read ${other!.hooksRead}`
    : open ? `${job} would ${gets}, but ${plural(open, "misnamed access list")} restrict${open === 1 ? "s" : ""} nobody: fix ${open === 1 ? "it" : "them"}`
    : `${job} would succeed and ${gets}${warnings ? ` (${plural(warnings, "warning")})` : ""}`;
  return { ok: problems.length === 0, verdict, problems, causes: groupByCause(failing), sections };
}

/** "3 variables", then whichever of files, keys and git hosts the job gets. */
function received({ plan, keys, credentials }: DoctorInput): string {
  const keyCount = keys.agents.reduce((count, agent) => count + agent.keys.length, 0);
  const hosts = gitHosts(credentials).size;
  const parts = [
    plural(plan.env.length, "variable"),
    ...(plan.files.length ? [plural(plan.files.length, "secret file")] : []),
    ...(keyCount ? [plural(keyCount, "deploy key")] : []),
    ...(hosts ? [`git credentials for ${plural(hosts, "host")}`] : []),
  ];
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0]!;
}

/** Each parameter's hosts (`https://host`), in the order the credentials are listed. */
function gitHosts(credentials: JobCredentials): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const credential of credentials.credentials) {
    const url = `${credential.protocol}://${credential.host}`;
    const parameters = hosts.get(url) ?? [];
    if (!parameters.includes(credential.parameter)) parameters.push(credential.parameter);
    hosts.set(url, parameters);
  }
  return hosts;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** A setting's value as the job sees it, resolved. */
function settingValue(config: Config, name: SettingName): string {
  switch (name) {
    case "basePath":
      return config.basePath || "/";
    case "globalSsh":
      return config.globalSshKeys.join(":") || "(none)";
    case "timeoutSeconds":
      return `${config.timeoutMs / 1000} s`;
    default: {
      const value = (config as unknown as Record<string, unknown>)[name];
      return typeof value === "boolean" ? (value ? "1" : "0") : String(value ?? "");
    }
  }
}

export function configurationSection(config: Config, defaultsFile: DoctorInput["defaultsFile"], unknown: UnknownVariable[]): Section {
  const settings = (Object.keys(SETTINGS) as SettingName[]).map((name) =>
    item("ok", { setting: SETTINGS[name].variable, value: settingValue(config, name) }, config.sources[name]),
  );
  const other = defaultsFile.otherThanHooks;
  // Chosen on purpose, another file is a question the operator asked; by default, it makes the whole report about settings no job uses.
  const [status, detail]: [Tone, string] = other
    ? [
        other.byVariable ? "warn" : "fail",
        `the agent's hooks record ${other.hooksRead} as the defaults file they read, not this one: if only root can write that file and the agent's hooks, set BK_SSM_SECRETS_DEFAULTS_FILE to it to check the agent's settings (doctor does not follow the record, which the agent's user may be able to change)`,
      ]
    : !defaultsFile.present
      ? ["info", "absent: the environment and built-in defaults apply"]
      : defaultsFile.old
        ? ["warn", "the Python hook's settings, read because there is no defaults file yet: bk-ssm-secrets install writes one from them"]
        : ["ok", "present"];
  const allowed = item(config.allowedNames.size ? "ok" : "info", { setting: ALLOWED_NAMES_SETTING, value: [...config.allowedNames].join(" ") }, config.allowedNames.size ? "defaults file: secrets may set these protected names" : "none: secrets may set no protected name");
  return {
    title: "Configuration",
    columns: [
      { key: "setting", title: "SETTING" },
      { key: "value", title: "VALUE" },
    ],
    items: [...settings, allowed, { ...item(status, { setting: "defaults file", value: defaultsFile.path }, detail), ...(status === "fail" ? { cause: CAUSES.settings } : {}) }, ...unknown.map((entry) => ({ ...item("fail", { setting: entry.variable, value: "" }, entry.message), cause: CAUSES.settings }))],
    empty: "",
  };
}

/** A repository URL without its user part, which may hold a token. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/]*@/, "$1"); // to the last @ before the host, as for slugs
}

export function jobSection(job: JobFacts): Section {
  const { pipeline, repository, teams, source } = job;
  const repositoryItem = !repository.value
    ? item("info", { field: "repository", value: "" }, "none: no repository slug is read")
    : repositorySlug(repository.value)
      ? item("ok", { field: "repository", value: withoutCredentials(repository.value) }, repository.from)
      : item("warn", { field: "repository", value: "(not shown)" }, `${repository.from} is not a repository URL this hook understands: no repository slug is read`);
  return {
    title: "Job",
    columns: [
      { key: "field", title: "FIELD" },
      { key: "value", title: "VALUE" },
    ],
    items: [
      pipeline.value
        ? item("ok", { field: "pipeline", value: pipeline.value }, pipeline.from)
        : item("warn", { field: "pipeline", value: "" }, "none: pass --pipeline or set BUILDKITE_PIPELINE_SLUG; no pipeline slug is read"),
      repositoryItem,
      item("ok", { field: "teams", value: teams.value.join(":") }, teams.value.length ? teams.from : `none (${teams.from})`),
      item("ok", { field: "source", value: source.value }, source.value ? source.from : `none (${source.from})`),
    ],
    empty: "",
  };
}

export function slugSection(outcomes: SlugOutcome[], plan: JobPlan, nothingFound?: string): Section {
  const nothing = nothingFound !== undefined ? [{ ...item("fail", { kind: "", slug: "", path: "", access: "" }, nothingFound), cause: CAUSES.settings }] : [];
  return {
    title: "Slugs, in the order read (later ones override earlier ones)",
    columns: [
      { key: "kind", title: "KIND" },
      { key: "slug", title: "SLUG" },
      { key: "path", title: "PATH" },
      { key: "access", title: "ACCESS" },
    ],
    items: outcomes.map((outcome) => {
      const fields = { kind: outcome.slug.kind, slug: outcome.slug.name, path: outcome.path };
      if (outcome.error !== undefined) return { ...item("fail", { ...fields, access: "unreadable" }, outcome.error), cause: storeErrorCause(outcome.code) };
      const access = plan.access.find((entry) => entry.path === outcome.path);
      if (!access) return item("info", { ...fields, access: "" }, "");
      return access.decision.allowed
        ? item("ok", { ...fields, access: "allowed" }, access.decision.reason)
        : item("fail", { ...fields, access: "denied" }, `access to slug ${outcome.slug.name} denied: ${access.decision.reason}`);
    }).concat(nothing),
    empty: "no slugs",
  };
}

/** True when the environment phase would stop before giving the job anything. */
function jobFails({ plan, outcomes, keys, globalKeysError, referenceProblem }: DoctorInput): boolean {
  return plan.denial !== undefined || referenceProblem !== undefined || outcomes.some((outcome) => outcome.error !== undefined) || keys.problem !== undefined || globalKeysError !== undefined;
}

const NOTHING = "none: the job would fail before exporting anything (see the problems below)";

/** Variables or secret files: one item per name the job would get, unless the job would fail. */
function assignmentSection(input: DoctorInput, title: string, assignments: Array<EnvAssignment | FileAssignment>, detail: (assignment: EnvAssignment | FileAssignment) => string[]): Section {
  const fails = jobFails(input);
  return {
    title,
    columns: [
      { key: "name", title: "NAME" },
      { key: "slug", title: "SLUG" },
      { key: "parameter", title: "PARAMETER" },
    ],
    items: fails
      ? []
      : assignments.map((assignment) => {
          const overrides = assignment.overrides ? [`overrides slug ${assignment.overrides.name}`] : [];
          return item("ok", { name: assignment.name, slug: assignment.slug.name, parameter: assignment.path }, [...detail(assignment), ...overrides].join("; "));
        }),
    empty: fails ? NOTHING : "none",
  };
}

export function variableSection(input: DoctorInput): Section {
  const section = assignmentSection(input, "Variables the job would get (names only)", input.plan.env, (assignment) => ("secret" in assignment && assignment.secret ? [`from ${assignment.secret}`] : []));
  if (input.referenceProblem !== undefined) section.items.push(note("fail", section.columns, input.referenceProblem));
  return section;
}

export function fileSection(input: DoctorInput): Section {
  return assignmentSection(input, "Secret files the job would get (names only)", input.plan.files, (file) => [`a 0600 file, its path in ${file.name}`]);
}

/** A warning or failure in a section with columns: the columns stay empty. */
function note(status: Tone, columns: Column[], detail: string): Item {
  return item(status, Object.fromEntries(columns.map((column) => [column.key, ""])), detail);
}

const AGENT_NAMES = { slug: "slug agent", default: "default agent" } as const;

export function keySection(input: DoctorInput): Section {
  const { keys, globalKeysError, globalKeysCode, plan } = input;
  const columns: Column[] = [
    { key: "parameter", title: "PARAMETER" },
    { key: "origin", title: "FROM" },
    { key: "agent", title: "AGENT" },
  ];
  const denied = plan.denial !== undefined || input.outcomes.some((outcome) => outcome.error !== undefined);
  const items: Item[] = [];
  if (globalKeysError !== undefined) items.push({ ...note("fail", columns, globalKeysError), cause: storeErrorCause(globalKeysCode) });
  else if (!denied) {
    items.push(...keys.warnings.map((warning) => note("warn", columns, warning)));
    if (keys.problem) items.push(note("fail", columns, keys.problem));
    else {
      for (const agent of keys.agents) {
        agent.keys.forEach((key, index) => {
          const order = agent.keys.length > 1 ? (index === 0 ? "offered first" : `offered after ${agent.keys[index - 1]!.path}`) : "";
          items.push(item("ok", { parameter: key.path, origin: key.origin, agent: AGENT_NAMES[agent.role] }, order));
        });
      }
    }
  }
  return {
    title: "Deploy keys the job would load (names only)",
    columns,
    items,
    empty: denied ? NOTHING : "none",
  };
}

export function credentialSection(input: DoctorInput): Section {
  const fails = jobFails(input);
  const columns: Column[] = [
    { key: "host", title: "HOST" },
    { key: "parameter", title: "PARAMETER" },
    { key: "slug", title: "SLUG" },
  ];
  const slugOf = new Map(input.plan.gitCredentials.map((parameter) => [parameter.path, parameter.slug.name]));
  const hosts = [...gitHosts(input.credentials)].map(([host, parameters]) =>
    item("ok", { host, parameter: parameters[0]!, slug: slugOf.get(parameters[0]!) ?? "" }, parameters.length > 1 ? `also in ${parameters.slice(1).join(", ")}, which it overrides` : "git's credential helper answers for it"),
  );
  return {
    title: "Git credentials the job would get (hosts only, never tokens)",
    columns,
    items: fails ? [] : [...input.credentials.warnings.map((warning) => note("warn", columns, warning)), ...hosts],
    empty: fails ? NOTHING : "none",
  };
}

export function skippedSection(plan: JobPlan): Section {
  return {
    title: "Parameters the job would skip",
    columns: [],
    items: [...plan.misnamedAccessLists.map((problem) => ({ ...item("fail", {}, problem), cause: CAUSES.access })), ...plan.warnings.map((warning) => item("warn", {}, warning)), ...plan.ignored.map((name) => item("info", {}, `${name}: not a variable, file, deploy key, git-credentials or access list, so the hooks do not use it`))],
    empty: "none",
  };
}

/** The SDK's credential features, by the provider they name, as an operator knows them. */
const CREDENTIAL_SOURCES: Array<[RegExp, (env: { profile: string }) => string]> = [
  [/WEB_ID/, () => "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)"],
  [/SSO/, ({ profile }) => `AWS IAM Identity Center (SSO) through profile ${profile}`],
  [/PROCESS/, ({ profile }) => `credential_process of profile ${profile}`],
  [/PROFILE|LOGIN|BOTO2/, ({ profile }) => `profile ${profile} in the AWS config files`],
  [/ENV_VARS/, () => "environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"],
  [/HTTP/, () => "container credentials endpoint (ECS or EKS)"],
  [/IMDS/, () => "EC2 instance profile (instance metadata)"],
];

export function credentialSource(features: string[], profile: string): string {
  for (const [pattern, describe] of CREDENTIAL_SOURCES) {
    if (features.some((feature) => pattern.test(feature))) return describe({ profile: profile || "default" });
  }
  return "the AWS SDK's default credential chain";
}

const COLUMNS_CHECK: Column[] = [{ key: "check", title: "CHECK" }, { key: "value", title: "VALUE" }];

/** The machine's checks; `short` (a workstation) keeps only its AWS access, since the agent's hooks and programs are elsewhere. */
export function machineSection(machine: MachineFacts, hasKeys: boolean, short = false): Section {
  const check = (status: Tone, name: string, value: string, detail: string) => item(status, { check: name, value }, detail);
  const items: Item[] = [
    machine.region
      ? check("ok", "AWS region", machine.region, `from ${machine.regionFrom}`)
      : check("fail", "AWS region", "", machine.regionError ?? "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)"),
    machine.credentialFeatures
      ? check("ok", "AWS credentials", "found", `from ${credentialSource(machine.credentialFeatures, machine.profile)}`)
      : check("fail", "AWS credentials", "missing", machine.credentialsError ?? "no AWS credentials found"),
  ].map((entry) => (entry.status === "fail" ? { ...entry, cause: CAUSES.aws } : entry));
  if (machine.endpoint) items.push(check("info", "SSM endpoint", machine.endpoint, "from AWS_ENDPOINT_URL_SSM"));
  if (short) return { title: `${MACHINE_TITLE}: AWS access only (workstation mode: the agent's hooks, programs and binary are not checked; doctor --full checks them)`, columns: COLUMNS_CHECK, items, empty: "" };

  for (const [program, path] of Object.entries(machine.programs)) {
    if (path) {
      items.push(check("ok", program, path, "on PATH"));
    } else if (program === "git") {
      items.push(check("fail", program, "", "git is not on PATH: the job cannot check out; install git on the agent"));
    } else {
      const why = hasKeys ? "the job has deploy keys to load" : "needed for jobs with deploy keys";
      items.push(check(hasKeys ? "fail" : "warn", program, "", `${program} is not on PATH (${why}): install the OpenSSH client on the agent`));
    }
  }
  // An enabled hook that cannot find the binary fails the job; a disabled one does nothing.
  const noBinary: Tone = machine.enabled ? "fail" : "warn";
  const binary = (status: Tone, value: string, detail: string) => check(status, "bk-ssm-secrets", value, detail);
  const recorded = machine.recordedBinary ? ", as bk-ssm-secrets install recorded it" : "";
  items.push(
    machine.binary
      ? binary("ok", machine.binary, `the binary the hooks run${recorded}`)
      : machine.recordedBinary
        ? binary(noBinary, machine.recordedBinary, `the hooks run this binary${recorded}, and it does not exist: put the binary back there, or install the hooks again (with the flags they were installed with) from the binary they should run`)
        : machine.binaryVariable
          ? binary(noBinary, machine.binaryVariable, "BK_SSM_SECRETS_BIN names a file that does not exist: the hooks cannot run it")
          : binary(noBinary, "", "not on PATH and BK_SSM_SECRETS_BIN is not set: the hooks cannot find the binary; install it (see the README)"),
    machine.enabled
      ? check("ok", "hooks enabled", "AWS_SSM_SECRETS_PLUGIN_ENABLED=1", "")
      : check("warn", "hooks enabled", "", "AWS_SSM_SECRETS_PLUGIN_ENABLED is not 1 here: on the agent, the hooks do nothing unless it is (the Elastic CI Stack sets it in /var/lib/buildkite-agent/cfn-env)"),
  );
  for (const hook of machine.hooks) {
    const path = `${machine.hooksDir}/${hook.name}`;
    const name = `${hook.name} hook`;
    switch (hook.state) {
      case "installed":
        items.push(check("ok", name, path, `runs ${hook.script}`));
        break;
      case "broken":
        // `source` of a missing script fails the agent's hook, and with it every job.
        items.push(check("fail", name, path, `its bk-ssm-secrets block runs ${hook.script}, but ${hook.absent.join(" and ")} does not exist: run bk-ssm-secrets install again, with the flags it was installed with (it rewrites the defaults file from them)`));
        break;
      default: {
        const what = hook.state === "missing" ? "does not exist" : "has no bk-ssm-secrets block";
        items.push(check("warn", name, path, `${what}: jobs on this agent do not get what this hook does; run bk-ssm-secrets install (hooks directory: BUILDKITE_HOOKS_PATH)`));
      }
    }
    if (hook.oldHookLines.length) items.push(check("fail", `Python hook in ${hook.name}`, `${path} line${hook.oldHookLines.length === 1 ? "" : "s"} ${hook.oldHookLines.join(", ")}`, "the Python hook (aws-paramstore-secrets) still runs here too: run bk-ssm-secrets install, which switches its blocks off (--uninstall puts them back)"));
  }
  return { title: MACHINE_TITLE, columns: COLUMNS_CHECK, items, empty: "" };
}

const STATUS_COLUMN: Column = { key: "status", title: "STATUS" };
const DETAIL_COLUMN: Column = { key: "detail", title: "DETAIL" };

export function renderReport(report: DoctorReport, options: { color: boolean }): string {
  const c = colors(options.color);
  const parts = report.sections.map((section) => {
    const title = `${c.bold(section.title)}\n`;
    if (section.items.length === 0) return `${title}  ${printable(section.empty)}\n`;
    return title + renderTable([STATUS_COLUMN, ...section.columns, DETAIL_COLUMN], section.items, { color: options.color, indent: "  " });
  });
  const verdict = report.ok ? c.green(`OK: ${printable(report.verdict)}`) : c.red(`FAIL: ${printable(report.verdict)}`);
  // One heading per cause, so problems that share a fix (no credentials: every slug unreadable) are read together.
  const problems = report.causes.map(({ cause, problems }) => `  ${c.bold(`${cause}:`)}\n${problems.map((problem) => `  - ${printable(problem)}\n`).join("")}`).join("");
  return `${parts.join("\n")}\n${c.bold(verdict)}\n${problems}`;
}
