// AWS Signature Version 4 for one request, on Bun's native hashing. The hot
// path signs its SSM reads with this instead of loading the SDK's signer;
// test/sigv4.test.ts checks it against @smithy/signature-v4 byte for byte.

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  /** The path as sent, "/" for SSM. */
  path: string;
  query?: Record<string, string | string[]>;
  /** Must include `host`. */
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface SigningOptions {
  credentials: SigningCredentials;
  region: string;
  service: string;
  date?: Date;
  /** Send and sign x-amz-content-sha256, as the SDK does by default. */
  applyChecksum?: boolean;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
/** Headers SigV4 never signs (the SDK's list), and those that proxies or browsers change. */
const UNSIGNABLE = new Set(["authorization", "cache-control", "connection", "expect", "from", "keep-alive", "max-forwards", "pragma", "referer", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"]);
/** Headers the signer itself sets: a caller's own are dropped. */
const GENERATED = new Set(["authorization", "x-amz-date", "date"]);

const hmac = (key: string | Uint8Array, data: string): Uint8Array => new Bun.CryptoHasher("sha256", key).update(data).digest() as Uint8Array;
const sha256Hex = (data: string | Uint8Array): string => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** RFC 3986 percent-encoding: encodeURIComponent leaves !'()* alone, SigV4 does not. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Dot segments resolved and empty ones dropped, then each segment encoded (again: the path arrives encoded once). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return escapeUri(normalised).replace(/%2F/g, "/");
}

function canonicalQuery(query: Record<string, string | string[]> = {}): string {
  const pairs: Array<[key: string, pair: string]> = [];
  for (const key of Object.keys(query)) {
    if (key.toLowerCase() === "x-amz-signature") continue;
    const encoded = escapeUri(key);
    const value = query[key]!;
    const pair = typeof value === "string" ? `${encoded}=${escapeUri(value)}` : value.map((item) => `${encoded}=${escapeUri(item)}`).sort().join("&");
    pairs.push([encoded, pair]);
  }
  return pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, pair]) => pair)
    .filter(Boolean)
    .join("&");
}

/** "20261201T201108Z" and "20261201". */
export function signingDates(date: Date): { long: string; short: string } {
  const long = date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  return { long, short: long.slice(0, 8) };
}

/** The request's headers with x-amz-date, the session token, the payload hash and `authorization` added. */
export function signRequest(request: SignableRequest, options: SigningOptions): Record<string, string> {
  const { credentials, region, service } = options;
  const { long, short } = signingDates(options.date ?? new Date());
  const headers: Record<string, string> = {};
  for (const name of Object.keys(request.headers)) if (!GENERATED.has(name.toLowerCase())) headers[name] = request.headers[name]!;
  headers["x-amz-date"] = long;
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const given = Object.keys(headers).find((name) => name.toLowerCase() === "x-amz-content-sha256");
  const payloadHash = given ? headers[given]! : sha256Hex(request.body);
  if (!given && options.applyChecksum !== false) headers["x-amz-content-sha256"] = payloadHash;

  const canonical: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) {
    const lower = name.toLowerCase();
    if (UNSIGNABLE.has(lower) || lower.startsWith("proxy-") || lower.startsWith("sec-")) continue;
    canonical[lower] = headers[name]!.replace(/[\r\n]/g, " ").replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
  }
  const names = Object.keys(canonical).sort();
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    request.method,
    canonicalPath(request.path),
    canonicalQuery(request.query),
    names.map((name) => `${name}:${canonical[name]}\n`).join(""),
    signedHeaders,
    payloadHash,
  ].join("\n");
  const scope = `${short}/${region}/${service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${long}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  let key = hmac(`AWS4${credentials.secretAccessKey}`, short);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const signature = new Bun.CryptoHasher("sha256", key).update(stringToSign).digest("hex");
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
