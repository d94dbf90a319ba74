// The floor for `environment`: only the same reads, nothing else. Each slug's
// GetParametersByPath walk, all slugs at once, signed by hand (src/ssm/sigv4.ts
// on Bun's crypto) and sent with fetch, with the credentials from the
// environment (and AWS_CA_BUNDLE for the HTTPS rows). No configuration, no
// plan, no logger, no SDK: no program that reads these slugs can start
// faster. Compiled with build.ts's compile().
import { writeSync } from "node:fs";
import { caBundle } from "../../src/ssm/direct.ts";
import { signRequest } from "../../src/ssm/sigv4.ts";

const env = process.env;
const endpoint = new URL(env.AWS_ENDPOINT_URL_SSM!);
const region = env.AWS_REGION!;
const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY!, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
const base = env.AWS_PARAMSTORE_SECRETS_SECRETS_PATH!;
const tls = caBundle(env);

type Page = { Parameters?: Array<{ Name: string; Value: string }>; NextToken?: string };

async function readTree(path: string): Promise<Array<{ Name: string; Value: string }>> {
  const found: Array<{ Name: string; Value: string }> = [];
  let nextToken: string | undefined;
  do {
    const body = JSON.stringify({ Path: path, Recursive: true, WithDecryption: true, MaxResults: 10, ...(nextToken ? { NextToken: nextToken } : {}) });
    const headers = signRequest(
      { method: "POST", path: "/", headers: { host: endpoint.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonSSM.GetParametersByPath" }, body },
      { credentials, region, service: "ssm" },
    );
    const response = await fetch(endpoint, { method: "POST", headers, body, ...tls });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const page = (await response.json()) as Page;
    found.push(...(page.Parameters ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return found;
}

const trees = await Promise.all((env.BENCH_SLUGS ?? "global").split(",").map((slug) => readTree(`${base}/${slug}`)));
writeSync(1, trees.flat().map((p) => `export ${p.Name.split("/").pop()}=${JSON.stringify(p.Value)}\n`).join(""));
process.exit(0);
