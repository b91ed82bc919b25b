"use strict";
// The buy page's proof-of-work solver (sales/challenge.py says why proof of work and what a
// solution is): the smallest counter whose sha256(seed + ":" + counter) starts with
// `difficulty` zero bits. Synchronous SHA-256 on bytes: SubtleCrypto's digest costs a promise
// per hash, and the page hashes tens of thousands of tiny inputs (not measured against it).
(function (root) {
  const H0 = new Uint32Array(8);
  const K = new Uint32Array(64);
  // the first 32 bits of the fractional parts of the square (H0) and cube (K) roots of the first primes
  const frac = (x) => (x - Math.floor(x)) * 4294967296;
  for (let n = 2, found = 0; found < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (!prime) continue;
    if (found < 8) H0[found] = frac(Math.pow(n, 1 / 2));
    K[found] = frac(Math.pow(n, 1 / 3));
    found++;
  }
  const ror = (x, n) => (x >>> n) | (x << (32 - n));
  const w = new Uint32Array(64);

  function sha256(bytes) {
    const length = ((bytes.length + 9 + 63) >> 6) << 6;
    const block = new Uint8Array(length);
    block.set(bytes);
    block[bytes.length] = 0x80;
    const view = new DataView(block.buffer);
    view.setUint32(length - 8, Math.floor((bytes.length * 8) / 4294967296));
    view.setUint32(length - 4, (bytes.length * 8) >>> 0);
    const h = H0.slice();
    for (let offset = 0; offset < length; offset += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + 4 * i);
      for (let i = 16; i < 64; i++) {
        const x = w[i - 15];
        const y = w[i - 2];
        w[i] = w[i - 16] + (ror(x, 7) ^ ror(x, 18) ^ (x >>> 3)) + w[i - 7] + (ror(y, 17) ^ ror(y, 19) ^ (y >>> 10));
      }
      let [a, b, c, d, e, f, g, k] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h[0] += a;
      h[1] += b;
      h[2] += c;
      h[3] += d;
      h[4] += e;
      h[5] += f;
      h[6] += g;
      h[7] += k;
    }
    return h;
  }

  function leadingZeroBits(h) {
    let bits = 0;
    for (const word of h) {
      if (word !== 0) return bits + Math.clz32(word);
      bits += 32;
    }
    return bits;
  }

  function solve(seed, difficulty) {
    const encoder = new TextEncoder();
    for (let counter = 0; ; counter++) {
      if (leadingZeroBits(sha256(encoder.encode(seed + ":" + counter))) >= difficulty) return counter;
    }
  }

  const api = { sha256, solve };
  root.seckillChallenge = api;
  if (typeof module !== "undefined") module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
