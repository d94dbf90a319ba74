// The Buildkite agent's Job API, as the agent serves it to a job: HTTP on a
// Unix socket (BUILDKITE_AGENT_JOB_API_SOCKET), every request checked for
// `Authorization: Bearer <BUILDKITE_AGENT_JOB_API_TOKEN>`, JSON everywhere,
// routes under /api/current-job/v0: GET/PATCH/DELETE /env and
// POST /redactions ({"redact": "..."} answered 201 {"redacted": "..."}).
// It records what was registered for redaction, and can be told to fail.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface JobApiServer {
  readonly socket: string;
  readonly token: string;
  /** Every string registered through POST /redactions, in arrival order. */
  readonly redactions: string[];
  /** The job's environment as PATCH/DELETE /env left it. */
  readonly env: Record<string, string>;
  /** Answer every later request with this HTTP status (undefined: behave). */
  failWith(status: number | undefined): void;
  /** The variables for a job that has this Job API. */
  jobEnv(): Record<string, string>;
  close(): void;
}

const json = (body: unknown, status = 200) => Response.json(body, { status, headers: { "Content-Type": "application/json" } });
const error = (message: string, status: number) => json({ error: message }, status);

/** The agent's auth middleware: the header, then its form, then its type, then the token. */
function authError(header: string | null, token: string): string | undefined {
  if (!header) return "authorization header is required";
  const space = header.indexOf(" ");
  if (space < 0) return "invalid authorization header: must be in the form `Bearer <token>`";
  if (header.slice(0, space) !== "Bearer") return "invalid authorization header: type must be Bearer";
  if (header.slice(space + 1) !== token) return "invalid authorization token";
  return undefined;
}

export function startJobApiServer(initialEnv: Record<string, string> = {}): JobApiServer {
  const dir = mkdtempSync(join(tmpdir(), "bk-job-api-"));
  const socket = join(dir, "job-api.sock");
  const token = randomBytes(16).toString("hex");
  const redactions: string[] = [];
  const env = { ...initialEnv };
  let failure: number | undefined;

  const routes: Record<string, (request: Request) => Promise<Response>> = {
    "GET /env": async () => json({ env }),
    "PATCH /env": async (request) => {
      const body = (await request.json()) as { env?: Record<string, string | null> };
      const added: string[] = [];
      const updated: string[] = [];
      for (const [name, value] of Object.entries(body.env ?? {})) {
        if (value === null) return error(`removing environment variables (ie setting them to null) is not permitted on this endpoint. The following keys were set to null: [${name}]`, 422);
        (name in env ? updated : added).push(name);
        env[name] = value;
      }
      return json({ added: added.sort(), updated: updated.sort() });
    },
    "DELETE /env": async (request) => {
      const body = (await request.json()) as { keys?: string[] };
      const deleted = (body.keys ?? []).filter((name) => name in env);
      for (const name of deleted) delete env[name];
      return json({ deleted: deleted.sort() });
    },
    "POST /redactions": async (request) => {
      let body: { redact?: unknown };
      try {
        body = (await request.json()) as { redact?: unknown };
      } catch {
        return error("failed to decode request body", 400);
      }
      if (typeof body.redact !== "string") return error("failed to decode request body: redact must be a string", 400);
      redactions.push(body.redact);
      return json({ redacted: body.redact }, 201);
    },
  };

  const server = Bun.serve({
    unix: socket,
    async fetch(request) {
      const denied = authError(request.headers.get("authorization"), token);
      if (denied) return error(denied, 401);
      if (failure !== undefined) return error("injected failure", failure);
      const { pathname } = new URL(request.url);
      const prefix = "/api/current-job/v0";
      const route = pathname.startsWith(`${prefix}/`) ? routes[`${request.method} ${pathname.slice(prefix.length)}`] : undefined;
      return route ? route(request) : error("not found", 404);
    },
  });

  return {
    socket,
    token,
    redactions,
    env,
    failWith: (status) => {
      failure = status;
    },
    jobEnv: () => ({ BUILDKITE_AGENT_JOB_API_SOCKET: socket, BUILDKITE_AGENT_JOB_API_TOKEN: token }),
    close: () => {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
