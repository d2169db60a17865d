// A second, independent verifier of AxonTask exports, receipts and proofs,
// written from docs/integrity.md alone (sections 2 to 9), in JavaScript on
// Node.js with one npm package, canonicalize (RFC 8785). It shares no code
// with the Go implementation: if the two ever disagree, the spec or one of
// them is wrong.
//
// Usage:
//   node verify.mjs EXPORT [--receipt FILE --receipt-key KEY [--log-key KEY] [--newer FILE]]
//
// Exit status: 0 verified; 1 verification failed, naming the first check
// that failed (the kinds of docs/integrity.md: wrong_digest, truncated,
// receipt_signature, not_included, forked, …); 2 usage or unreadable input.

import { createHash, createPublicKey, verify as verifySignature } from "node:crypto";
import { readFileSync } from "node:fs";
import canonicalize from "canonicalize";

class Failure extends Error {
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
  }
}

const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const ZERO = "0".repeat(64);
const hasControl = (s) => /[\u0000-\u001f\u007f-\u009f]/.test(s);

// Section 4: the entry, eight lines each ending in LF.
function entryOf(e) {
  return [
    "axontask-event/v1", e.stream_id, String(e.seq), e.event_id, e.type,
    e.occurred_at, e.payload_digest, e.hash_prev,
  ].map((line) => line + "\n").join("");
}

// Sections 5 and 6: every stream's chain, in the export's order. Returns the
// events (with their entries) and each stream's head.
function verifyChains(text) {
  const heads = new Map();
  const events = [];
  let lastPosition = -1;
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `line ${i + 1}`;
    let e;
    try {
      e = JSON.parse(line);
    } catch (err) {
      throw new Failure("invalid_field", `${where}: not JSON: ${err.message}`);
    }
    for (const f of ["stream_id", "type", "stream_type", "tenant_id"]) {
      if (typeof e[f] !== "string" || e[f] === "" || hasControl(e[f])) {
        throw new Failure("invalid_field", `${where}: ${f} is empty or holds a control character`);
      }
    }
    if ((e.payload === null) !== (e.payload_salt === null)) {
      throw new Failure("invalid_field", `${where}: payload and payload_salt must be both present or both null`);
    }
    if (e.position !== undefined && e.position !== null) {
      if (e.position <= lastPosition) throw new Failure("feed_order", `${where}: position ${e.position} after ${lastPosition}`);
      lastPosition = e.position;
    }
    const head = heads.get(e.stream_id) ?? { seq: 0, hash: ZERO, tenant: e.tenant_id };
    if (head.seq === 0 && (e.seq !== 1 || e.hash_prev !== ZERO)) {
      throw new Failure("bad_start", `${where}: stream ${e.stream_id} starts at seq ${e.seq}`);
    }
    if (e.tenant_id !== head.tenant) throw new Failure("invalid_field", `${where}: tenant_id changes within the stream`);
    if (e.seq <= head.seq) throw new Failure("seq_order", `${where}: seq ${e.seq} after ${head.seq}`);
    if (e.seq > head.seq + 1) throw new Failure("seq_gap", `${where}: seq ${e.seq} after ${head.seq}`);
    if (e.hash_prev !== head.hash) throw new Failure("broken_link", `${where}: hash_prev is not the previous event's hash`);
    if (e.payload !== null) {
      const digest = sha256(Buffer.from(e.payload_salt, "hex"), Buffer.from(canonicalize(e.payload), "utf8")).toString("hex");
      if (digest !== e.payload_digest) throw new Failure("wrong_digest", `${where}: SHA-256(salt || payload) is ${digest}`);
    }
    const entry = entryOf(e);
    if (sha256(Buffer.from(entry, "utf8")).toString("hex") !== e.hash) {
      throw new Failure("wrong_hash", `${where}: hash is not SHA-256 of the entry`);
    }
    heads.set(e.stream_id, { seq: e.seq, hash: e.hash, tenant: e.tenant_id });
    events.push({ event: e, entry });
  });
  if (events.length === 0) throw new Failure("invalid_field", "the export holds no events");
  return { events, heads };
}

