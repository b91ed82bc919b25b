"""The Redis Cluster clients (``plumbing.redis_cluster``): slot routing and redirections, on the
real cluster of ``STACK_REDIS_CLUSTER=1 scripts/stack`` (the routing rules alone need none)."""

import asyncio

import pytest
from django.conf import settings
from redis.crc import key_slot

from plumbing.redis_clients import SlotPipelines, run_ids_of, sync_mget_across_slots, sync_redis
from plumbing.redis_cluster import PipelinedCluster, node_url, slot_of

pytestmark = pytest.mark.cluster

KEYS = [f"{{sale:{i}}}:stock" for i in range(1, 13)]


def test_a_command_is_routed_by_its_key_and_a_script_by_its_first():
    assert slot_of(("GET", "{sale:7}:stock")) == key_slot(b"sale:7")
    assert slot_of((b"HEXISTS", b"{sale:7}:buyers", b"3")) == key_slot(b"sale:7")
    assert slot_of(("EVALSHA", "ab12", 2, "{sale:9}:meta", "{sale:9}:stock", "x")) == key_slot(b"sale:9")
    assert slot_of(("EVAL", "return 1", 0)) == 0
    assert slot_of(("PING",)) == 0


def test_a_node_url_keeps_the_credentials():
    assert node_url("redis://u:p%40w@10.0.0.1:7001/0", "10.0.0.2:7003") == "redis://u:p%40w@10.0.0.2:7003/0"
    assert node_url("redis://10.0.0.1:7001", "10.0.0.2:7003") == "redis://10.0.0.2:7003/0"


@pytest.fixture
def cluster():
    if not settings.REDIS_CLUSTER:
        pytest.skip("needs the Redis Cluster: STACK_REDIS_CLUSTER=1 scripts/test -m cluster")
    return sync_redis()


def masters(cluster) -> dict[str, str]:
    """Node name ("host:port") -> node id, of every master."""
    return {n.name: cluster.cluster_myid(n) for n in cluster.get_primaries()}


def test_keys_of_many_sales_spread_over_every_master_and_read_back(cluster):
    for i, key in enumerate(KEYS):
        cluster.set(key, i)
    homes = {cluster.get_node_from_key(key).name for key in KEYS}
    assert homes == set(masters(cluster)), "twelve sales should land on all three masters"

    async def read():
        client = PipelinedCluster(settings.REDIS_URL)
        try:
            return await client.execute_many(*(("GET", key) for key in KEYS))
        finally:
            await client.close()

    assert asyncio.run(read()) == [str(i).encode() for i in range(len(KEYS))]
    assert sync_mget_across_slots(KEYS) == [str(i).encode() for i in range(len(KEYS))]
    assert len(set(run_ids_of(KEYS))) == 3


def test_scripts_in_pipelines_run_on_each_keys_master_in_order(cluster):
    script = cluster.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    pipes = SlotPipelines()
    for i, key in enumerate(KEYS):
        script(keys=[key], args=[i + 1], client=pipes.for_key(key))
    assert pipes.execute() == [i + 1 for i in range(len(KEYS))]


def test_a_stale_slot_map_is_mended_by_moved(cluster):
    """Every slot believed to be on one master: two thirds of the commands hear MOVED and go on."""

    async def scenario():
        client = PipelinedCluster(settings.REDIS_URL)
        try:
            await client.execute("PING")
            wrong = next(iter(masters(cluster)))
            client._owners = [wrong] * len(client._owners)
            values = await client.execute_many(*(("SET", key, "v") for key in KEYS))
            return values, {client._owners[key_slot(key.encode())] for key in KEYS}
        finally:
            await client.close()

    values, owners = asyncio.run(scenario())
    assert values == [b"OK"] * len(KEYS)
    assert owners == set(masters(cluster))


def test_a_slot_in_migration_is_followed_by_ask(cluster):
    """A slot half-way from one master to another: a key not yet on the source is written on the
    target, after ASKING; the slot is put back where it was afterwards."""
    key = "{sale:ask}:stock"
    slot = key_slot(b"sale:ask")
    source = cluster.get_node_from_key(key)
    target = next(n for n in cluster.get_primaries() if n.name != source.name)
    source_id, target_id = cluster.cluster_myid(source), cluster.cluster_myid(target)
    on_source, on_target = cluster.get_redis_connection(source), cluster.get_redis_connection(target)
    on_target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    on_source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    try:

        async def write():
            client = PipelinedCluster(settings.REDIS_URL)
            try:
                return await client.execute("SET", key, "moved-in")
            finally:
                await client.close()

        assert asyncio.run(write()) == b"OK"  # the source answered ASK (it has no such key)
        pipe = on_target.pipeline(transaction=False)
        pipe.execute_command("ASKING")
        pipe.get(key)
        assert pipe.execute()[1] == b"moved-in"
        pipe = on_target.pipeline(transaction=False)
        pipe.execute_command("ASKING")
        pipe.delete(key)
        pipe.execute()
    finally:
        for node in (on_source, on_target):
            node.execute_command("CLUSTER", "SETSLOT", slot, "STABLE")
