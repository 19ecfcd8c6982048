// One TCP stream of a known length, for tests that need an exact TCP byte count (iperf3 reports
// what its server counted when the test ended, which can be short of what was sent).
//   node tcp-stream.mjs serve PORT        accept one connection, count its bytes up to the
//                                          peer's FIN; prints "listening", then "received N"
//   node tcp-stream.mjs send HOST PORT N  connect, write N bytes, close; exits 0 once closed
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);
if (mode === 'serve') {
  const server = net.createServer((sock) => {
    let n = 0;
    sock.on('data', (d) => { n += d.length; });
    sock.on('end', () => {
      process.stdout.write(`received ${n}\n`);
      sock.end();
      server.close();
    });
  });
  server.listen(Number(args[0]), () => process.stdout.write('listening\n'));
} else if (mode === 'send') {
  const [host, port, bytes] = args;
  const sock = net.connect(Number(port), host, () => {
    let left = Number(bytes);
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!sock.write(chunk.subarray(0, n))) { sock.once('drain', pump); return; }
      }
      sock.end();
    };
    pump();
  });
  sock.on('close', (hadError) => process.exit(hadError ? 1 : 0));
  sock.on('error', (e) => { process.stderr.write(`${e.message}\n`); process.exit(1); });
} else {
  process.stderr.write('usage: tcp-stream.mjs serve PORT | send HOST PORT N\n');
  process.exit(2);
}