// Section 8.2: note verifier keys, name+hash+base64(0x01 || public key).
function parseVerifierKey(vkey) {
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  const [name, hash, key] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  const raw = Buffer.from(key, "base64");
  if (first <= 0 || second < 0 || !/^[0-9a-f]{8}$/.test(hash) || raw.length !== 33 || raw[0] !== 1) {
    throw new Failure("usage", `not a note verifier key: ${vkey}`);
  }
  const keyHash = sha256(Buffer.from(name + "\n", "utf8"), raw).subarray(0, 4).toString("hex");
  if (keyHash !== hash) throw new Failure("usage", `the key hash of ${name} is ${keyHash}, not ${hash}`);
  const der = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw.subarray(1)]);
  return { name, hash, id: `${name}+${hash}`, key: createPublicKey({ key: der, format: "der", type: "spki" }) };
}

// Section 8.2: a signed note: text, a blank line, "— name base64(hash || sig)" lines.
function openNote(note, key, kind) {
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) throw new Failure("bad_checkpoint", "the checkpoint is not a signed note");
  const text = note.slice(0, cut + 1);
  for (const line of note.slice(cut + 2).split("\n")) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== key.name) continue;
    const sig = Buffer.from(m[2], "base64");
    if (sig.length === 68 && sig.subarray(0, 4).toString("hex") === key.hash &&
        verifySignature(null, Buffer.from(text, "utf8"), key.key, sig.subarray(4))) {
      return text;
    }
  }
  throw new Failure(kind, `the checkpoint is not signed by ${key.id}`);
}

// Section 8.2: the checkpoint's text.
function parseCheckpoint(text) {
  const [origin, size, root] = text.split("\n");
  const rootBytes = Buffer.from(root ?? "", "base64");
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(size ?? "") || rootBytes.length !== 32) {
    throw new Failure("bad_checkpoint", "the checkpoint is not origin, size and root lines");
  }
  return { origin, size: Number(size), root: rootBytes, lines: `${origin}\n${size}\n${root}\n` };
}

const node = (l, r) => sha256(Buffer.from([1]), l, r);
const lsb = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

