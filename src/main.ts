// bk-ssm-secrets: one binary, one subcommand per hook phase. A phase prints
// shell code on stdout for its hook to eval, and logs on stderr. Each
// subcommand's module is imported only when it runs, so the AWS SDK is loaded
// by the phases that talk to AWS and by no others. The operator commands
// (doctor, ls, put, rm) print a report or table on stdout instead.
import type { CommandResult } from "./commands/operator.ts";
import type { PhaseContext } from "./job/context.ts";
import { unlessInterrupted } from "./core/interrupt.ts";
import { writeAll } from "./core/stdio.ts";
import { COMMIT, TARGET, VERSION } from "./core/version.ts";

interface Phase {
  run(context: PhaseContext): Promise<string>;
}

/** Write the payload, all of it, and exit. */
function emit(payload: string, status = 0): never {
  writeAll(1, payload);
  process.exit(status);
}

/** Errors the operator can act on from their message alone; anything else is a bug, and its stack helps. */
const EXPECTED_ERRORS = ["JobError", "ConfigError", "StoreError", "CACError", "UsageError"];

function fail(error: unknown, code: number): never {
  const message = error instanceof Error ? error.message : String(error);
  writeAll(2, `+++ :no_entry: bk-ssm-secrets: ${message}\n`);
  if (error instanceof Error && !EXPECTED_ERRORS.includes(error.name) && error.stack) writeAll(2, `${error.stack}\n`);
  process.exit(code);
}

async function runPhase(load: () => Promise<Phase>): Promise<void> {
  try {
    const { phaseContext } = await import("./job/context.ts");
    const context = phaseContext();
    const script = await (await load()).run(context);
    await unlessInterrupted();
    emit(script);
  } catch (error) {
    await unlessInterrupted();
    fail(error, 1);
  }
}

/** Run an operator command: its output on stdout, its status as the exit status; bad usage exits 2. */
async function runCommand(run: (context: PhaseContext) => Promise<CommandResult>): Promise<void> {
  try {
    const { phaseContext } = await import("./job/context.ts");
    const result = await run(phaseContext());
    emit(result.output, result.status);
  } catch (error) {
    fail(error, error instanceof Error && error.name === "UsageError" ? 2 : 1);
  }
}

/**
 * The last value given for `--name`, as typed. cac's parser turns values that
 * look like numbers into numbers ("007" into 7, "" into 0), which would change
 * a pipeline slug or empty a team list, so text options are read here; cac
 * still declares and validates them.
 */
function textOption(name: string): string | undefined {
  const args = process.argv.slice(2);
  let value: string | undefined;
  for (let i = 0; i < args.length && args[i] !== "--"; i++) {
    const arg = args[i]!;
    if (arg === `--${name}`) value = args[++i];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  }
  return value;
}

type CliFlags = Record<string, unknown>;
// Positional arguments are text unless they follow a boolean flag (`--yes 2024`).
const optionalText = (value: unknown): string | undefined => (value === undefined ? undefined : String(value));

function targetFlags(flags: CliFlags) {
  return { pipeline: textOption("pipeline"), repo: textOption("repo"), global: Boolean(flags.global) };
}

/** The hook phases: each prints shell code for its hook to eval. */
const PHASES: Array<[name: string, description: string, load: () => Promise<Phase>]> = [
  ["environment", "Load the job's secrets and deploy keys from SSM (environment hook)", () => import("./phases/environment.ts")],
  ["pre-checkout", "Switch to the slug's ssh-agent when its key reaches the repository (pre-checkout hook)", () => import("./phases/pre-checkout.ts")],
  ["post-checkout", "Go back to the job's previous ssh-agent (post-checkout hook)", () => import("./phases/post-checkout.ts")],
  ["post-command", "Go back to the job's previous ssh-agent when it was kept through the command (post-command hook)", () => import("./phases/post-command.ts")],
  ["pre-exit", "Stop the job's ssh-agents and clean up (pre-exit hook)", () => import("./phases/pre-exit.ts")],
];
// A hook phase or --version alone, as the hooks and scripts call them, skips
// the CLI framework: nothing is loaded that the phase does not use.
const [first, ...more] = process.argv.slice(2);
const phase = more.length === 0 ? PHASES.find(([name]) => name === first) : undefined;
if (phase) await runPhase(phase[2]);
if (more.length === 0 && (first === "--version" || first === "-v")) emit(`${VERSION}\n`);

const { cac } = await import("cac");
const cli = cac("bk-ssm-secrets");

const withTarget = <T extends ReturnType<typeof cli.command>>(command: T): T =>
  command
    .option("--pipeline <slug>", "The pipeline slug")
    .option("--repo <url>", "The repository URL (its slug is computed)")
    .option("--global", "The default slug every pipeline reads") as T;

for (const [name, description, load] of PHASES) cli.command(name, `${description}; prints shell code to eval`).action(() => runPhase(load));

cli
  .command("install", "Install the hooks: the hook scripts, the defaults file, and a block in each of the agent's hooks that runs ours")
  .option("--hooks-dir <dir>", "The agent's hooks directory (default: /etc/buildkite-agent/hooks)")
  .option("--install-dir <dir>", "Where the hook scripts go (default: /usr/local/lib/bk-ssm-secrets)")
  .option("--defaults-file <file>", "The defaults file (default: BK_SSM_SECRETS_DEFAULTS_FILE or /etc/bk-ssm-secrets/defaults.env)")
  .option("--base-path <path>", "AWS_PARAMSTORE_SECRETS_SECRETS_PATH for the defaults file (else AWS_PARAMSTORE_SECRETS_PATH)")
  .option("--default-key <slug>", "AWS_PARAMSTORE_SECRETS_DEFAULT_KEY for the defaults file")
  .option("--global-ssh <names>", "AWS_PARAMSTORE_SECRETS_GLOBAL_SSH for the defaults file: ':'-separated SSM names")
  .option("--uninstall", "Remove exactly what the install added")
  .example("bk-ssm-secrets install --base-path /vendors/buildkite --global-ssh /vendors/buildkite/keys/deploy")
  .action(async (options: Record<string, unknown>) => {
    try {
      const { install } = await import("./commands/install.ts");
      emit(
        install(
          {
            hooksDir: textOption("hooks-dir"),
            installDir: textOption("install-dir"),
            defaultsFile: textOption("defaults-file"),
            basePath: textOption("base-path"),
            defaultKey: textOption("default-key"),
            globalSsh: textOption("global-ssh"),
            uninstall: Boolean(options.uninstall),
          },
          process.env,
        ),
      );
    } catch (error) {
      fail(error, 1);
    }
  });

