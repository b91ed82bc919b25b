"""Live updates over websockets: the sale's stock pushed to its viewers, a buyer's orders to the buyer.

- ``messages``: channel-layer group names and message shapes;
- ``presence``: who is watching (viewers per sale, buyers with a socket open);
- ``consumers`` / ``routing``: the websocket ``/ws/sales/<id>/``;
- ``ticker``: the one stock ticker of the site (``manage.py publish_stock``, in this app's
  ``management/commands``);
- ``push``: messages to buyers from outside a web process (the order worker).
"""