// Section 8.3 (RFC 9162 2.1.3.2): an audit path from a leaf to the root.
function checkInclusion(proof, index, size, leaf, root) {
  if (index >= size) throw new Failure("not_included", `leaf ${index} is outside the tree of size ${size}`);
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Failure("not_included", "the proof is too long");
    if (lsb(fn) || fn === sn) {
      r = node(p, r);
      if (!lsb(fn)) while (!lsb(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = node(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0 || !r.equals(root)) throw new Failure("not_included", `the proof of leaf ${index} does not lead to the root of the tree of size ${size}`);
}

// Section 8.3 (RFC 9162 2.1.4.2): a newer tree extends an older one.
function checkConsistency(proof, older, newer) {
  if (older.size === newer.size) {
    if (!older.root.equals(newer.root)) throw new Failure("forked", `two checkpoints of size ${older.size} have different roots`);
    return;
  }
  if (older.size > newer.size) throw new Failure("inconsistent", "the newer tree is smaller");
  let path = proof;
  if ((older.size & (older.size - 1)) === 0) path = [older.root, ...proof];
  if (path.length === 0) throw new Failure("inconsistent", "the proof is empty");
  let fn = older.size - 1, sn = newer.size - 1;
  while (lsb(fn)) { fn = half(fn); sn = half(sn); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new Failure("inconsistent", "the proof is too long");
    if (lsb(fn) || fn === sn) {
      fr = node(c, fr); sr = node(c, sr);
      while (!lsb(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = node(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0 || !fr.equals(older.root) || !sr.equals(newer.root)) {
    throw new Failure("inconsistent", `the tree of size ${newer.size} does not extend the tree of size ${older.size}`);
  }
}

const hashes = (list) => list.map((h) => Buffer.from(h, "base64"));

// Section 9.1: a receipt against the chains, in the spec's order.
function verifyReceipt(chains, receipt, receiptKey, logKey, newer) {
  if (receipt.key_id !== receiptKey.id) throw new Failure("receipt_signature", `signed by ${receipt.key_id}, not the pinned ${receiptKey.id}`);
  const noteText = logKey ? openNote(receipt.checkpoint, logKey, "checkpoint_signature")
    : receipt.checkpoint.slice(0, receipt.checkpoint.lastIndexOf("\n\n") + 1);
  const cp = parseCheckpoint(noteText);
  const signed = ["axontask-receipt/v1", receipt.task_id, receipt.tenant_id, receipt.state, String(receipt.last_seq),
    receipt.head_hash, String(receipt.leaf_index)].map((l) => l + "\n").join("") + cp.lines;
  if (!verifySignature(null, Buffer.from(signed, "utf8"), receiptKey.key, Buffer.from(receipt.signature, "base64"))) {
    throw new Failure("receipt_signature", "the signature does not verify with the pinned key");
  }
  const head = chains.heads.get(receipt.task_id);
  if (!head) throw new Failure("bad_receipt", `the export holds no event of task ${receipt.task_id}`);
  if (head.seq < receipt.last_seq) throw new Failure("truncated", `the task ends at seq ${head.seq}, before the receipt's ${receipt.last_seq}`);
  if (head.seq > receipt.last_seq) throw new Failure("head_mismatch", `the task goes on past seq ${receipt.last_seq}`);
  const end = chains.events.find(({ event }) => event.stream_id === receipt.task_id && event.seq === receipt.last_seq);
  const terminal = { "task.succeeded": "succeeded", "task.failed": "failed", "task.canceled": "canceled", "task.timed_out": "timed_out" };
  const e = end.event;
  if (e.hash !== receipt.head_hash || e.tenant_id !== receipt.tenant_id || terminal[e.type] !== receipt.state ||
      (e.position !== undefined && e.position !== null && e.position !== receipt.leaf_index)) {
    throw new Failure("head_mismatch", `the event at seq ${e.seq} is not the one the receipt names`);
  }
  const leaf = sha256(Buffer.from([0]), Buffer.from(end.entry, "utf8"));
  checkInclusion(hashes(receipt.inclusion_proof), receipt.leaf_index, cp.size, leaf, cp.root);
  let result = `receipt verified: task ${receipt.task_id} ${receipt.state} at seq ${receipt.last_seq}, leaf ${receipt.leaf_index} of the tree of size ${cp.size}`;
  if (newer) {
    if (!logKey) throw new Failure("checkpoint_signature", "a newer checkpoint needs --log-key");
    const nc = parseCheckpoint(openNote(newer.checkpoint, logKey, "checkpoint_signature"));
    if (nc.origin !== cp.origin) throw new Failure("inconsistent", "the checkpoints are of two logs");
    if (newer.consistency.old !== cp.size || newer.consistency.new !== nc.size) throw new Failure("inconsistent", "the proof is between other sizes");
    checkConsistency(hashes(newer.consistency.hashes), cp, nc);
    result += `; the newer checkpoint of size ${nc.size} extends it`;
  }
  return result;
}

function main(argv) {
  const args = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) args[argv[i].slice(2)] = argv[++i];
    else args.positional.push(argv[i]);
  }
  if (args.positional.length !== 1 || (args.receipt && !args["receipt-key"])) {
    console.error("usage: node verify.mjs EXPORT [--receipt FILE --receipt-key KEY [--log-key KEY] [--newer FILE]]");
    return 2;
  }
  try {
    const chains = verifyChains(readFileSync(args.positional[0], "utf8"));
    console.log(`verified ${chains.events.length} events in ${chains.heads.size} streams`);
    if (args.receipt) {
      const receipt = JSON.parse(readFileSync(args.receipt, "utf8"));
      const newer = args.newer ? JSON.parse(readFileSync(args.newer, "utf8")) : null;
      const logKey = args["log-key"] ? parseVerifierKey(args["log-key"]) : null;
      console.log(verifyReceipt(chains, receipt, parseVerifierKey(args["receipt-key"]), logKey, newer));
    }
    return 0;
  } catch (err) {
    if (err instanceof Failure && err.kind !== "usage") {
      console.error(`verification FAILED: ${err.message}`);
      return 1;
    }
    console.error(`verify.mjs: ${err.message}`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
