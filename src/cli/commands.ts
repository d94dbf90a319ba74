// The full command line: the operator commands, help, and the hook phases
// with options. Loaded only when main.ts's fast path (a phase or --version
// alone, as the hooks call them) does not apply, so cac and this table cost a
// phase nothing.
import { cac } from "cac";
import { UsageError } from "../core/errors.ts";
import { didYouMean, nearest } from "../core/closest.ts";
import { COMMIT, TARGET, VERSION } from "../core/version.ts";
import { KIND_USAGE, valueOnStdinHint } from "../secrets/kinds.ts";
import { emit, fail, PHASES, runCommand, runPhase, textOption, textOptions } from "./run.ts";

const cli = cac("bk-ssm-secrets");

type CliFlags = Record<string, unknown>;
// Positional arguments are text unless they follow a boolean flag (`--yes 2024`).
const optionalText = (value: unknown): string | undefined => (value === undefined ? undefined : String(value));

function targetFlags(flags: CliFlags) {
  return { pipeline: textOption("pipeline"), repo: textOption("repo"), global: Boolean(flags.global) };
}

type CliCommand = ReturnType<typeof cli.command>;
/** Every command that reads or writes the tree takes --base-path, as the hooks take AWS_PARAMSTORE_SECRETS_SECRETS_PATH. */
const withBasePath = <T extends CliCommand>(command: T): T =>
  command.option("--base-path <path>", "The root of the tree (default: AWS_PARAMSTORE_SECRETS_SECRETS_PATH, the defaults file, or /vendors/buildkite)") as T;

const withTarget = <T extends CliCommand>(command: T): T =>
  withBasePath(command)
    .option("--pipeline <slug>", "The pipeline slug")
    .option("--repo <url>", "The repository URL (its slug is computed)")
    .option("--global", "The default slug every pipeline reads") as T;

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
      const { install } = await import("../commands/install.ts");
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
            // The compiled binary; from source there is no one file for the hooks to run.
            binary: Bun.main.startsWith("/$bunfs/") ? process.execPath : undefined,
          },
          process.env,
        ),
      );
    } catch (error) {
      fail(error, 1);
    }
  });

cli
  .command("slug <repository-url>", "Print the repository slug of a URL: where its secrets live in the tree")
  .example("bk-ssm-secrets slug git@github.com:acme/app.git   # github.com_acme_app.git")
  .action(async (url: string) => {
    const { repositorySlug } = await import("../job/slug.ts");
    const slug = repositorySlug(url);
    if (!slug) fail(`cannot compute a slug: ${JSON.stringify(url)} is not a repository URL git understands`, 2);
    emit(`${slug}\n`);
  });

withBasePath(cli.command("doctor", "Show what a job would get, and why, without printing a value; exit 0 only if the job would succeed"))
  .option("--pipeline <slug>", "The job's pipeline slug (default: BUILDKITE_PIPELINE_SLUG)")
  .option("--repo <url>", "The job's repository URL (default: BUILDKITE_REPO)")
  .option("--teams <teams>", "The build's teams, T1:T2 (default: BUILDKITE_BUILD_CREATOR_TEAMS and BUILDKITE_UNBLOCKER_TEAMS)")
  .option("--source <source>", "The build's source, e.g. schedule (default: BUILDKITE_SOURCE)")
  .option("--json", "Print the report as JSON")
  .option("--short", "Workstation mode: check AWS access and the job, not this machine's hooks and programs (the default off an agent)")
  .option("--full", "Also check the agent's hooks, programs and binary (the default on an agent)")
  .example("bk-ssm-secrets doctor --pipeline app --repo git@github.com:acme/app.git --teams dev")
  .action((flags: CliFlags) =>
    runCommand(async (context) =>
      (await import("../commands/doctor.ts")).run(context, {
        pipeline: textOption("pipeline"),
        repo: textOption("repo"),
        teams: textOption("teams"),
        source: textOption("source"),
        json: Boolean(flags.json),
        short: Boolean(flags.short),
        full: Boolean(flags.full),
      }),
    ),
  );

