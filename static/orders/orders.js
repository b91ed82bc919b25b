// My orders: a countdown to each order's pay_by, a Pay button (session + CSRF), and each
// order's status kept live by the /ws/orders/ socket (polling /api/orders while it is down).
(function () {
  "use strict";
  const rows = () => Array.from(document.querySelectorAll("tr[data-order]"));
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || "";
  let pollTimer = null;
  let backoff = 500;

  function show(orderId, status) {
    const row = document.querySelector('tr[data-order="' + orderId + '"]');
    if (!row) return false;
    row.dataset.status = status;
    row.querySelector(".status").textContent = status;
    row.querySelector(".pay").hidden = status !== "awaiting_payment";
    if (status !== "awaiting_payment") row.querySelector(".countdown").textContent = "";
    return true;
  }

  function tick() {
    const now = Date.now();
    for (const row of rows()) {
      const cell = row.querySelector(".countdown");
      if (row.dataset.status !== "awaiting_payment" || !row.dataset.payBy) {
        cell.textContent = "";
        continue;
      }
      const left = Math.max(0, Math.round((Date.parse(row.dataset.payBy) - now) / 1000));
      cell.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    }
  }

  async function pay(row) {
    row.querySelector(".pay").disabled = true;
    let body = {};
    try {
      const r = await fetch("/api/orders/" + row.dataset.order + "/pay", {
        method: "POST",
        headers: { "X-CSRFToken": csrf() },
        credentials: "same-origin",
      });
      body = await r.json();
    } catch (e) {
      body = { status: "retry" };
    }
    const out = document.getElementById("outcome");
    out.textContent = body.status === "paid" ? "Paid: payment " + body.payment_id : "Not paid: " + body.status;
    out.dataset.status = body.status;
    if (["paid", "expired", "cancelled"].includes(body.status)) show(row.dataset.order, body.status);
    row.querySelector(".pay").disabled = false;
  }

  async function poll() {
    try {
      const r = await fetch("/api/orders", { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) return;
      const known = (await r.json()).orders;
      if (known.some((o) => !show(o.order_id, o.status))) location.reload(); // a new order: redraw
    } catch (e) { /* keep what is shown */ }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/orders/");
    socket.onopen = () => { backoff = 500; clearInterval(pollTimer); pollTimer = null; poll(); };
    socket.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.type === "order" && !show(m.order_id, m.status)) poll();
    };
    socket.onclose = (event) => {
      if (event.code === 4401) return; // signed out
      if (!pollTimer) pollTimer = setInterval(poll, 2000);
      setTimeout(connect, backoff + Math.random() * backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  for (const row of rows()) row.querySelector(".pay").addEventListener("click", () => pay(row));
  tick();
  setInterval(tick, 1000);
  connect();
})();
