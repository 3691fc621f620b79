"""Network stand-in: browser WebSocket upgrades are marked remote, everything else passes as is."""

from __future__ import annotations

import asyncio

from dev import edge

BROWSER_UPGRADE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8794\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Origin: http://127.0.0.1:8794\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n"
)
WORKER_RPC_UPGRADE = b"GET / HTTP/1.1\r\nHost: gateway.internal\r\nUpgrade: websocket\r\n\r\n"
PLAIN_GET = b"GET /readyz HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\n\r\n"


def test_browser_upgrade_gets_the_simulated_client_address() -> None:
    rewritten = edge.rewrite_head(BROWSER_UPGRADE)
    assert rewritten.endswith(b"\r\n\r\n")
    assert b"X-Forwarded-For: " + edge.SIMULATED_CLIENT_IP.encode() in rewritten
    assert b"10.9.9.9" not in rewritten, "a client-supplied address is never passed on"
    assert rewritten.startswith(b"GET / HTTP/1.1\r\n")


def test_other_requests_are_untouched() -> None:
    assert edge.rewrite_head(WORKER_RPC_UPGRADE) == WORKER_RPC_UPGRADE
    assert edge.rewrite_head(PLAIN_GET) == PLAIN_GET


def test_relay_rewrites_an_upgrade_on_a_kept_alive_connection() -> None:
    """workerd reuses upstream connections: the upgrade may follow a GET with a body."""

    async def scenario() -> bytes:
        received = bytearray()
        done = asyncio.Event()

        async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(65536):
                received.extend(data)
                if received.count(b"Upgrade: websocket") and b"hello" in received:
                    done.set()
            writer.close()

        up = await asyncio.start_server(upstream, "127.0.0.1", 0)
        up_port = up.sockets[0].getsockname()[1]

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await edge.relay(reader, writer, "127.0.0.1", up_port)

        front = await asyncio.start_server(handle, "127.0.0.1", 0)
        front_port = front.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", front_port)
        writer.write(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab\r\nc")
        writer.write(BROWSER_UPGRADE + b"hello")
        await writer.drain()
        await asyncio.wait_for(done.wait(), 5)
        writer.close()
        front.close()
        up.close()
        return bytes(received)

    received = asyncio.run(scenario())
    assert received.startswith(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab\r\nc")
    assert b"X-Forwarded-For: 203.0.113.10\r\n\r\nhello" in received
