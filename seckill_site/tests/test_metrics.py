"""``GET /metrics`` adds up every process: two web workers and the order worker, one directory."""

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import LiveSite, OrderConsumerProcess, wait_until
from orders.tests.groups import fresh_group
from sales.buyers import create_buyers, mint_token
from sales.tests.factories import SaleFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def scrape(site) -> dict[tuple[str, tuple], float]:
    text = httpx.get(f"{site.url}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def crowd(url: str, sale_id: int, tokens: list[str]) -> list[int]:
    async def buy(token):
        # a connection each, so that both workers take some
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            r = await client.post(f"/api/sales/{sale_id}/buy", headers={"Authorization": f"Bearer {token}"})
            return r.status_code

    return await asyncio.gather(*(buy(t) for t in tokens))


def test_buy_counters_add_up_over_two_web_processes_and_the_worker(tmp_path, kafka_topics):
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    sale = SaleFactory(total_stock=40)
    tokens = [mint_token(b) for b in create_buyers(60)]
    group, _ = fresh_group()
    consumer = OrderConsumerProcess("--group", group, **env)
    site = LiveSite(workers=2, **env)
    try:
        codes = asyncio.run(crowd(site.url, sale.pk, tokens))
        assert sorted(set(codes)) == [201, 409] and codes.count(201) == 40
        writers = {p.name.rsplit("_", 1)[1] for p in Path(tmp_path).glob("counter_*.db")}
        assert len(writers) >= 3, writers  # both web workers and the consumer wrote samples

        wait_until(lambda: scrape(site).get(("seckill_orders_written_total", ())) == 40, 30, consumer.output)
        expected = {
            ("seckill_buy_answers_total", (("status", "reserved"),)): 40,
            ("seckill_buy_answers_total", (("status", "sold_out"),)): 20,
            ("seckill_buy_latency_seconds_count", ()): 60,
            ("seckill_kafka_ack_seconds_count", ()): 40,
        }
        # the other worker's buy-path samples reach its file within FLUSH_EVERY (1 s) of its last answer
        wait_until(lambda: all(scrape(site).get(k) == v for k, v in expected.items()), 5, lambda: str(scrape(site)))
        assert scrape(site)[("seckill_consumer_batch_seconds_count", ())] >= 1
    finally:
        site.stop()
        consumer.stop()
