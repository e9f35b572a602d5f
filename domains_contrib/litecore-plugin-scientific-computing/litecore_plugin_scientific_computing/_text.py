"""Small helpers shared by the families: seeded phrasing and rule lists.

Kept here (not in the core) because only instruction wording needs them; every
choice goes through the request's own ``random.Random`` so drafts stay pure.
"""

from __future__ import annotations


