from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live updates as an app of their own inside ``sales``, so that its command
    (``publish_stock``) lives beside the ticker it runs."""

    name = "sales.live"
    label = "live"
    verbose_name = "Live updates"
