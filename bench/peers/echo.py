"""TCP echo servers for the benchmark, on asyncio and on uvloop, in three styles.

Usage: echo.py asyncio|uvloop PORT [proto|sock|streams]   (listens on 127.0.0.1:PORT until killed)

proto (the default): the Protocol API; data_received writes the bytes straight back through the
transport, in the poll's own callback.
sock: the design of Loopbook's server (bench/echo): one task per connection that awaits
loop.sock_recv_into into a reused 16 KiB buffer and then loop.sock_sendall, so every request is a
future resolved by a reader and a task woken through call_soon.
streams: start_server, one task per connection doing reader.read(16384), writer.write, drain.

TCP_NODELAY is set on every connection (asyncio does so by default for transports, uvloop too; it
is set here so that no style depends on it).
"""

import asyncio
import socket
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            nodelay(sock)

    def data_received(self, data):
        self.transport.write(data)


BUF_SIZE = 16 << 10


def nodelay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def sock_conn(loop, conn):
    buf = bytearray(BUF_SIZE)
    view = memoryview(buf)
    try:
        while True:
            n = await loop.sock_recv_into(conn, buf)
            if n == 0:
                return
            await loop.sock_sendall(conn, view[:n])
    except OSError:
        pass  # a benchmark client resets its connections when it exits
    finally:
        conn.close()


async def sock_server(loop, port):
    ln = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ln.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ln.bind(("127.0.0.1", port))
    ln.listen(1024)
    ln.setblocking(False)
    tasks = set()  # the loop keeps only weak references to tasks
    while True:
        conn, _ = await loop.sock_accept(ln)
        conn.setblocking(False)
        nodelay(conn)
        t = loop.create_task(sock_conn(loop, conn))
        tasks.add(t)
        t.add_done_callback(tasks.discard)


async def stream_conn(reader, writer):
    nodelay(writer.get_extra_info("socket"))
    try:
        while data := await reader.read(BUF_SIZE):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    impl, port = sys.argv[1], int(sys.argv[2])
    style = sys.argv[3] if len(sys.argv) == 4 else "proto"
    if impl == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    elif impl == "asyncio":
        loop = asyncio.new_event_loop()
    else:
        raise SystemExit(f"unknown impl {impl!r}: want asyncio or uvloop")
    asyncio.set_event_loop(loop)
    if style == "sock":
        print(f"{impl} {style} echo server on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        loop.run_until_complete(sock_server(loop, port))
        return
    if style == "proto":
        serve = loop.create_server(Echo, "127.0.0.1", port, reuse_address=True, backlog=1024)
    elif style == "streams":
        serve = asyncio.start_server(stream_conn, "127.0.0.1", port, reuse_address=True, backlog=1024)
    else:
        raise SystemExit(f"unknown style {style!r}: want proto, sock or streams")
    server = loop.run_until_complete(serve)
    print(f"{impl} {style} echo server on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
