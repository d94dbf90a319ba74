// Release downloads on 127.0.0.1, laid out like GitHub's: a request for
// `/<owner>/<repo>/releases/download/v<version>/<asset>` is redirected, as
// GitHub redirects to its object store, to where the file is served from.
// Each version is a directory of assets, as `packageRelease` writes them.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface ReleaseServer {
  /** The prefix the install script takes as --releases-url: `<url>/v<version>/<asset>`. */
  releasesUrl: string;
  /** Request paths, in order, before redirects: what the script asked for. */
  requests: string[];
  close(): Promise<void>;
}

/** Serve `releases` (version -> directory of assets) for the GitHub repository `repo` ("owner/name"). */
export async function startReleaseServer(repo: string, releases: Record<string, string>): Promise<ReleaseServer> {
  const requests: string[] = [];
  const downloadPrefix = `/${repo}/releases/download/`;
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    if (path.startsWith(downloadPrefix)) {
      requests.push(path);
      const [tag = "", asset = "", ...rest] = path.slice(downloadPrefix.length).split("/");
      if (tag.startsWith("v") && asset && rest.length === 0) {
        response.writeHead(302, { location: `/objects/${tag.slice(1)}/${asset}` }).end();
        return;
      }
    }
    const [, objects, version = "", asset = ""] = path.split("/");
    const dir = releases[version];
    const file = dir && !asset.includes("..") ? join(dir, asset) : "";
    if (objects !== "objects" || !file || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": statSync(file).size });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    releasesUrl: `http://127.0.0.1:${port}${downloadPrefix.slice(0, -1)}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
