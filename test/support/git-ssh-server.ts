// A git server over SSH on 127.0.0.1: Debian's sshd on a random port with its
// own configuration, host key and authorized_keys, serving bare repositories
// through git-shell. Each key is authorised for chosen repositories only (a
// forced command checks), the way a git host treats deploy keys: a key that
// authenticates but is not allowed for the repository fails the request
// rather than letting ssh try the next key. Every request served is recorded
// with the name of the key that made it.
import { createServer } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestKey {
  name: string;
  /** OpenSSH private key text. */
  privateKey: string;
  publicKey: string;
  /** SHA256:... as `ssh-add -l` prints it. */
  fingerprint: string;
}

function run(argv: string[], options: { cwd?: string; env?: Record<string, string> } = {}): string {
  const result = Bun.spawnSync(argv, { cwd: options.cwd, env: options.env ?? (process.env as Record<string, string>), stderr: "pipe" });
  if (!result.success) throw new Error(`${argv.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** A fresh ed25519 key from ssh-keygen; with a passphrase when one is given. The files are removed at once. */
export function generateKey(name: string, passphrase = ""): TestKey {
  const dir = mkdtempSync(join(tmpdir(), "bk-test-key-"));
  try {
    const file = join(dir, "key");
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", file]);
    const publicKey = readFileSync(`${file}.pub`, "utf8").trim();
    const fingerprint = run(["ssh-keygen", "-l", "-f", `${file}.pub`]).split(" ")[1]!;
    return { name, privateKey: readFileSync(file, "utf8"), publicKey, fingerprint };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface GitSshServer {
  port: number;
  /** The scp-like URL git uses for a repository: `<user>@127.0.0.1:<path>`. */
  url(repository: string): string;
  /** A bare repository holding one commit with README.md. */
  createRepository(repository: string): void;
  /** Where a repository lives on disk, for a test that fetches it without SSH. */
  repositoryPath(repository: string): string;
  /** Let `key` fetch exactly these repositories (replacing what it had). */
  authorize(key: TestKey, repositories: string[]): void;
  /** Requests served so far: which key fetched which repository, and which were refused. */
  requests(): Array<{ key: string; repository: string; allowed: boolean }>;
  /** What git needs to reach the server: GIT_SSH_COMMAND with the port, a throwaway known_hosts and BatchMode. */
  gitEnv(): Record<string, string>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

// The forced command of every key: $1 is the key's name. It serves only
// git-upload-pack of a repository listed in allowed/<name>.
const SERVE = `#!/bin/bash
key="$1"; dir="$(dirname "$0")"
read -r command path <<<"$SSH_ORIGINAL_COMMAND"
path="\${path//\\'/}"
if [[ "$command" != git-upload-pack ]] || ! grep -qxF -- "$path" "$dir/allowed/$key" 2>/dev/null; then
  echo "refused $key $path" >> "$dir/requests.log"
  echo "ERROR: the key $key is not allowed to read $path" >&2
  exit 1
fi
echo "allowed $key $path" >> "$dir/requests.log"
cd "$dir/repos" && exec git-shell -c "git-upload-pack '$path'"
`;

export async function startGitSshServer(): Promise<GitSshServer> {
  const dir = mkdtempSync(join(tmpdir(), "bk-git-ssh-"));
  // sshd logs in the user running it; os.userInfo() may not know its name.
  const user = run(["id", "-un"]).trim();
  mkdirSync(join(dir, "repos"));
  mkdirSync(join(dir, "allowed"));
  writeFileSync(join(dir, "serve"), SERVE, { mode: 0o755 });
  writeFileSync(join(dir, "authorized_keys"), "");
  writeFileSync(join(dir, "requests.log"), "");
  run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  // sshd started by root insists on its privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

  const keys = new Map<string, string>();
  let port = 0;
  let sshd: ReturnType<typeof Bun.spawn> | undefined;
  for (let attempt = 0; attempt < 5 && !sshd; attempt++) {
    port = await freePort();
    writeFileSync(
      join(dir, "sshd_config"),
      [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${join(dir, "host_key")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        "PidFile none",
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    const proc = Bun.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const log = proc.stderr.getReader();
    let seen = "";
    // sshd says "Server listening" once bound, or exits (port taken meanwhile).
    while (!seen.includes("Server listening")) {
      const chunk = await log.read();
      if (chunk.done) break;
      seen += new TextDecoder().decode(chunk.value);
    }
    if (seen.includes("Server listening")) {
      sshd = proc;
      // Keep draining sshd's log so it never blocks on a full pipe.
      void (async () => {
        while (!(await log.read()).done);
      })();
    } else {
      proc.kill();
      await proc.exited;
      if (attempt === 4) throw new Error(`sshd did not start: ${seen}`);
    }
  }
  const hostKey = readFileSync(join(dir, "host_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);

  const writeAuthorizedKeys = () =>
    writeFileSync(
      join(dir, "authorized_keys"),
      [...keys].map(([name, publicKey]) => `command="${join(dir, "serve")} ${name}",restrict ${publicKey}\n`).join(""),
    );

  return {
    port,
    url: (repository) => `${user}@127.0.0.1:${repository}`,
    createRepository(repository) {
      const bare = join(dir, "repos", repository);
      run(["git", "init", "-q", "--bare", "-b", "main", bare]);
      const work = mkdtempSync(join(tmpdir(), "bk-git-work-"));
      try {
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
        run(["git", "init", "-q", "-b", "main", work], { env });
        writeFileSync(join(work, "README.md"), `${repository}\n`);
        run(["git", "add", "README.md"], { cwd: work, env });
        run(["git", "commit", "-q", "-m", "first"], { cwd: work, env });
        run(["git", "push", "-q", bare, "main"], { cwd: work, env });
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    repositoryPath: (repository) => join(dir, "repos", repository),
    authorize(key, repositories) {
      keys.set(key.name, key.publicKey);
      writeFileSync(join(dir, "allowed", key.name), repositories.map((repository) => `${repository}\n`).join(""));
      writeAuthorizedKeys();
    },
    requests() {
      return readFileSync(join(dir, "requests.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [verdict, key, repository] = line.split(" ") as [string, string, string];
          return { key, repository, allowed: verdict === "allowed" };
        });
    },
    gitEnv: () => ({
      GIT_SSH_COMMAND: [
        "ssh -F /dev/null",
        `-p ${port}`,
        `-o UserKnownHostsFile=${join(dir, "known_hosts")}`,
        "-o GlobalKnownHostsFile=/dev/null",
        "-o StrictHostKeyChecking=yes",
        "-o BatchMode=yes",
        // Only keys from the agent: nothing from the user's ~/.ssh.
        "-o IdentityFile=none",
      ].join(" "),
    }),
    async close() {
      sshd?.kill();
      await sshd?.exited;
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
