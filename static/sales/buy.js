// Buy page: countdown, live remaining stock, the Buy button, the order's status.
// Stock and order confirmations are pushed over /ws/sales/<id>/; only while
// that socket is down does the page poll, and it reconnects with backoff.
(function () {
  "use strict";
  const root = document.getElementById("sale");
  const saleId = root.dataset.saleId;
  const token = root.dataset.token;
  const gated = root.dataset.gated === "1";
  const startsAt = Date.parse(root.dataset.startsAt);
  const endsAt = Date.parse(root.dataset.endsAt);
  const el = (id) => document.getElementById(id);
  const button = el("buy");
  let state = el("state").textContent;
  let clicked = false;
  let myOrder = null;
  let socket = null;
  let pollTimer = null;
  let backoff = 500;

  const messages = {
    reserved: "Reserved! Your order is being written…",
    sold_out: "Sold out.",
    limit_reached: "You already bought the most allowed.",
    not_started: "The sale has not started yet.",
    ended: "The sale has ended.",
    rate_limited: "Too many clicks; try again in a second.",
    retry: "Busy: your click was not taken, please try again.",
    unauthorized: "Please sign in again.",
  };

  function render() {
    el("state").textContent = state;
    el("state").className = "state-" + state;
    const now = Date.now();
    if (now < startsAt) {
      el("countdown").textContent = "Starts in " + Math.ceil((startsAt - now) / 1000) + " s";
    } else if (now < endsAt) {
      el("countdown").textContent = state === "sold_out" ? "Sold out" : "On sale now";
    } else {
      el("countdown").textContent = "Ended";
    }
    if (state === "upcoming" && now >= startsAt && now < endsAt) state = "open";
    if (button) button.disabled = clicked || state !== "open" || now < startsAt || now >= endsAt;
    root.dataset.live = socket && socket.readyState === WebSocket.OPEN ? "yes" : "no";
  }

  function showStock(remaining, newState) {
    el("remaining").textContent = remaining;
    state = newState;
    render();
  }

  function showOrder(orderId, status) {
    if (orderId !== myOrder) return;
    el("order").textContent = "Order " + orderId + ": " + status;
    el("order").dataset.status = status;
    const payButton = el("pay");
    if (payButton) payButton.hidden = status !== "awaiting_payment"; // written: it can be paid now
  }

  // --- fallback polling, only while the socket is down ---------------------
  async function poll() {
    try {
      const r = await fetch("/api/sales/" + saleId, { cache: "no-store" });
      if (r.ok) {
        const s = await r.json();
        showStock(s.remaining, s.state);
      }
      if (myOrder && token && el("order").dataset.status === "pending") {
        const o = await fetch("/api/orders/" + myOrder, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
        if (o.ok) showOrder(myOrder, (await o.json()).status);
      }
    } catch (e) { /* keep the last values */ }
  }
  function startPolling() { if (!pollTimer) { poll(); pollTimer = setInterval(poll, 1000); } }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  // --- the live socket -------------------------------------------------------
  let socketToken = token; // dropped if the server refuses it: the stock still comes, anonymously
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const query = socketToken ? "?token=" + encodeURIComponent(socketToken) : "";
    socket = new WebSocket(scheme + location.host + "/ws/sales/" + saleId + "/" + query);
    socket.onopen = () => { backoff = 500; stopPolling(); render(); };
    socket.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.type === "stock") showStock(m.remaining, m.state);
      else if (m.type === "order") showOrder(m.order_id, m.status);
    };
    socket.onclose = (event) => {
      render();
      if (event.code === 4404) return; // no such sale: nothing to wait for
      if (event.code === 4401) socketToken = null; // the same token would be refused again
      startPolling();
      setTimeout(connect, backoff + Math.random() * backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  // A gated sale (sales/admission.py): a challenge, solved here (static/sales/challenge.js), earns
  // a single-use purchase pass that the buy spends. Returns the pass, or the answer that refused one.
  async function earnPass() {
    const auth = { Authorization: "Bearer " + token, "Content-Type": "application/json" };
    const c = await fetch("/api/sales/" + saleId + "/challenge", { method: "POST", headers: auth, body: "{}" });
    const issued = await c.json();
    if (!c.ok) return { refused: issued };
    el("outcome").textContent = "Checking you are not a bot…";
    const began = performance.now();
    const counter = window.seckillChallenge.solve(issued.seed, issued.difficulty);
    root.dataset.solveMs = Math.round(performance.now() - began);
    const p = await fetch("/api/sales/" + saleId + "/pass", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ seed: issued.seed, counter: counter }),
    });
    const answer = await p.json();
    return p.ok ? { pass: answer.pass } : { refused: answer };
  }

  async function buy() {
    clicked = true;
    render();
    let body = {};
    try {
      const headers = { Authorization: "Bearer " + token, "Content-Type": "application/json" };
      const earned = gated ? await earnPass() : {};
      if (earned.refused) {
        body = earned.refused;
      } else {
        if (earned.pass) headers["Purchase-Pass"] = earned.pass;
        const r = await fetch("/api/sales/" + saleId + "/buy", { method: "POST", headers: headers, body: "{}" });
        body = await r.json();
      }
    } catch (e) {
      body = { status: "retry" };
    }
    el("outcome").textContent = messages[body.status] || "Error: " + (body.detail || body.status);
    el("outcome").dataset.status = body.status;
    if (typeof body.remaining === "number") el("remaining").textContent = body.remaining;
    if (body.status === "reserved") {
      myOrder = body.order_id;
      showOrder(myOrder, "pending");
      // The confirmation may have been pushed before we knew the id: ask once.
      const o = await fetch("/api/orders/" + myOrder, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
      if (o.ok) {
        const status = (await o.json()).status;
        if (status !== "pending") showOrder(myOrder, status);
      }
    } else if (["retry", "rate_limited", "challenge_failed", "pass_required"].includes(body.status)) {
      clicked = false; // the click was not taken: the buyer may try again
    }
    render();
  }

  async function pay() {
    let body = {};
    try {
      const r = await fetch("/api/orders/" + myOrder + "/pay", {
        method: "POST",
        headers: { Authorization: "Bearer " + token },
      });
      body = await r.json();
    } catch (e) {
      body = { status: "retry" };
    }
    if (["paid", "expired", "cancelled"].includes(body.status)) showOrder(myOrder, body.status);
  }

  if (button) button.addEventListener("click", buy);
  if (el("pay")) el("pay").addEventListener("click", pay);
  render();
  connect();
  setInterval(render, 250);
})();
