"use strict";
// The audit page: fetch the sale's log and check it here (sales/audit.py is the reference):
// each hash is sha256(previous hash + "\n" + the entry's canonical JSON), the first previous
// hash is the sale's genesis, seq runs 1, 2, 3 without a gap, time never goes back, and the
// last hash is the head the buyer was given. Then the buyer's own entries must be in it.
(function () {
  const root = document.getElementById("audit");
  const saleId = root.dataset.saleId;
  const token = root.dataset.token;
  const el = (id) => document.getElementById(id);
  const encoder = new TextEncoder();
  // challenge.js's sha256 gives the digest as eight 32-bit words
  const hex = (words) => Array.from(words, (w) => w.toString(16).padStart(8, "0")).join("");

  function canonical(row) {
    // the keys in sorted order, no spaces: what Python's json.dumps(sort_keys=True) writes
    const entry = { at_ms: row.at_ms, buyer: row.buyer, kind: row.kind, order_id: row.order_id || "", seq: row.seq };
    return JSON.stringify(entry);
  }

  function check(log, head) {
    let previous = log.genesis;
    let before = null;
    for (const row of log.entries) {
      const expected = before ? before.seq + 1 : 1;
      if (row.seq !== expected) return "entry seq " + row.seq + ": expected seq " + expected;
      if (before && row.at_ms < before.at_ms) return "entry seq " + row.seq + ": its time is before the previous entry's";
      previous = hex(window.seckillChallenge.sha256(encoder.encode(previous + "\n" + canonical(row))));
      if (previous !== row.hash) return "entry seq " + row.seq + ": its hash does not follow from the entries before it";
      before = row;
    }
    if (previous !== head) return "the log does not end at the head (an entry was dropped, added or changed)";
    return null;
  }

  async function verify() {
    const log = await (await fetch("/api/sales/" + saleId + "/audit", { cache: "no-store" })).json();
    const head = el("head").value.trim() || log.head;
    if (!el("head").value.trim()) el("head").value = head;
    const problem = check(log, head);
    el("verdict").dataset.status = problem ? "broken" : "verified";
    el("verdict").textContent = problem
      ? "Does not verify: " + problem
      : "Verified: " + log.entries.length + " entries, in sequence, ending at the head" +
        (log.published ? " the operator published." : " (not published yet).");
    if (!token || problem) return;
    const mine = await (await fetch("/api/sales/" + saleId + "/audit/mine", {
      headers: { Authorization: "Bearer " + token }, cache: "no-store",
    })).json();
    const bySeq = new Map(log.entries.map((row) => [row.seq, row]));
    const missing = mine.entries.filter((row) => !bySeq.has(row.seq) || bySeq.get(row.seq).hash !== row.hash);
    el("mine").dataset.status = missing.length ? "missing" : "found";
    el("mine").textContent = missing.length
      ? "Your entry seq " + missing[0].seq + " is not in the log as you were told it."
      : "You are " + mine.pseudonym + ": your " + mine.entries.length + " entries are in the log, at seq " +
        mine.entries.map((row) => row.seq).join(", ") + ".";
  }

  el("verify").addEventListener("click", verify);
  verify();
})();
