"""Network stand-in between the Worker and the local gateway: browser WebSockets look remote.

In a deployment the gateway never sees the browser on loopback, so a new Control UI asks for
device pairing. Locally every hop is 127.0.0.1 and OpenClaw silently approves loopback clients,
so this TCP relay adds `X-Forwarded-For: <documentation address>` to WebSocket upgrades that
carry an `Origin` (browsers; the Worker's own admin RPC sends none and stays local). The
gateway trusts 127.0.0.1 as a proxy (the boot code's trustedProxies), so it treats the browser as
remote, exactly as in a deployment. Everything else is relayed byte for byte.
Run alone: `python -m dev.edge --port 8794 --upstream-port 18789`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

# TEST-NET-3 (RFC 5737): a documentation address, never routed; only a header value here.
SIMULATED_CLIENT_IP = "203.0.113.10"
_HEAD_LIMIT = 64 * 1024
_DROPPED = (b"x-forwarded-for:", b"forwarded:", b"x-real-ip:")


def rewrite_head(head: bytes, client_ip: str = SIMULATED_CLIENT_IP) -> bytes:
    """Mark a browser WebSocket upgrade as coming from `client_ip`; other heads unchanged."""
    lines = head.split(b"\r\n")
    headers = [line.lower() for line in lines[1:]]
    is_upgrade = any(h.startswith(b"upgrade:") and b"websocket" in h for h in headers)
    from_browser = any(h.startswith(b"origin:") for h in headers)
    if not (is_upgrade and from_browser):
        return head
    kept = [lines[0]] + [line for line in lines[1:] if not line.lower().startswith(_DROPPED)]
    # The head ends with an empty line; insert before it.
    while kept and kept[-1] == b"":
        kept.pop()
    kept.append(b"X-Forwarded-For: " + client_ip.encode())
    return b"\r\n".join([*kept, b"", b""])


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.write_eof()


async def _forward_body(
    head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Copy one request body (Content-Length or chunked) so the next head can be found."""
    headers = [line.lower() for line in head.split(b"\r\n")[1:]]
    chunked = any(h.startswith(b"transfer-encoding:") and b"chunked" in h for h in headers)
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            writer.write(size_line)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    writer.write(trailer)
                writer.write(b"\r\n")
                break
            writer.write(await reader.readexactly(size + 2))
            await writer.drain()
        return
    length = next(
        (
            int(h.split(b":", 1)[1].strip() or b"0")
            for h in headers
            if h.startswith(b"content-length:")
        ),
        0,
    )
    while length > 0:
        data = await reader.read(min(length, 65536))
        if not data:
            raise asyncio.IncompleteReadError(b"", length)
        writer.write(data)
        length -= len(data)
    await writer.drain()


async def _requests(client_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> None:
    """Client → gateway: rewrite each request head (keep-alive aware), then raw after upgrade."""
    try:
        while True:
            head = await client_reader.readuntil(b"\r\n\r\n")
            rewritten = rewrite_head(head)
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            if rewritten != head:
                print(f"edge: {request_line} (browser WebSocket: marked remote)", flush=True)
            up_writer.write(rewritten)
            await up_writer.drain()
            if b"\r\nupgrade:" in head.lower():
                break
            await _forward_body(head, client_reader, up_writer)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        with contextlib.suppress(OSError, RuntimeError):
            up_writer.write_eof()
        return
    await _pipe(client_reader, up_writer)


async def relay(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    upstream_host: str,
    upstream_port: int,
) -> None:
    try:
        up_reader, up_writer = await asyncio.open_connection(upstream_host, upstream_port)
    except OSError:
        client_writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        client_writer.close()
        return
    await asyncio.gather(_requests(client_reader, up_writer), _pipe(up_reader, client_writer))
    for writer in (up_writer, client_writer):
        writer.close()


async def serve(host: str, port: int, upstream_host: str, upstream_port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await relay(reader, writer, upstream_host, upstream_port)

    server = await asyncio.start_server(handle, host, port, limit=_HEAD_LIMIT)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"edge: listening on http://{host}:{port} -> {upstream_host}:{upstream_port}", flush=True)
    async with server:
        await stop.wait()
    print("edge: stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8794)
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--upstream-port", type=int, default=18789)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.upstream_host, args.upstream_port))


if __name__ == "__main__":
    main()
