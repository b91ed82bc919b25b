"""The command-line contract: create_sale and issue_tokens."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from plumbing.redis_clients import sync_redis
from sales.buyers import buyer_from_token
from sales.inventory import keys
from sales.models import Sale

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_sale_prints_its_id_last_and_loads_stock():
    lines = run("create_sale", "--title", "Phone", "--stock", "7", "--price", "9.50", "--limit-per-buyer", "2")
    sale = Sale.objects.get(pk=int(lines[-1]))
    assert (sale.title, sale.total_stock, str(sale.price), sale.limit_per_buyer) == ("Phone", 7, "9.50", 2)
    assert int(sync_redis().get(keys.stock(sale.pk))) == 7


@pytest.mark.parametrize(
    "args",
    [
        ["--stock", "-1", "--price", "1"],
        ["--stock", "1", "--price", "abc"],
        ["--stock", "1", "--price", "-3"],
        ["--stock", "1", "--price", "1", "--duration", "0"],
        ["--stock", "1", "--price", "1", "--limit-per-buyer", "0"],
    ],
)
def test_create_sale_refuses_bad_input_and_creates_nothing(args):
    with pytest.raises(CommandError):
        run("create_sale", "--title", "X", *args)
    assert not Sale.objects.exists()


def test_issue_tokens_prints_id_and_a_token_of_that_buyer():
    lines = run("issue_tokens", "--count", "25")
    assert len(lines) == 25
    for line in lines:
        buyer_id, token = line.split("\t")
        assert buyer_from_token(token) == int(buyer_id)
    assert len({line.split("\t")[0] for line in lines}) == 25
