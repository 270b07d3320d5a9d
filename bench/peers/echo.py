"""TCP echo servers for the benchmark: asyncio and uvloop, both with the Protocol API.

Usage: echo.py asyncio|uvloop PORT   (listens on 127.0.0.1:PORT until killed)

data_received writes the bytes straight back through the transport; TCP_NODELAY is set on every
connection (asyncio does so by default, uvloop too; it is set here so neither depends on it).
"""

import asyncio
import socket
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.transport.write(data)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    impl, port = sys.argv[1], int(sys.argv[2])
    if impl == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    elif impl == "asyncio":
        loop = asyncio.new_event_loop()
    else:
        raise SystemExit(f"unknown impl {impl!r}: want asyncio or uvloop")
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(Echo, "127.0.0.1", port, reuse_address=True, backlog=1024)
    )
    print(f"{impl} echo server on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
