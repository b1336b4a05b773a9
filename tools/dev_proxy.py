"""The front door of `VITA_WORKERS=N make run` and `make check-workers`.

In prefork mode Odoo serves HTTP on its HTTP workers and websockets
(``/websocket``: live notifications, Discuss) on its separate gevent process,
so in production a reverse proxy routes ``/websocket`` to the gevent port and
everything else to the HTTP port. This stands in for that proxy on one
loopback port: it reads the first request line of each connection, picks the
backend by path and then pipes bytes both ways unchanged (the Host header,
the raw body and Stripe-Signature reach Odoo as sent). Browsers open every
websocket on a connection of its own, so routing per connection is enough.
"""

import argparse
import asyncio
import contextlib


async def _pipe(reader, writer):
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, RuntimeError):
        writer.close()


def _handler(http_port, gevent_port):
    async def handle(client_reader, client_writer):
        try:
            request_line = await client_reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            client_writer.close()
            return
        parts = request_line.split(b" ")
        path = parts[1] if len(parts) > 2 else b"/"
        port = gevent_port if path.split(b"?")[0] == b"/websocket" else http_port
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            client_writer.close()
            return
        upstream_writer.write(request_line)
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    return handle


async def _serve(port, http_port, gevent_port):
    server = await asyncio.start_server(_handler(http_port, gevent_port), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True, help="port the browser (and Stripe) talk to")
    parser.add_argument("--http-port", type=int, required=True, help="Odoo's HTTP workers")
    parser.add_argument("--gevent-port", type=int, required=True, help="Odoo's gevent (websocket) process")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.http_port, args.gevent_port))


if __name__ == "__main__":
    main()
