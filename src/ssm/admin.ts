// The operations an operator's commands use to manage the tree (`ls`, `put`,
// `rm`, `history`, `rollback`, `label`, `import`, `doctor`), over the same
// connection as a job's reads. Apart from client.ts so that a job's phases,
// which only read, never build them.
import { collectPages, connect, readOperations, toInfo, toParameter, type Connection, type RawParameter, type SsmStoreOptions } from "./client.ts";
import { StoreError, type ParameterAdmin, type ParameterVersion, type SecretStore } from "./store.ts";

/** SSM's largest page for DescribeParameters and GetParameterHistory. */
const DESCRIBE_PAGE_SIZE = 50;

type RawVersion = RawParameter & { LastModifiedUser?: string; Labels?: string[]; KeyId?: string };

/** A history entry without its value, which GetParameterHistory always sends. */
function toVersion(raw: RawVersion): ParameterVersion {
  return {
    version: raw.Version ?? 0,
    type: raw.Type ?? "String",
    lastModified: toInfo(raw).lastModified,
    changedBy: raw.LastModifiedUser,
    labels: raw.Labels ?? [],
    ...(raw.KeyId ? { keyId: raw.KeyId } : {}),
  };
}

/** What the operator commands use: the reads, and the operations that list, write, remove and label parameters. */
export async function createParameterAdmin(options: SsmStoreOptions): Promise<SecretStore & ParameterAdmin> {
  const connection = connect(options);
  return { ...readOperations(connection), ...adminOperations(connection) };
}

function adminOperations({ send, viaSdk, request }: Connection): ParameterAdmin {
  return {
    async listTree(path) {
      // DescribeParameters returns metadata only: listing never decrypts, so it
      // needs no KMS permission and no value ever enters this process.
      const infos = await collectPages(
        (nextToken) =>
          send(path, "ssm:DescribeParameters", () =>
            viaSdk((sdk, client) =>
              client.send(
                new sdk.DescribeParametersCommand({
                  ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: [path] }],
                  MaxResults: DESCRIBE_PAGE_SIZE,
                  NextToken: nextToken,
                }),
                request,
              ),
            ),
          ),
        toInfo,
      );
      return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async put(put) {
      const reply = await send(put.name, "ssm:PutParameter", () =>
        viaSdk((sdk, client) =>
          client.send(
            new sdk.PutParameterCommand({
              Name: put.name,
              Value: put.value,
              Type: put.type,
              Overwrite: put.overwrite,
              ...(put.keyId ? { KeyId: put.keyId } : {}),
              ...(put.tier ? { Tier: put.tier } : {}),
            }),
            request,
          ),
        ),
      ).catch((error: StoreError) => {
        // SSM's messages name fields, never a value (it is a sensitive member);
        // this holds even if one ever did. Shorter values match too much text to tell.
        throw put.value.length >= 8 && error.message.includes(put.value) ? new StoreError(`writing ${put.name} failed (${error.code})`, error.path, error.code) : error;
      });
      return { version: reply.Version ?? 0, tier: reply.Tier ?? "Standard" };
    },

    async remove(name) {
      await send(name, "ssm:DeleteParameter", () => viaSdk((sdk, client) => client.send(new sdk.DeleteParameterCommand({ Name: name }), request)));
    },

    history(name) {
      return collectPages(
        (nextToken) =>
          send(name, "ssm:GetParameterHistory", () =>
            viaSdk((sdk, client) => client.send(new sdk.GetParameterHistoryCommand({ Name: name, WithDecryption: false, MaxResults: DESCRIBE_PAGE_SIZE, NextToken: nextToken }), request)),
          ),
        toVersion,
      );
    },

    async readVersion(name, version) {
      const reply = await send(name, "ssm:GetParameter", () => viaSdk((sdk, client) => client.send(new sdk.GetParameterCommand({ Name: `${name}:${version}`, WithDecryption: true }), request)));
      return toParameter(reply.Parameter ?? {});
    },

    async label(name, version, labels) {
      const reply = await send(name, "ssm:LabelParameterVersion", () =>
        viaSdk((sdk, client) => client.send(new sdk.LabelParameterVersionCommand({ Name: name, ParameterVersion: version, Labels: labels }), request)),
      );
      return reply.InvalidLabels ?? [];
    },
  };
}
