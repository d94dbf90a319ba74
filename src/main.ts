// bk-ssm-secrets: one binary, one subcommand per hook phase. A phase prints
// shell code on stdout for its hook to eval, and logs on stderr. Each
// subcommand's module is imported only when it runs, so the AWS SDK is loaded
// by the phases that talk to AWS and by no others.
import { writeSync } from "node:fs";
import { cac } from "cac";
import type { PhaseContext } from "./context.ts";
import { COMMIT, TARGET, VERSION } from "./version.ts";

interface Phase {
  run(context: PhaseContext): Promise<string>;
}

/**
 * Write the eval payload and exit. Bun.write resolves only once every byte is
 * in the pipe; exiting after process.stdout.write can cut a large payload
 * short, which the hook would then fail to eval.
 */
async function emit(payload: string): Promise<never> {
  await Bun.write(Bun.stdout, payload);
  process.exit(0);
}

/** Errors the operator can act on from their message alone; anything else is a bug, and its stack helps. */
const EXPECTED_ERRORS = ["JobError", "ConfigError", "StoreError", "CACError"];

function fail(error: unknown, code: number): never {
  const message = error instanceof Error ? error.message : String(error);
  writeSync(2, `+++ :no_entry: bk-ssm-secrets: ${message}\n`);
  if (error instanceof Error && !EXPECTED_ERRORS.includes(error.name) && error.stack) writeSync(2, `${error.stack}\n`);
  process.exit(code);
}

async function runPhase(load: () => Promise<Phase>): Promise<void> {
  try {
    const { phaseContext } = await import("./context.ts");
    const context = phaseContext();
    await emit(await (await load()).run(context));
  } catch (error) {
    fail(error, 1);
  }
}

const cli = cac("bk-ssm-secrets");

/** The hook phases: each prints shell code for its hook to eval. */
const PHASES: Array<[name: string, description: string, load: () => Promise<Phase>]> = [
  ["environment", "Load the job's secrets and deploy keys from SSM (environment hook)", () => import("./phases/environment.ts")],
  ["pre-checkout", "Switch to the slug's ssh-agent when its key reaches the repository (pre-checkout hook)", () => import("./phases/pre-checkout.ts")],
  ["post-checkout", "Go back to the job's previous ssh-agent (post-checkout hook)", () => import("./phases/post-checkout.ts")],
  ["post-command", "Go back to the job's previous ssh-agent when it was kept through the command (post-command hook)", () => import("./phases/post-command.ts")],
  ["pre-exit", "Stop the job's ssh-agents and clean up (pre-exit hook)", () => import("./phases/pre-exit.ts")],
];
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
      // cac turns a value that looks like a number into one, and a repeated
      // flag into a list, of which the last one counts.
      const text = (name: string) => {
        const value = options[name];
        return value === undefined ? undefined : String(Array.isArray(value) ? value.at(-1) : value);
      };
      await emit(
        install(
          {
            hooksDir: text("hooksDir"),
            installDir: text("installDir"),
            defaultsFile: text("defaultsFile"),
            basePath: text("basePath"),
            defaultKey: text("defaultKey"),
            globalSsh: text("globalSsh"),
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
  .command("slug <repository-url>", "Print the repository slug of a URL: where its secrets live in the tree")
  .example("bk-ssm-secrets slug git@github.com:acme/app.git   # github.com_acme_app.git")
  .action(async (url: string) => {
    const { repositorySlug } = await import("./slug.ts");
    const slug = repositorySlug(url);
    if (!slug) fail(`cannot compute a slug: ${JSON.stringify(url)} is not a repository URL git understands`, 2);
    await emit(`${slug}\n`);
  });

cli.command("version", "Print the version, commit and build target").action(() => emit(`bk-ssm-secrets ${VERSION}\ncommit: ${COMMIT}\ntarget: ${TARGET}\n`));

cli.addEventListener("command:*", () => fail(`unknown command ${JSON.stringify(cli.args[0])}: run bk-ssm-secrets --help`, 2));

cli.help();
// Not cac's version(): its line adds the platform and runtime; scripts want the bare version.
cli.option("-v, --version", "Print the version");

try {
  cli.parse();
  if (!cli.matchedCommand && !cli.options.help) {
    if (cli.options.version) await emit(`${VERSION}\n`);
    else if (cli.args.length === 0) cli.outputHelp();
  }
} catch (error) {
  // cac reports bad usage (missing argument, unknown option) by throwing.
  fail(error, 2);
}
