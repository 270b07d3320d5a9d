// TCP echo server for the benchmark: Node's net module, echoing on 'data' with TCP_NODELAY.
//
// Usage: node echo.js PORT   (listens on 127.0.0.1:PORT until killed)
'use strict';

const net = require('net');

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error('usage: node echo.js PORT');
  process.exit(2);
}
const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('data', (buf) => sock.write(buf));
  sock.on('error', () => sock.destroy()); // clients reset their connections when they exit
});
server.listen({ host: '127.0.0.1', port, backlog: 1024 }, () => {
  console.error(`node echo server on 127.0.0.1:${port}`);
});
