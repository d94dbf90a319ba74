// The original Python hook's access pattern, replayed with the same AWS SDK
// so that only the pattern differs: for each slug in turn, a
// DescribeParameters walk, then one GetParameter per parameter, one after
// another, plus a GetParameter for each access list.
import { DescribeParametersCommand, GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";

const base = (process.env.AWS_PARAMSTORE_SECRETS_SECRETS_PATH ?? "/vendors/buildkite").replace(/\/+$/, "");
const slugs = (process.env.BENCH_SLUGS ?? "global").split(",");
const client = new SSMClient({ region: process.env.AWS_REGION });
let out = "";

for (const slug of slugs) {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: [`${base}/${slug}`] }], NextToken: token }),
    );
    names.push(...(page.Parameters ?? []).map((p) => p.Name!));
    token = page.NextToken;
  } while (token);
  for (const list of ["allowed_pipelines", "allowed_teams"]) {
    await client.send(new GetParameterCommand({ Name: `${base}/${slug}/${list}` })).catch(() => undefined);
  }
  for (const name of names.filter((n) => n.includes("/env/"))) {
    const { Parameter } = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    out += `export ${name.split("/").pop()!.toUpperCase().replaceAll("-", "_")}=${JSON.stringify(Parameter?.Value ?? "")}\n`;
  }
}
await Bun.write(Bun.stdout, out);
process.exit(0);
