// SPDX-License-Identifier: Apache-2.0
// deno_echo.js - a TLS load for bench/runtimes in one Deno process: a client and an echo server
// over 127.0.0.1 (Deno.connectTls, Deno.listenTls: rustls 0.23 on aws-lc at both ends).
//   deno run -A --unsafely-ignore-certificate-errors=127.0.0.1 deno_echo.js CERT KEY SIZE ITERS
//     ROUNDS GO_FILE
// Prints "pid N" once connected, waits for GO_FILE to exist (a tracer attaches by PID first),
// then runs ROUNDS rounds of ITERS round trips of SIZE bytes, printing "round NS_PER_ITER".
const [cert, key, size, iters, rounds, go] = Deno.args;
const msg = new Uint8Array(Number(size)).fill(97);
const listener = Deno.listenTls({
  hostname: "127.0.0.1", port: 0,
  cert: Deno.readTextFileSync(cert), key: Deno.readTextFileSync(key),
});
(async () => {
  for await (const conn of listener) {
    (async () => {
      const buf = new Uint8Array(65536);
      for (let n; (n = await conn.read(buf)) !== null;) await conn.write(buf.subarray(0, n));
    })();
  }
})();
const client = await Deno.connectTls({hostname: "127.0.0.1", port: listener.addr.port});
await client.handshake();
console.log("pid " + Deno.pid);
while (true) {
  try { Deno.statSync(go); break; } catch { await new Promise(r => setTimeout(r, 10)); }
}
const buf = new Uint8Array(65536);
for (let r = 0; r < Number(rounds); r++) {
  const t0 = performance.now();
  for (let i = 0; i < Number(iters); i++) {
    await client.write(msg);
    for (let got = 0; got < msg.length;) got += await client.read(buf);
  }
  console.log("round " + Math.round((performance.now() - t0) * 1e6 / Number(iters)));
}
Deno.exit(0);
