// A webhook receiver that verifies every delivery with the standardwebhooks
// library. SECRETS is a comma-separated list of whsec_ secrets, each one a
// receiver of its own would hold. It prints "listening <port>" and then one
// JSON line per request: its webhook-id, which secrets verified it, the
// parsed body's event_id and the library's error. It answers 204 when the
// first secret verifies, 401 otherwise.
import http from "node:http";
import { Webhook } from "standardwebhooks";

const secrets = (process.env.SECRETS || "").split(",").filter(Boolean);
const hooks = secrets.map((s) => new Webhook(s));

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const verified = [];
    let error = "";
    let eventID = "";
    for (const hook of hooks) {
      try {
        const payload = hook.verify(body, req.headers);
        eventID = payload.event_id;
        verified.push(true);
      } catch (e) {
        verified.push(false);
        error = String(e && e.message ? e.message : e);
      }
    }
    process.stdout.write(JSON.stringify({ id: req.headers["webhook-id"] || "", verified, event_id: eventID, error }) + "\n");
    res.writeHead(verified[0] ? 204 : 401);
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