withBasePath(cli.command("exec [...args]", "Run the command after -- with exactly the variables and secret files a job of the pipeline and repository would get (not inside a job)"))
  .option("--pipeline <slug>", "The job's pipeline slug (default: BUILDKITE_PIPELINE_SLUG)")
  .option("--repo <url>", "The job's repository URL (default: BUILDKITE_REPO)")
  .option("--teams <teams>", "The build's teams, T1:T2, for access lists (default: BUILDKITE_BUILD_CREATOR_TEAMS and BUILDKITE_UNBLOCKER_TEAMS)")
  .option("--source <source>", "The build's source, e.g. schedule (default: BUILDKITE_SOURCE)")
  .example("bk-ssm-secrets exec --pipeline app --repo git@github.com:acme/app.git --teams dev -- make deploy")
  .action((args: unknown[], flags: CliFlags) =>
    runCommand(async (context) => {
      // Only what follows `--` is the command: before it, its options would be taken for exec's.
      const command = ((flags["--"] as unknown[] | undefined) ?? []).map(String);
      return (await import("../commands/exec.ts")).run(context, args.length ? [] : command, {
        pipeline: textOption("pipeline"),
        repo: textOption("repo"),
        teams: textOption("teams"),
        source: textOption("source"),
      });
    }),
  );

withTarget(cli.command("ls", "List the tree: its slugs and how many parameters of each kind; with a slug, its parameters' names, types, versions and dates. Never a value; access lists' entries are shown"))
  .option("--json", "Print the listing as JSON")
  .example("bk-ssm-secrets ls")
  .example("bk-ssm-secrets ls --repo git@github.com:acme/app.git")
  .action((flags: CliFlags) => runCommand(async (context) => (await import("../commands/ls.ts")).run(context, { ...targetFlags(flags), json: Boolean(flags.json) })));

withTarget(cli.command("put <kind> [name]", "Store a value from stdin: env NAME, ssh-key [FILE], git-credentials, file NAME, allowed-pipelines, allowed-teams, secretsmanager NAME (a reference), or edit an access list with --add/--remove"))
withTarget(cli.command("put <kind> [name]", "Store a value from stdin: env NAME, ssh-key [FILE], git-credentials, file NAME, allowed-pipelines, allowed-teams, secretsmanager NAME (a reference)"))
  .option("--kms-key <key>", "Encrypt with this KMS key (id, ARN or alias/NAME) instead of alias/aws/ssm")
  .option("--overwrite", "Replace the parameter if it exists")
  .option("--yes", "Do not ask for confirmation (needed when there is no terminal)")
  .option("--add <entry>", "allowed-pipelines/allowed-teams: add this entry to the list (repeatable; no value on stdin)")
  .option("--remove <entry>", "allowed-pipelines/allowed-teams: remove this entry; the last one cannot be removed (rm deletes the list)")
  .example("printf '%s' \"$TOKEN\" | bk-ssm-secrets put env API_TOKEN --pipeline app")
  .example("bk-ssm-secrets put ssh-key --repo git@github.com:acme/app.git ./deploy_key")
  .example("bk-ssm-secrets put allowed-pipelines --repo git@github.com:acme/app.git --add app --add app-deploy")
  .action((kind: unknown, name: unknown, flags: CliFlags) =>
    runCommand(async (context) =>
      (await import("../commands/put.ts")).run(context, String(kind), optionalText(name), {
        ...targetFlags(flags),
        kmsKey: textOption("kms-key"),
        overwrite: Boolean(flags.overwrite),
        yes: Boolean(flags.yes),
        add: textOptions("add"),
        remove: textOptions("remove"),
      }),
    ),
  );

