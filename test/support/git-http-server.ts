// A real git server over HTTPS on 127.0.0.1: Debian's `git http-backend`
// (the CGI program git ships for smart HTTP) behind Bun.serve with a
// throwaway certificate, requiring HTTP basic auth with one user name and
// token per server. Each server is one "host"; two servers with different
// credentials stand for two git hosts.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

/** git with no system or user configuration: what the fixtures run to build repositories. */
export function gitEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1", LANG: "C.UTF-8" };
}

function git(args: string[], cwd: string, home: string): void {
  execFileSync("git", args, { cwd, env: gitEnv(home), stdio: ["ignore", "ignore", "pipe"] });
}

export interface TestCertificate {
  /** PEM file git trusts through GIT_SSL_CAINFO. */
  certFile: string;
  cert: string;
  key: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export function makeCertificate(dir: string): TestCertificate {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyFile, "-out", certFile],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return { certFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

/** A bare repository `<root>/<name>` with one commit holding README with `content`. */
export function makeRepository(root: string, name: string, content: string): void {
  const scratch = mkdtempSync(join(tmpdir(), "bk-git-fixture-"));
  const [home, work] = [join(scratch, "home"), join(scratch, "work")];
  try {
    for (const dir of [root, home, work]) mkdirSync(dir, { recursive: true });
    git(["init", "-q", "--bare", "-b", "main", join(root, name)], root, home);
    git(["init", "-q", "-b", "main"], work, home);
    writeFileSync(join(work, "README"), content);
    git(["add", "README"], work, home);
    git(["-c", "user.name=Fixture", "-c", "user.email=fixture@example.com", "commit", "-q", "-m", "fixture"], work, home);
    git(["push", "-q", join(root, name), "main"], work, home);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface GitHttpServer {
  /** https://<hostname>:<port> */
  readonly url: string;
  /** Requests that carried the right credentials, and requests refused for wrong or missing ones. */
  readonly authorized: number;
  readonly refused: number;
  close(): void;
}

export interface GitHttpServerOptions {
  /** Directory of bare repositories. */
  root: string;
  username: string;
  password: string;
  certificate: TestCertificate;
  /** The name clients use: 127.0.0.1 or localhost (both on the loopback address). */
  hostname: "127.0.0.1" | "localhost";
}

/** Split a CGI response into its status, headers and body. */
function parseCgi(output: Buffer): Response {
  let end = output.indexOf("\r\n\r\n");
  let separator = 4;
  if (end < 0) [end, separator] = [output.indexOf("\n\n"), 2];
  const head = output.subarray(0, end).toString("latin1");
  const headers = new Headers();
  let status = 200;
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
    else headers.append(name, value);
  }
  return new Response(output.subarray(end + separator), { status, headers });
}

export function startGitHttpServer(options: GitHttpServerOptions): GitHttpServer {
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;
  const counts = { authorized: 0, refused: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: options.certificate.cert, key: options.certificate.key },
    async fetch(request) {
      if (request.headers.get("authorization") !== expected) {
        counts.refused++;
        return new Response("authentication required\n", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="git"' } });
      }
      counts.authorized++;
      const url = new URL(request.url);
      const body = Buffer.from(await request.arrayBuffer());
      const cgi = Bun.spawn([HTTP_BACKEND], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          GIT_PROJECT_ROOT: options.root,
          GIT_HTTP_EXPORT_ALL: "1",
          GIT_CONFIG_NOSYSTEM: "1",
          HOME: options.root,
          REQUEST_METHOD: request.method,
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: request.headers.get("content-type") ?? "",
          CONTENT_LENGTH: String(body.length),
          HTTP_CONTENT_ENCODING: request.headers.get("content-encoding") ?? "",
          GIT_PROTOCOL: request.headers.get("git-protocol") ?? "",
          REMOTE_USER: options.username,
          REMOTE_ADDR: "127.0.0.1",
          SERVER_PROTOCOL: "HTTP/1.1",
        },
        stdin: body,
        stdout: "pipe",
        stderr: "ignore",
      });
      const output = Buffer.from(await new Response(cgi.stdout).arrayBuffer());
      await cgi.exited;
      return parseCgi(output);
    },
  });
  return {
    url: `https://${options.hostname}:${server.port}`,
    get authorized() {
      return counts.authorized;
    },
    get refused() {
      return counts.refused;
    },
    close: () => server.stop(true),
  };
}
