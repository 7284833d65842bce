"""The NBS data portal as a source (`provpanel fetch`): the query client (client.py), the
indicator tree and the reviewed code mapping (tree.py), and writing a new edition (fetch.py).
The portal's interface is described in PORTAL.md; its address is PROVPANEL_PORTAL_URL."""
