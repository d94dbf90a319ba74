// STS for the SSM test endpoint: AssumeRole in AWS's query protocol, so the
// real SDK can assume a role through a profile (`role_arn` with
// `source_profile` or `credential_source`) and then read SSM with the
// temporary credentials it was given, which the endpoint then accepts.
import { randomBytes, randomUUID } from "node:crypto";

/** Credentials STS issued for an assumed role, and whose they are. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION */
  arn: string;
}

export class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/**
 * Answer an STS query request (`Action=AssumeRole&...`) from `caller` (the ARN
 * that signed it). Only roles in `roles` exist and trust the caller.
 */
export function answerSts(form: URLSearchParams, caller: string, roles: string[], issue: (credentials: IssuedCredentials) => void): string {
  const action = form.get("Action");
  if (action !== "AssumeRole" || form.get("Version") !== "2011-06-15") throw new StsError("InvalidAction", `Could not find operation ${action} for version ${form.get("Version")}`);
  const roleArn = form.get("RoleArn") ?? "";
  const session = form.get("RoleSessionName") ?? "";
  const role = ROLE_ARN.exec(roleArn);
  if (!role) throw new StsError("ValidationError", `${roleArn} is invalid`);
  if (!SESSION_NAME.test(session)) throw new StsError("ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
  if (!roles.includes(roleArn)) throw new StsError("AccessDenied", `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
  const seconds = Number(form.get("DurationSeconds") ?? 3600);
  const credentials: IssuedCredentials = {
    accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    sessionToken: randomBytes(64).toString("base64"),
    arn: `arn:aws:sts::${role[1]}:assumed-role/${role[2]}/${session}`,
  };
  issue(credentials);
  const expiration = new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA${randomBytes(8).toString("hex").toUpperCase()}:${session}</AssumedRoleId>
      <Arn>${credentials.arn}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>
      <SessionToken>${credentials.sessionToken}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleResponse>
`;
}

export function stsErrorXml(error: StsError): string {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>\n`;
}