withTarget(cli.command("rm <kind> [name]", "Delete a parameter, named as for put"))
  .option("--yes", "Do not ask for confirmation (needed when there is no terminal)")
  .example("bk-ssm-secrets rm env API_TOKEN --pipeline app")
  .action((kind: unknown, name: unknown, flags: CliFlags) =>
    runCommand(async (context) => (await import("../commands/rm.ts")).run(context, String(kind), optionalText(name), { ...targetFlags(flags), yes: Boolean(flags.yes) })),
  );

withTarget(cli.command("history <kind> [name]", "List a parameter's versions: when, by whom, labels; never a value"))
  .option("--json", "Print the versions as JSON")
  .example("bk-ssm-secrets history env API_TOKEN --pipeline app")
  .action((kind: unknown, name: unknown, flags: CliFlags) =>
    runCommand(async (context) => (await import("../commands/history.ts")).run(context, String(kind), optionalText(name), { ...targetFlags(flags), json: Boolean(flags.json) })),
  );

withTarget(cli.command("rollback <kind> [name]", "Write an older version's value back as the current one, printing no value"))
  .option("--to-version <n>", "The version to bring back (see history)")
  .option("--yes", "Do not ask for confirmation (needed when there is no terminal)")
  .example("bk-ssm-secrets rollback env API_TOKEN --pipeline app --to-version 3")
  .action((kind: unknown, name: unknown, flags: CliFlags) =>
    runCommand(async (context) =>
      (await import("../commands/rollback.ts")).run(context, String(kind), optionalText(name), { ...targetFlags(flags), toVersion: textOption("to-version"), yes: Boolean(flags.yes) }),
    ),
  );

withTarget(cli.command("label <kind> [name]", "Put labels on a version of a parameter (history shows them)"))
  .option("--on-version <n>", "The version to label")
  .option("--label <label>", "A label (repeatable); SSM moves it from any other version")
  .example("bk-ssm-secrets label env API_TOKEN --pipeline app --on-version 3 --label known-good")
  .action((kind: unknown, name: unknown, flags: CliFlags) =>
    runCommand(async (context) =>
      (await import("../commands/label.ts")).run(context, String(kind), optionalText(name), textOptions("label"), { ...targetFlags(flags), onVersion: textOption("on-version") }),
    ),
  );

withBasePath(cli.command("import <source> <dir>", "Write what a synced S3 secrets bucket held (source: s3-secrets-hooks) as parameters, after showing the plan"))
  .option("--kms-key <key>", "Encrypt with this KMS key (id, ARN or alias/NAME) instead of alias/aws/ssm")
  .option("--overwrite", "Replace parameters that exist")
  .option("--yes", "Do not ask for confirmation (needed when there is no terminal)")
  .example("aws s3 sync s3://my-secrets-bucket ./bucket && bk-ssm-secrets import s3-secrets-hooks ./bucket")
  .action((source: unknown, dir: unknown, flags: CliFlags) =>
    runCommand(async (context) =>
      (await import("../commands/import.ts")).run(context, String(source), String(dir), { kmsKey: textOption("kms-key"), overwrite: Boolean(flags.overwrite), yes: Boolean(flags.yes) }),
    ),
  );

cli.command("version", "Print the version, commit and build target").action(() => emit(`bk-ssm-secrets ${VERSION}\ncommit: ${COMMIT}\ntarget: ${TARGET}\n`));

// The hook commands last, after the operator's: the agent's hooks run them, a person never needs to.
for (const phase of PHASES) {
  cli
    .command(phase.name, `${phase.description}; for the agent's hooks: prints shell code to eval`)
    .option("--defaults-file <file>", "The agent's defaults file, as the installed hooks name it (default: /etc/bk-ssm-secrets/defaults.env)")
    .action(() => runPhase(phase));
}

cli
  .command("git-credential <operation>", "git's credential helper (get, store, erase): answers from the job's git-credentials in SSM; for git, through the hooks")
  .option("--parameter <name>", "A git-credentials parameter to read (repeatable, most important first)")
  .action((operation: string, options: { parameter?: string | string[] }) =>
    runPhase({
      name: "git-credential",
      description: "git's credential helper",
      context: "configuration",
      forGit: true,
      load: async () => {
        const helper = await import("../phases/git-credential.ts");
        const parameters = [options.parameter ?? []].flat();
        return { run: (context) => helper.run(context, operation, parameters) };
      },
    }),
  );

