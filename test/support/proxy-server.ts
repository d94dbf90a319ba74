// An HTTP forward proxy on 127.0.0.1, as agents behind a corporate proxy
// reach AWS through (HTTPS_PROXY, HTTP_PROXY): plain requests in absolute
// form are forwarded, HTTPS goes through a CONNECT tunnel. It records what
// passed through it, so a test can tell proxied traffic from direct.
import { createServer, request as httpRequest } from "node:http";
import { connect, type AddressInfo } from "node:net";

export interface ProxyServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** "CONNECT host:port" for tunnels, "METHOD http://host:port/path" for forwarded requests. */
  readonly seen: string[];
  close(): Promise<void>;
}

export async function startProxyServer(): Promise<ProxyServer> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? "");
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connect", (req, client, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
