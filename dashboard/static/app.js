// AxonTask dashboard: the live parts of the pages. Plain JavaScript, no
// build step; the pages work without it except for what is live.
"use strict";

// ---- Hash chain verification (docs/integrity.md) ----

const ZERO = "0".repeat(64);

// canonicalize returns the RFC 8785 (JCS) form of a JSON value: members
// sorted by their names' UTF-16 code units, no whitespace, numbers and
// strings as ECMAScript's JSON.stringify writes them (which is what JCS
// specifies).
function canonicalize(v) {
  if (v === null || typeof v !== "object") {
    if (typeof v === "number" && !Number.isFinite(v)) throw new Error("a number is not finite");
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return "[" + v.map(canonicalize).join(",") + "]";
  return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonicalize(v[k])).join(",") + "}";
}

function hexToBytes(hex) {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error("not lowercase hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

async function sha256Hex(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ChainVerifier checks one stream's events in seq order; check resolves to
// null when the event extends the chain, else to the reason it does not.
class ChainVerifier {
  constructor() {
    this.seq = 0;
    this.head = ZERO;
  }

  async check(e) {
    if (e.seq !== this.seq + 1) return `expected seq ${this.seq + 1}, got ${e.seq} (an event is missing)`;
    if (e.hash_prev !== this.head) return "hash_prev is not the previous event's hash (the chain is broken)";
    for (const f of ["stream_id", "event_id", "type", "occurred_at", "payload_digest", "hash_prev"]) {
      if (typeof e[f] !== "string" || /[\u0000-\u001f\u007f]/.test(e[f])) return `${f} is missing or holds a control character`;
    }
    if (e.payload !== null && e.payload !== undefined) {
      const enc = new TextEncoder();
      const salt = hexToBytes(e.payload_salt || "");
      const body = enc.encode(canonicalize(e.payload));
      const both = new Uint8Array(salt.length + body.length);
      both.set(salt);
      both.set(body, salt.length);
      if ((await sha256Hex(both)) !== e.payload_digest) return "the payload does not match its digest (the payload or its salt was changed)";
    }
    const entry = ["axontask-event/v1", e.stream_id, String(e.seq), e.event_id, e.type, e.occurred_at, e.payload_digest, e.hash_prev]
      .map((l) => l + "\n").join("");
    if ((await sha256Hex(new TextEncoder().encode(entry))) !== e.hash) return "the hash is not the SHA-256 of the event's entry";
    e.entry = entry;
    this.seq = e.seq;
    this.head = e.hash;
    return null;
  }
}

// ---- Receipts (docs/integrity.md, sections 8 and 9) ----

function b64ToBytes(b64) {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// parseVerifierKey reads a note verifier key, name+hash+base64(0x01 ||
// Ed25519 public key), checking its hash.
async function parseVerifierKey(vkey) {
  const plus = vkey.indexOf("+");
  const name = vkey.slice(0, plus);
  const hash = vkey.slice(plus + 1, plus + 9);
  const raw = b64ToBytes(vkey.slice(plus + 10));
  if (plus < 1 || raw.length !== 33 || raw[0] !== 1) throw new Error(`the key ${vkey} is not an Ed25519 note key`);
  const want = (await sha256(concat(new TextEncoder().encode(name + "\n"), raw))).slice(0, 4);
  if (hash !== Array.from(want, (b) => b.toString(16).padStart(2, "0")).join("")) throw new Error(`the key ${name} has a wrong hash`);
  const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
  return { id: `${name}+${hash}`, name, hashBytes: hexToBytes(hash), key };
}

const verifyEd25519 = (key, sig, data) => crypto.subtle.verify({ name: "Ed25519" }, key, sig, data);

// checkInclusion checks an RFC 9162 (2.1.3.2) inclusion proof.
async function checkInclusion(path, index, size, leaf, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const one = Uint8Array.of(1);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(one, p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await sha256(concat(one, r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameBytes(r, root);
}

// checkReceipt checks a task's receipt against its verified chain (whose
// last event is last, with its entry) and the server's published keys. It
// resolves to a description of what was proven, and throws the reason it
// fails.
async function checkReceipt(r, keys, chain, last) {
  const enc = new TextEncoder();
  const receiptKeys = await Promise.all((keys.receipts || []).map(parseVerifierKey));
  const rk = receiptKeys.find((k) => k.id === r.key_id);
  if (!rk) throw new Error(`its key ${r.key_id} is not among the published receipt keys`);
  const [text, sigs] = r.checkpoint.split("\n\n");
  const lines = text.split("\n");
  if (lines.length !== 3) throw new Error("its checkpoint is not three lines");
  const signed = ["axontask-receipt/v1", r.task_id, r.tenant_id, r.state, String(r.last_seq), r.head_hash, String(r.leaf_index), ...lines]
    .map((l) => l + "\n").join("");
  if (!(await verifyEd25519(rk.key, b64ToBytes(r.signature), enc.encode(signed)))) throw new Error("its signature does not verify");
  const logKeys = await Promise.all((keys.log || []).map(parseVerifierKey));
  let cpSigned = false;
  for (const line of (sigs || "").split("\n")) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) continue;
    const sig = b64ToBytes(m[2]);
    const lk = logKeys.find((k) => k.name === m[1] && sameBytes(k.hashBytes, sig.slice(0, 4)));
    if (lk && (await verifyEd25519(lk.key, sig.slice(4), enc.encode(text + "\n")))) cpSigned = true;
  }
  if (!cpSigned) throw new Error("its checkpoint is not signed by a published log key");
  if (r.task_id !== last.stream_id || r.tenant_id !== last.tenant_id) throw new Error("it is another task's");
  if (r.last_seq !== chain.seq || r.head_hash !== chain.head) throw new Error(`it ends at seq ${r.last_seq}, the stream at seq ${chain.seq}`);
  if (STATE_OF[last.type] !== r.state) throw new Error(`it says ${r.state}; the last event is ${last.type}`);
  if (last.position !== undefined && last.position !== null && last.position >= 0 && last.position !== r.leaf_index) {
    throw new Error(`its leaf ${r.leaf_index} is not the last event's position ${last.position}`);
  }
  const leaf = await sha256(concat(Uint8Array.of(0), enc.encode(last.entry)));
  const size = Number(lines[1]);
  if (!(await checkInclusion(r.inclusion_proof.map(b64ToBytes), r.leaf_index, size, leaf, b64ToBytes(lines[2])))) {
    throw new Error(`the last event is not leaf ${r.leaf_index} of the signed tree of ${size}`);
  }
  return `Receipt verified: signed by ${rk.id}; the last event is leaf ${r.leaf_index} of the log's tree of ${size}, signed by ${lines[0]}.`;
}

// ---- The task page ----

const STATE_OF = {
  "task.created": "created", "task.queued": "queued", "task.started": "running",
  "task.succeeded": "succeeded", "task.failed": "failed", "task.canceled": "canceled", "task.timed_out": "timed_out",
};
const MAX_LOG_EVENTS = 20000;
const TERMINAL = new Set(["task.succeeded", "task.failed", "task.canceled", "task.timed_out"]);

function followTask(root) {
  const $ = (id) => document.getElementById(id);
  const chain = new ChainVerifier();
  const log = $("log");
  let failed = false;
  let queue = Promise.resolve();

  const setChain = (status, text) => {
    root.dataset.chain = status;
    root.dataset.chainSeq = String(status === "failed" ? root.dataset.chainSeq : chain.seq);
    $("chain").textContent = text;
  };

  const show = (e) => {
    const p = e.payload || {};
    if (STATE_OF[e.type]) {
      root.dataset.taskState = STATE_OF[e.type];
      $("task-state").textContent = STATE_OF[e.type];
      $("task-state").className = "state state-" + STATE_OF[e.type];
    }
    if (e.type === "task.started" && p.attempt) $("task-attempt").textContent = String(p.attempt);
    if (e.type === "task.output") {
      const span = document.createElement("span");
      span.className = "stream-" + (p.stream === "stderr" ? "stderr" : "stdout");
      span.textContent = p.data;
      const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      log.appendChild(span);
      // The page keeps the last MAX_LOG_EVENTS output events; every event
      // is still verified.
      if (log.childNodes.length > MAX_LOG_EVENTS) log.removeChild(log.firstChild);
      if (atEnd) log.scrollTop = log.scrollHeight;
      return;
    }
    if (e.type === "task.progress") {
      $("progress").value = Math.max(0, Math.min(100, p.percent || 0));
      $("progress-text").textContent = `${Math.round(p.percent || 0)} %${p.message ? " — " + p.message : ""}`;
      return;
    }
    const li = document.createElement("li");
    const when = document.createElement("time");
    when.dateTime = e.occurred_at;
    when.textContent = e.occurred_at.replace("T", " ").replace(/\.\d+Z$/, "Z");
    li.appendChild(when);
    let text = " " + e.type.replace(/^task\./, "").replace("_", " ");
    if (p.attempt) text += ` (attempt ${p.attempt})`;
    if (p.error) text += `: ${p.error}`;
    if (p.reason) text += `: ${p.reason}`;
    if (p.exit_code !== undefined && p.exit_code !== null) text += ` (exit ${p.exit_code})`;
    li.appendChild(document.createTextNode(text));
    $("timeline").appendChild(li);
    if (TERMINAL.has(e.type)) {
      $("cancel-form").hidden = true;
      $("receipt").hidden = false;
      if (e.type === "task.succeeded") {
        $("progress").value = 100;
      }
    }
  };

  const handle = async (e) => {
    if (e.seq <= chain.seq && !failed) return; // seen already
    show(e);
    if (failed) return;
    root.dataset.chain = "checking";
    const why = await chain.check(e);
    if (why) {
      failed = true;
      root.dataset.chainSeq = String(e.seq);
      setChain("failed", `Verification failed at seq ${e.seq}: ${why}. Verified up to seq ${chain.seq}.`);
      return;
    }
    setChain("verified", `Verified to seq ${chain.seq}, head ${chain.head}`);
    if (TERMINAL.has(e.type)) await receipt(e);
  };

  // receipt fetches the ended task's receipt and checks it (a task whose
  // plan has no receipts has none; a receipt being signed is asked again).
  const receipt = async (last) => {
    const out = $("receipt-check");
    root.dataset.receipt = "checking";
    out.textContent = "Checking the task's receipt…";
    try {
      let resp;
      for (let i = 0; i < 5; i++) {
        resp = await fetch($("receipt").href, { credentials: "same-origin" });
        if (resp.ok || resp.status === 403 || resp.status === 404) break;
        await new Promise((ok) => setTimeout(ok, 500 * (i + 1)));
      }
      if (!resp.ok) {
        root.dataset.receipt = "none";
        out.textContent = resp.status === 403 ? "This tenant's plan has no receipts." : `No receipt (HTTP ${resp.status}).`;
        return;
      }
      const keys = await (await fetch(root.dataset.keys, { credentials: "same-origin" })).json();
      out.textContent = await checkReceipt(await resp.json(), keys, chain, last);
      root.dataset.receipt = "verified";
    } catch (err) {
      root.dataset.receipt = "failed";
      out.textContent = `Receipt check failed: ${err.message}.`;
    }
  };

  let ended = false;
  const es = new EventSource(root.dataset.stream);
  // A stream that the server refuses (the session ended, the task was
  // deleted) closes the EventSource for good.
  es.addEventListener("error", () => {
    if (es.readyState === EventSource.CLOSED && !ended && !failed) {
      queue = queue.then(() => {
        $("chain").textContent = `The stream stopped at seq ${chain.seq}; reload the page to go on.`;
      });
    }
  });
  for (const type of root.dataset.eventTypes.split(" ")) {
    es.addEventListener(type, (msg) => {
      let e;
      try {
        e = JSON.parse(msg.data);
      } catch (err) {
        return;
      }
      queue = queue.then(() => handle(e));
      if (TERMINAL.has(type)) {
        ended = true;
        es.close();
      }
    });
  }
}

// ---- The session, across the dashboard's tabs ----

// A page shown signed out (the sign-in page after Sign out, say) tells the
// dashboard's other tabs, whose live parts look again at once rather than
// at their next event.
const SESSION_CHANNEL = "axontask-session";

function onSignOut(fn) {
  if ("BroadcastChannel" in window) new BroadcastChannel(SESSION_CHANNEL).addEventListener("message", fn);
}

// ---- The task list: its rows follow the tenant's feed ----

// The list reads its rows again (the server renders them, with the
// filters) when the tenant's feed brings an event that changes a row: a
// moment after the first of a burst, and once more when the burst has been
// quiet for a while, since the list's read model follows the feed a moment
// behind. While the feed is down (the connection failed, or the server
// refused it), the list is read every POLL_MS instead, and the feed is
// tried again.
const ROWS_SOON_MS = 250;
const ROWS_SETTLE_MS = 2000;
const POLL_MS = 10000;

function followRows(table) {
  const body = document.getElementById("task-rows");
  const status = document.getElementById("live-status");
  let last = body.innerHTML;
  let soon = null;
  let settle = null;
  let poll = null;
  let stale = false;
  let es = null;

  const live = (mode, text) => {
    table.dataset.live = mode;
    status.textContent = text;
  };

  // read reads the rows; it resolves to false when that failed. A hidden
  // page reads them when it is shown again.
  const read = async () => {
    if (document.hidden) {
      stale = true;
      return true;
    }
    stale = false;
    try {
      const resp = await fetch(table.dataset.rows, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (resp.redirected) {
        location.reload(); // the session ended: the page goes to sign-in
        return false;
      }
      if (!resp.ok) return false;
      const html = await resp.text();
      if (html !== last) {
        last = html;
        body.innerHTML = html;
      }
      return true;
    } catch (err) {
      return false; // offline for a moment
    }
  };

  // refresh reads the rows, one read at a time: asked while a read is in
  // flight, it reads once more when that one is done, so that an older
  // answer never replaces a newer one and a tab never has two reads out.
  let reading = null;
  let again = false;
  const refresh = () => {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      let ok;
      do {
        again = false;
        ok = await read();
      } while (again);
      reading = null;
      return ok;
    })();
    return reading;
  };

  const changed = () => {
    if (!soon) {
      soon = setTimeout(() => {
        soon = null;
        refresh();
      }, ROWS_SOON_MS);
    }
    clearTimeout(settle);
    settle = setTimeout(refresh, ROWS_SETTLE_MS);
  };

  const connect = () => {
    es = new EventSource(table.dataset.feed);
    es.addEventListener("open", () => {
      clearInterval(poll);
      poll = null;
      live("feed", "The list updates itself as tasks change.");
      refresh(); // what changed while the feed was not connected
    });
    // The browser reconnects by itself after a dropped connection
    // (resuming with Last-Event-ID), and gives up on a refusal (the
    // session ended: the next read of the rows goes to sign-in).
    es.addEventListener("error", () => {
      if (poll) return;
      live("poll", `The live feed is down; the list is read every ${POLL_MS / 1000} s until it is back.`);
      poll = setInterval(async () => {
        if ((await refresh()) && es.readyState === EventSource.CLOSED) connect();
      }, POLL_MS);
      refresh();
    });
    for (const type of table.dataset.feedTypes.split(" ")) es.addEventListener(type, changed);
  };

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && stale) refresh();
  });
  onSignOut(() => refresh());
  connect();
}

document.addEventListener("DOMContentLoaded", () => {
  if ("signedOut" in document.body.dataset && "BroadcastChannel" in window) new BroadcastChannel(SESSION_CHANNEL).postMessage("signed-out");
  const task = document.querySelector("main[data-stream]");
  if (task) followTask(task);
  const tasks = document.getElementById("tasks");
  if (tasks && tasks.dataset.feed) followRows(tasks);
});