cli.addEventListener("command:*", () => {
  const typed = String(cli.args[0]);
  const names = cli.commands.map((command) => command.name);
  fail(`unknown command ${JSON.stringify(typed)}${didYouMean(typed, names)}: run bk-ssm-secrets --help for the list`, 2);
});

/** A command's help starts with what it does; `put`'s lists the kinds. */
cli.help((sections) => {
  const command = cli.matchedCommand;
  if (!command) return sections;
  const extra: Array<{ title?: string; body: string }> = [{ body: command.description }];
  if (command.name === "put") {
    const width = Math.max(...Object.values(KIND_USAGE).map(([usage]) => usage.length));
    extra.push({ title: "Kinds", body: Object.values(KIND_USAGE).map(([usage, what]) => `  ${usage.padEnd(width)}  ${what}`).join("\n") });
  }
  return [sections[0]!, ...extra, ...sections.slice(1)];
});
// Not cac's version(): its line adds the platform and runtime; scripts want the bare version.
cli.option("-v, --version", "Print the version");

// A pasted key or multi-line value starts with dashes or holds a newline, and
// cac would read it as options or a command: refused before cac sees it.
const args = process.argv.slice(2);
if (args[0] === "put" && args.some((arg) => arg.includes("\n") || arg.includes("-----BEGIN"))) {
  fail(new UsageError(`put was given a value as an argument: ${valueOnStdinHint(args[1] ?? "")}`), 2);
}

try {
  cli.parse();
  if (!cli.matchedCommand && !cli.options.help) {
    if (cli.options.version) emit(`${VERSION}\n`);
    else if (cli.args.length === 0) cli.outputHelp();
  }
} catch (error) {
  // cac reports bad usage (missing argument, unknown option) by throwing.
  fail(new UsageError(usageMessage(error)), 2);
}

/**
 * cac's message for bad usage, said in the user's own words: an option as
 * typed (cac reports `--base-pth` as `--basePth`), with the nearest known one;
 * and extra arguments never repeated, since a value typed there is a secret
 * that must not reach the log as well.
 */
function usageMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const command = cli.matchedCommand;
  const name = command?.name ?? "";
  const unknown = /^Unknown option `-+(.+)`$/.exec(message);
  if (unknown) {
    const typed = typedOption(unknown[1]!);
    if (name === "put" && /^(value|secret|token|password|data)$/i.test(typed)) return `put has no --${typed} option: ${valueOnStdinHint(String(cli.args[0] ?? ""))}`;
    const known = (command?.options ?? []).flatMap((option) => option.rawName.split(/[ ,]+/).filter((part) => part.startsWith("--")).map((part) => part.slice(2)));
    const suggestion = nearest(typed, known);
    return `unknown option --${typed}${suggestion ? ` (did you mean --${suggestion}?)` : ""}: run bk-ssm-secrets ${name ? `${name} ` : ""}--help for the options`;
  }
  if (message.startsWith("Unused args:")) {
    const expected = command?.args.length ?? 0;
    if (name === "put") return `put takes at most ${expected} arguments (KIND and NAME or FILE): ${valueOnStdinHint(String(cli.args[0] ?? ""))}`;
    return `${name} takes at most ${expected} argument${expected === 1 ? "" : "s"}, got ${cli.args.length}; run bk-ssm-secrets ${name} --help`;
  }
  return message;
}

/** An option's name as it was typed, from cac's camelCased key: `basePth` is `base-pth`. */
function typedOption(key: string): string {
  for (const arg of process.argv.slice(2)) {
    if (arg === "--") break;
    const typed = /^-+([^=]+)/.exec(arg)?.[1];
    if (typed && typed.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()) === key) return typed;
  }
  return key;
}
