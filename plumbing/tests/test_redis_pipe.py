"""The hot path's pipelined Redis client against the real Redis."""

import asyncio

import pytest
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from plumbing import redis_pipe
from plumbing.redis_clients import sync_redis
from plumbing.redis_pipe import PipelinedRedis


def run(coro):
    return asyncio.run(coro)


def test_concurrent_commands_share_one_connection_and_get_their_own_replies():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        values = await asyncio.gather(*(client.execute("INCRBY", "pipe:n", i) for i in range(1, 501)))
        gets = await asyncio.gather(*(client.execute("ECHO", f"m{i}") for i in range(500)))
        ids = await asyncio.gather(*(client.execute("CLIENT", "ID") for _ in range(50)))
        await client.close()
        return values, gets, ids

    values, gets, ids = run(scenario())
    # each INCRBY saw every earlier one: the replies came back in order, one per caller
    assert values == [i * (i + 1) // 2 for i in range(1, 501)]
    assert gets == [f"m{i}".encode() for i in range(500)]
    assert len(set(ids)) == 1


def test_the_url_database_is_selected():
    db = int(settings.REDIS_URL.rsplit("/", 1)[1])
    assert db != 0

    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        await client.set("pipe:db", "here", ex=60)
        await client.close()

    run(scenario())
    assert sync_redis().get("pipe:db") == b"here"


def test_an_error_reply_goes_to_its_caller_only():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        ok1 = client.execute("SET", "pipe:a", "1")
        bad = client.execute("INCR", "pipe:a-list-not", "extra-arg")
        ok2 = client.execute("GET", "pipe:a")
        results = await asyncio.gather(ok1, bad, ok2, return_exceptions=True)
        await client.close()
        return results

    ok1, bad, ok2 = run(scenario())
    assert ok1 == b"OK" and ok2 == b"1"
    assert isinstance(bad, ResponseError)


def test_a_cancelled_caller_does_not_shift_the_replies():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        await client.execute("PING")
        slow = asyncio.ensure_future(client.execute("BLPOP", "pipe:empty", "0.2"))
        after = asyncio.ensure_future(client.execute("ECHO", "mine"))
        await asyncio.sleep(0.05)
        slow.cancel()
        return await after, await client.execute("ECHO", "next")

    assert run(scenario()) == (b"mine", b"next")


def test_scripts_are_loaded_again_when_redis_forgot_them():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        script = client.register_script("return {KEYS[1], ARGV[1]}")
        first = await script(keys=["k"], args=["v"])
        await client.execute("SCRIPT", "FLUSH")
        second = await script(keys=["k2"], args=["v2"])
        return first, second

    assert run(scenario()) == ([b"k", b"v"], [b"k2", b"v2"])


def test_a_lost_connection_fails_what_was_waiting_and_the_next_command_reconnects():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        victim = await client.execute("CLIENT", "ID")
        waiting = asyncio.ensure_future(client.execute("BLPOP", "pipe:never", "5"))
        await asyncio.sleep(0.05)
        assert sync_redis().client_kill_filter(_id=victim) == 1
        with pytest.raises(RedisConnectionError):
            await waiting
        return await client.execute("ECHO", "again")

    assert run(scenario()) == b"again"


def test_an_unreachable_redis_is_a_connection_error():
    async def scenario():
        client = PipelinedRedis("redis://127.0.0.1:1/1")
        with pytest.raises(RedisConnectionError):
            await client.execute("PING")

    run(scenario())


def test_only_idempotent_commands_are_sent_again_after_a_lost_connection():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        victim = await client.execute("CLIENT", "ID")
        sync_redis().client_kill_filter(_id=victim)  # the loop has not seen the close yet
        with pytest.raises(RedisConnectionError):
            await client.execute("INCR", "pipe:once")
        victim = await client.execute("CLIENT", "ID")
        sync_redis().client_kill_filter(_id=victim)
        assert await client.set("pipe:again", "1", ex=60) == b"OK"

    run(scenario())
    r = sync_redis()
    assert r.get("pipe:once") is None and r.get("pipe:again") == b"1"


def test_a_command_left_unanswered_aborts_the_connection(monkeypatch):
    monkeypatch.setattr(redis_pipe, "COMMAND_TIMEOUT", 0.2)

    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RedisConnectionError):
            await client.execute("BLPOP", "pipe:never", "3")
        return loop.time() - started, await client.execute("ECHO", "fresh")

    waited, fresh = run(scenario())
    assert waited < 1.0 and fresh == b"fresh"


def test_a_refused_hello_is_an_error_every_time():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL.replace("redis://", "redis://:wrong-password@"))
        for _ in range(3):
            with pytest.raises(ResponseError):
                await client.execute("PING")

    run(scenario())


def test_server_id_is_the_run_id_of_the_server_the_command_went_to():
    async def scenario():
        client = PipelinedRedis(settings.REDIS_URL)
        echoed = await client.execute("ECHO", redis_pipe.SERVER_ID)
        await client.close()
        return echoed

    assert run(scenario()).decode() == sync_redis().info("server")["run_id"]
