"""Plumbing: the project's connections to Redis, Kafka and HTTP, knowing nothing of sales or orders.

Why a package of its own: the domain apps (``sales``, ``orders``) and the project
(``seckill_site``) all need the same clients, the same Kafka settings and the same
worker loop. Kept here, they import it and it imports none of them, so the arrows
between the top-level packages run one way (``seckill_site/tests/test_layout.py``).
"""
