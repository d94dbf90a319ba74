// The Secrets Manager side of the SSM test endpoint: secrets with versions
// and staging labels, read the way Parameter Store's bridge reads them
// (`/aws/reference/secretsmanager/<secret-id>[:<stage>]`, GetParameter and
// GetParameters only, WithDecryption required). A secret that does not exist
// (or has no version with the stage asked for) is answered as SSM answers a
// missing parameter: in InvalidParameters, under the name as requested.
import { randomUUID } from "node:crypto";

export const BRIDGE_PREFIX = "/aws/reference/secretsmanager/";

interface SecretVersion {
  versionId: string;
  value: string;
  stages: string[];
  created: number;
}

export interface PutSecretOptions {
  /** Further staging labels for the new version, besides AWSCURRENT. */
  stages?: string[];
}

export class SecretsManagerBridge {
  private readonly secrets = new Map<string, SecretVersion[]>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  /** A new version becomes AWSCURRENT; the one it replaces becomes AWSPREVIOUS, as PutSecretValue does. */
  put(secretId: string, value: string, options: PutSecretOptions = {}): string {
    const versions = this.secrets.get(secretId) ?? [];
    for (const version of versions) version.stages = version.stages.filter((stage) => stage !== "AWSPREVIOUS" && !(options.stages ?? []).includes(stage));
    const current = versions.find((version) => version.stages.includes("AWSCURRENT"));
    if (current) current.stages = [...current.stages.filter((stage) => stage !== "AWSCURRENT"), "AWSPREVIOUS"];
    const versionId = randomUUID();
    versions.push({ versionId, value, stages: ["AWSCURRENT", ...(options.stages ?? [])], created: Date.now() / 1000 });
    this.secrets.set(secretId, versions);
    return versionId;
  }

  delete(secretId: string): boolean {
    return this.secrets.delete(secretId);
  }

  /** Whether `name` is for the bridge rather than a parameter. */
  static handles(name: string): boolean {
    return name.startsWith(BRIDGE_PREFIX);
  }

  /** The parameter SSM returns for a bridge name, or undefined when there is no such secret or stage. */
  read(name: string): Record<string, unknown> | undefined {
    const reference = name.slice(BRIDGE_PREFIX.length);
    const colon = reference.indexOf(":");
    const secretId = colon < 0 ? reference : reference.slice(0, colon);
    const selector = colon < 0 ? undefined : reference.slice(colon + 1);
    const version = this.secrets.get(secretId)?.find((candidate) => (selector === undefined ? candidate.stages.includes("AWSCURRENT") : candidate.stages.includes(selector) || candidate.versionId === selector));
    if (!version) return undefined;
    const arn = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${secretId}-AbCdEf`;
    return {
      // As SSM answers a labelled name: the name without its selector, and the selector apart.
      Name: `${BRIDGE_PREFIX}${secretId}`,
      ...(selector !== undefined ? { Selector: `:${selector}` } : {}),
      Type: "SecureString",
      Value: version.value,
      Version: 0,
      LastModifiedDate: version.created,
      ARN: arn,
      DataType: "text",
      SourceResult: JSON.stringify({ ARN: arn, CreatedDate: version.created, Name: secretId, SecretString: version.value, VersionId: version.versionId, VersionStages: version.stages }),
    };
  }
}
