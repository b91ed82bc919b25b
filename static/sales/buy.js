// Buy page: countdown, remaining stock, the Buy button and the order's status.
// Stock is polled once a second for now; live updates come over websockets later.
(function () {
  "use strict";
  const root = document.getElementById("sale");
  const saleId = root.dataset.saleId;
  const token = root.dataset.token;
  const startsAt = Date.parse(root.dataset.startsAt);
  const endsAt = Date.parse(root.dataset.endsAt);
  const el = (id) => document.getElementById(id);
  const button = el("buy");
  let state = el("state").textContent;
  let clicked = false;

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
      const s = Math.ceil((startsAt - now) / 1000);
      el("countdown").textContent = "Starts in " + s + " s";
    } else if (now < endsAt) {
      el("countdown").textContent = "On sale now";
    } else {
      el("countdown").textContent = "Ended";
    }
    if (button) {
      button.disabled = clicked || state !== "open" || now < startsAt || now >= endsAt;
    }
  }

  async function refreshStock() {
    try {
      const r = await fetch("/api/sales/" + saleId, { cache: "no-store" });
      if (r.ok) {
        const s = await r.json();
        el("remaining").textContent = s.remaining;
        state = s.state;
      }
    } catch (e) { /* keep the last value; next tick tries again */ }
    render();
  }

  async function followOrder(orderId) {
    el("order").textContent = "Order " + orderId + ": pending";
    for (let i = 0; i < 120; i++) {
      const r = await fetch("/api/orders/" + orderId, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
      if (r.ok) {
        const o = await r.json();
        el("order").textContent = "Order " + orderId + ": " + o.status;
        if (o.status === "confirmed") return;
      }
      await new Promise((done) => setTimeout(done, 1000));
    }
  }

  async function buy() {
    clicked = true;
    render();
    let body = {};
    try {
      const r = await fetch("/api/sales/" + saleId + "/buy", {
        method: "POST",
        headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
        body: "{}",
      });
      body = await r.json();
    } catch (e) {
      body = { status: "retry" };
    }
    el("outcome").textContent = messages[body.status] || ("Error: " + (body.detail || body.status));
    el("outcome").dataset.status = body.status;
    if (typeof body.remaining === "number") el("remaining").textContent = body.remaining;
    if (body.status === "reserved") {
      followOrder(body.order_id);
    } else if (body.status === "retry" || body.status === "rate_limited") {
      clicked = false; // the click was not taken: the buyer may try again
    }
    render();
  }

  if (button) button.addEventListener("click", buy);
  render();
  refreshStock();
  setInterval(refreshStock, 1000);
  setInterval(render, 250);
})();
