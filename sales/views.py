"""Pages: the sale list, the buy page, guest sign-in (the buy itself is ``orders``')."""

import time

from django.contrib.auth import login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from sales import inventory
from sales.buyers import create_guest, mint_token
from sales.models import Sale
from sales.selectors import sale_snapshot


def _now_ms() -> int:
    return int(time.time() * 1000)


@require_GET
def sale_list(request):
    sales = list(Sale.objects.all()[:100])
    left = inventory.remaining([s.pk for s in sales])
    now = _now_ms()
    rows = [(sale, sale_snapshot(sale, left[sale.pk], now)) for sale in sales]
    return render(request, "sales/sale_list.html", {"rows": rows})


@require_GET
def buy_page(request, sale_id: int):
    sale = get_object_or_404(Sale, pk=sale_id)
    snapshot = sale_snapshot(sale, inventory.remaining([sale.pk])[sale.pk], _now_ms())
    token = mint_token(request.user.pk) if request.user.is_authenticated else None
    return render(request, "sales/buy.html", {"sale": sale, "snapshot": snapshot, "token": token})


@require_POST
def guest_sign_in(request):
    """One click: a new buyer account, signed in, back to the page it came from."""
    login(request, create_guest(), backend="django.contrib.auth.backends.ModelBackend")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("sales:list")
    return redirect(target)
