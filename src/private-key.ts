// Checking that a value is an ssh private key the hooks can load: ssh-add in
// a job cannot type a passphrase. The key reaches ssh-keygen on its stdin,
// never in argv or a file.
import { UsageError } from "./commands/operator.ts";

const OPENSSH_HEADER = "-----BEGIN OPENSSH PRIVATE KEY-----";
const OPENSSH_MAGIC = "openssh-key-v1\0";

/**
 * True when the key is encrypted: an OpenSSH key whose cipher is not "none",
 * a PEM key with a `Proc-Type: 4,ENCRYPTED` header, or an encrypted PKCS#8
 * key. (ssh-keygen reports all of these as a generic load error.)
 */
export function isPassphraseProtected(key: string): boolean {
  if (key.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") || /^Proc-Type:\s*4,ENCRYPTED/m.test(key)) return true;
  const start = key.indexOf(OPENSSH_HEADER);
  if (start < 0) return false;
  const body = key.slice(start + OPENSSH_HEADER.length).split("-----END")[0] ?? "";
  const blob = Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (blob.toString("latin1", 0, OPENSSH_MAGIC.length) !== OPENSSH_MAGIC || blob.length < OPENSSH_MAGIC.length + 4) return false;
  // After the magic: a uint32 length, then the cipher's name.
  const length = blob.readUInt32BE(OPENSSH_MAGIC.length);
  const cipher = blob.toString("latin1", OPENSSH_MAGIC.length + 4, OPENSSH_MAGIC.length + 4 + length);
  return cipher !== "none";
}

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
