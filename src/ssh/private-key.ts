// Checking that a value is an ssh private key the hooks can load (ssh-add in
// a job cannot type a passphrase: keys.ts decides that, for `put` and the
// environment phase alike). The key reaches ssh-keygen on its stdin,
// never in argv or a file.
import { UsageError } from "../core/errors.ts";
import { isPassphraseProtected } from "./keys.ts";

/**
 * The public key of an unencrypted private key, from `ssh-keygen -y`. Throws a
 * UsageError, in one line and without the key, when it is not one.
 */
export async function publicKeyOf(key: string, source: string, env: Record<string, string | undefined>): Promise<string> {
  if (isPassphraseProtected(key)) {
    throw new UsageError(
      `the ssh key ${source} is protected by a passphrase, which a job cannot type: store a copy without one (ssh-keygen -p -N '' -f COPY)`,
    );
  }
  const sshKeygen = Bun.which("ssh-keygen", { PATH: env.PATH ?? "" });
  if (!sshKeygen) throw new UsageError("ssh-keygen is not on PATH: install the OpenSSH client to check ssh keys");
  // -P '': an encrypted key fails instead of prompting. ssh-keygen must open
  // /dev/stdin and accepts only a pipe (mode 0600): Bun's stdin is a socket,
  // which cannot be opened, so `cat` moves the key onto a real pipe.
  const proc = Bun.spawn(["sh", "-c", 'cat | "$0" -y -P "" -f /dev/stdin', sshKeygen], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: env.PATH ?? "", LANG: "C" },
  });
  proc.stdin.write(key);
  await proc.stdin.end();
  const [publicKey, , status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (status !== 0) {
    throw new UsageError(`the ssh key ${source} is not a private key OpenSSH can read: give the private half (not the .pub), in OpenSSH or PEM format`);
  }
  return publicKey.trim();
}
