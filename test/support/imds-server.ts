// An EC2 instance metadata service (IMDSv2) on 127.0.0.1, serving an
// instance profile's temporary credentials the way EC2 does: a session token
// from `PUT /latest/api/token`, then the role name and its credentials JSON,
// both refused without the token (IMDSv2 required, as the Elastic CI Stack
// configures its instances). The AWS SDK reaches it through
// AWS_EC2_METADATA_SERVICE_ENDPOINT.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface InstanceCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface ImdsServer {
  url: string;
  role: string;
  credentials: InstanceCredentials;
  /** Requests seen, as "METHOD path". */
  requests: string[];
  /** Delay every answer, to model a slow or hung metadata service. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

const TOKEN_PATH = "/latest/api/token";
const CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/";

export async function startImdsServer(role = "buildkite-agent-role"): Promise<ImdsServer> {
  const credentials: InstanceCredentials = {
    accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(20).toString("base64"),
    sessionToken: randomBytes(48).toString("base64"),
  };
  const tokens = new Set<string>();
  const requests: string[] = [];
  let delayMs = 0;

  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const send = (status: number, body: string, type: string) => {
      if (!res.destroyed) res.writeHead(status, { "content-type": type }).end(body);
    };
    // At once without a delay, as EC2's metadata service answers within a
    // millisecond: even setTimeout(0) would add one to every answer.
    // unref: a delayed answer nobody waits for any more must not keep the test process alive.
    const answer = (status: number, body: string, type = "text/plain") =>
      delayMs > 0 ? void setTimeout(() => send(status, body, type), delayMs).unref() : send(status, body, type);

    if (req.url === TOKEN_PATH) {
      if (req.method !== "PUT") return answer(405, "");
      const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!(ttl >= 1 && ttl <= 21600)) return answer(400, "");
      const token = randomBytes(24).toString("base64");
      tokens.add(token);
      return answer(200, token);
    }
    const token = req.headers["x-aws-ec2-metadata-token"];
    if (typeof token !== "string" || !tokens.has(token)) return answer(401, "");
    if (req.url === CREDENTIALS_PATH) return answer(200, role);
    if (req.url === `${CREDENTIALS_PATH}${role}`) {
      return answer(
        200,
        JSON.stringify({
          Code: "Success",
          LastUpdated: new Date().toISOString(),
          Type: "AWS-HMAC",
          AccessKeyId: credentials.accessKeyId,
          SecretAccessKey: credentials.secretAccessKey,
          Token: credentials.sessionToken,
          Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
        }),
        "application/json",
      );
    }
    return answer(404, "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    role,
    credentials,
    requests,
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