cli
  .command("git-credential <operation>", "git's credential helper (get, store, erase): answers from the job's git-credentials in SSM")
  .option("--parameter <name>", "A git-credentials parameter to read (repeatable, most important first)")
  .action((operation: string, options: { parameter?: string | string[] }) =>
    runPhase(async () => {
      const helper = await import("./phases/git-credential.ts");
      const parameters = [options.parameter ?? []].flat();
      return { run: (context) => helper.run(context, operation, parameters) };
    }),
  );

cli
  .command("slug <repository-url>", "Print the repository slug of a URL: where its secrets live in the tree")
  .example("bk-ssm-secrets slug git@github.com:acme/app.git   # github.com_acme_app.git")
  .action(async (url: string) => {
    const { repositorySlug } = await import("./job/slug.ts");
    const slug = repositorySlug(url);
    if (!slug) fail(`cannot compute a slug: ${JSON.stringify(url)} is not a repository URL git understands`, 2);
    emit(`${slug}\n`);
  });

cli
  .command("doctor", "Show what a job would get, and why, without printing a value; exit 0 only if the job would succeed")
  .option("--pipeline <slug>", "The job's pipeline slug (default: BUILDKITE_PIPELINE_SLUG)")
  .option("--repo <url>", "The job's repository URL (default: BUILDKITE_REPO)")
  .option("--teams <teams>", "The build's teams, T1:T2 (default: BUILDKITE_BUILD_CREATOR_TEAMS and BUILDKITE_UNBLOCKER_TEAMS)")
  .option("--source <source>", "The build's source, e.g. schedule (default: BUILDKITE_SOURCE)")
  .option("--json", "Print the report as JSON")
  .example("bk-ssm-secrets doctor --pipeline app --repo git@github.com:acme/app.git --teams dev")
  .action((flags: CliFlags) =>
    runCommand(async (context) =>
      (await import("./commands/doctor.ts")).run(context, {
        pipeline: textOption("pipeline"),
        repo: textOption("repo"),
        teams: textOption("teams"),
        source: textOption("source"),
        json: Boolean(flags.json),
      }),
    ),
  );

withTarget(cli.command("ls", "List a slug's parameters: names, types, versions and dates, never values"))
  .option("--json", "Print the listing as JSON")
  .example("bk-ssm-secrets ls --repo git@github.com:acme/app.git")
  .action((flags: CliFlags) => runCommand(async (context) => (await import("./commands/ls.ts")).run(context, { ...targetFlags(flags), json: Boolean(flags.json) })));

withTarget(cli.command("put <kind> [name]", "Store a value from stdin: env NAME, ssh-key [FILE], git-credentials, file NAME, allowed-pipelines, allowed-teams"))
  .option("--kms-key <key>", "Encrypt with this KMS key (id, ARN or alias/NAME) instead of alias/aws/ssm")
  .option("--overwrite", "Replace the parameter if it exists")
  .option("--yes", "Do not ask for confirmation (needed when there is no terminal)")
  .example("printf '%s' \"$TOKEN\" | bk-ssm-secrets put env API_TOKEN --pipeline app")
  .example("bk-ssm-secrets put ssh-key --repo git@github.com:acme/app.git ./deploy_key")
  .action((kind: unknown, name: unknown, flags: CliFlags) =>
    runCommand(async (context) =>
      (await import("./commands/put.ts")).run(context, String(kind), optionalText(name), {
        ...targetFlags(flags),
        kmsKey: textOption("kms-key"),
        overwrite: Boolean(flags.overwrite),
        yes: Boolean(flags.yes),
      }),
    ),
  );

withTarget(cli.command("rm <kind> [name]", "Delete a parameter, named as for put"))
  .option("--yes", "Do not ask for confirmation (needed when there is no terminal)")
  .example("bk-ssm-secrets rm env API_TOKEN --pipeline app")
  .action((kind: unknown, name: unknown, flags: CliFlags) =>
    runCommand(async (context) => (await import("./commands/rm.ts")).run(context, String(kind), optionalText(name), { ...targetFlags(flags), yes: Boolean(flags.yes) })),
  );

cli.command("version", "Print the version, commit and build target").action(() => emit(`bk-ssm-secrets ${VERSION}\ncommit: ${COMMIT}\ntarget: ${TARGET}\n`));

cli.addEventListener("command:*", () => fail(`unknown command ${JSON.stringify(cli.args[0])}: run bk-ssm-secrets --help`, 2));

cli.help();
// Not cac's version(): its line adds the platform and runtime; scripts want the bare version.
cli.option("-v, --version", "Print the version");

try {
  cli.parse();
  if (!cli.matchedCommand && !cli.options.help) {
    if (cli.options.version) emit(`${VERSION}\n`);
    else if (cli.args.length === 0) cli.outputHelp();
  }
} catch (error) {
  // cac reports bad usage (missing argument, unknown option) by throwing.
  fail(error, 2);
}
