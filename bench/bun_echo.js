// SPDX-License-Identifier: Apache-2.0
// bun_echo.js - a TLS load for bench/runtimes in one Bun process: a client and an echo server
// over 127.0.0.1 (Bun.connect, Bun.listen: BoringSSL's SSL_write and SSL_read on both ends).
//   bun bun_echo.js CERT KEY SIZE ITERS ROUNDS GO_FILE
// Prints "pid N" once connected, waits for GO_FILE to exist (a tracer attaches by PID first),
// then runs ROUNDS rounds of ITERS round trips of SIZE bytes, printing "round NS_PER_ITER".
const [cert, key, size, iters, rounds, go] = process.argv.slice(2);
const msg = Buffer.alloc(Number(size), 97);
const server = Bun.listen({
  hostname: "127.0.0.1", port: 0, tls: {cert: Bun.file(cert), key: Bun.file(key)},
  socket: {data(s, d) { s.write(d); }},
});
let got = 0, left = 0, done = null, ready;
const handshaken = new Promise(resolve => { ready = resolve; });
const client = await Bun.connect({
  hostname: "127.0.0.1", port: server.port, tls: {rejectUnauthorized: false},
  socket: {
    handshake() { ready(); }, // Bun's socket.write writes nothing before it
    data(s, d) {
      got += d.length;
      while (got >= msg.length) {
        got -= msg.length;
        if (--left === 0) return done();
        s.write(msg);
      }
    },
  },
});
await handshaken;
console.log("pid " + process.pid);
while (!(await Bun.file(go).exists())) await Bun.sleep(10);
for (let r = 0; r < Number(rounds); r++) {
  const t0 = Bun.nanoseconds();
  left = Number(iters);
  await new Promise(resolve => { done = resolve; client.write(msg); });
  console.log("round " + Math.round((Bun.nanoseconds() - t0) / Number(iters)));
}
client.end();
server.stop(true);
